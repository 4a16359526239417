import {
  ConfigError,
  isSqlDialect,
  type SqlDialect,
  type SqlExecutor,
  type StoredTable,
} from '@fieldseal/core';
import { EncryptionSchema } from './encryption-schema.js';
import type { FieldEncryptionMetadata } from './metadata.js';

/** Options of {@link storedTables}. */
export interface StoredTablesOptions {
  /** The PostgreSQL schema of the tables when it is not the connection's default (raw SQL ignores the adapter's `schema`). */
  readonly schema?: string;
}

/**
 * The encrypted models of a Prisma schema as stored tables, for the `fieldseal` CLI: table and
 * column names exactly as this adapter binds them into values and data keys.
 *
 * @example
 * import { fieldEncryptionMetadata } from './generated/fieldseal/metadata.js';
 * const tables = storedTables(fieldEncryptionMetadata);
 */
export function storedTables(
  metadata: FieldEncryptionMetadata,
  options: StoredTablesOptions = {},
): StoredTable[] {
  const schema = new EncryptionSchema(metadata);
  const tables: StoredTable[] = [];
  for (const model of schema.models) {
    if (model.encrypted.size === 0 || model.dataKey === undefined) continue;
    const renamed = metadata.models[model.name]?.columns ?? {};
    const column = (field: string) => renamed[field] ?? field;
    tables.push(
      Object.freeze({
        model: model.name,
        table: model.table,
        ...(options.schema ? { schema: options.schema } : {}),
        primaryKey: model.idFields.map(column),
        dataKeyColumn: column(model.dataKey),
        ...(model.tenant === undefined ? {} : { tenantColumn: column(model.tenant) }),
        columns: [...model.encrypted.values()].map((field) => ({
          field: field.name,
          column: field.column,
          output: field.binary ? ('binary' as const) : ('text' as const),
          ...(field.blindIndex
            ? {
                blindIndex: {
                  field: field.blindIndex,
                  column: column(field.blindIndex),
                  ...(field.normalize ? { normalize: field.normalize } : {}),
                },
              }
            : {}),
        })),
      }),
    );
  }
  return tables;
}

/** The parts of a Prisma Client the executor uses (structural: any generated client fits). */
export interface PrismaRawClient {
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): PromiseLike<T>;
  $executeRawUnsafe(query: string, ...values: unknown[]): PromiseLike<number>;
}

/** Options of {@link sqlExecutor}. */
export interface SqlExecutorOptions {
  /** The database dialect. Defaults to the client's provider (`postgresql` → `postgres`). */
  readonly dialect?: SqlDialect;
  /** Interactive transaction limits in milliseconds. Defaults to `{ maxWait: 30_000, timeout: 120_000 }`. */
  readonly transactionOptions?: { readonly maxWait?: number; readonly timeout?: number };
}

type TransactionClient = PrismaRawClient & {
  $transaction?: <T>(fn: (tx: PrismaRawClient) => Promise<T>, options?: object) => Promise<T>;
};

/** The database of a Prisma Client (its driver adapter's provider), or `undefined` when it does not say. */
export function providerOf(client: object): SqlDialect | undefined {
  const c = client as {
    _engineConfig?: { activeProvider?: string; adapter?: { provider?: string } };
    _activeProvider?: string;
  };
  const provider = c._engineConfig?.adapter?.provider ?? c._engineConfig?.activeProvider ?? c._activeProvider;
  if (provider === 'postgresql' || provider === 'postgres') return 'postgres';
  if (provider === 'mysql' || provider === 'sqlite') return provider;
  return undefined;
}

/**
 * Plain SQL over a Prisma Client's own connection (`$queryRawUnsafe`, `$executeRawUnsafe`,
 * interactive `$transaction`), for the `fieldseal` CLI. Raw queries bypass the fieldseal
 * extension, so the base client and the extended one both work.
 *
 * @example
 * const executor = sqlExecutor(prisma, { dialect: 'postgres' });
 */
export function sqlExecutor(client: PrismaRawClient, options: SqlExecutorOptions = {}): SqlExecutor {
  if (!client || typeof client.$queryRawUnsafe !== 'function')
    throw new ConfigError('client', 'expected a Prisma Client');
  const dialect = options.dialect ?? providerOf(client);
  if (!isSqlDialect(dialect))
    throw new ConfigError(
      'dialect',
      'cannot tell the database from this client; pass { dialect: "postgres" | "mysql" | "sqlite" }',
    );
  const limits = { maxWait: 30_000, timeout: 120_000, ...options.transactionOptions };
  const make = (raw: TransactionClient, inTransaction: boolean): SqlExecutor => ({
    dialect,
    query: async <T>(sql: string, params: readonly unknown[] = []) =>
      (await raw.$queryRawUnsafe<T[]>(sql, ...params)) as T[],
    execute: async (sql, params = []) => Number(await raw.$executeRawUnsafe(sql, ...params)),
    transaction: async <T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> => {
      if (inTransaction) return fn(make(raw, true));
      const begin = (client as TransactionClient).$transaction;
      if (typeof begin !== 'function') throw new ConfigError('client', 'the client has no $transaction');
      return begin.call(client, (tx: PrismaRawClient) => fn(make(tx, true)), limits) as Promise<T>;
    },
  });
  return make(client, false);
}
