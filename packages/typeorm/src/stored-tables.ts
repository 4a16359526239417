import { ConfigError, type SqlDialect, type SqlExecutor, type StoredTable } from '@fieldseal/core';
import type { DataSource, QueryRunner } from 'typeorm';
import { planEntity } from './entity-plan.js';

/**
 * The entities of a data source that declare encrypted columns, as stored tables for the
 * `fieldseal` CLI: table and column names exactly as this adapter binds them, and each
 * `@BlindIndex()`'s `normalize`. The data source must be initialized.
 *
 * @example
 * await dataSource.initialize();
 * const tables = storedTables(dataSource);
 */
export function storedTables(dataSource: DataSource): StoredTable[] {
  if (!dataSource?.isInitialized)
    throw new ConfigError('dataSource', 'initialize the data source before calling storedTables');
  const tables: StoredTable[] = [];
  for (const metadata of dataSource.entityMetadatas) {
    const plan = planEntity(metadata);
    if (!plan || plan.encrypted.size === 0) continue;
    const schema = metadata.schema ?? (dataSource.options as { schema?: string }).schema;
    tables.push(
      Object.freeze({
        model: plan.entity,
        table: plan.table,
        ...(schema && dialectOf(dataSource) === 'postgres' ? { schema } : {}),
        primaryKey: metadata.primaryColumns.map((column) => column.databaseName),
        dataKeyColumn: plan.dataKey.column,
        ...(plan.tenant ? { tenantColumn: plan.tenant.column } : {}),
        columns: [...plan.encrypted.values()].map((field) => {
          const index = plan.indexBySource.get(field.property);
          return {
            field: field.property,
            column: field.column,
            output: field.output,
            ...(index
              ? {
                  blindIndex: {
                    field: index.property,
                    column: index.column,
                    ...(index.normalize ? { normalize: index.normalize } : {}),
                  },
                }
              : {}),
          };
        }),
      }),
    );
  }
  return tables;
}

function dialectOf(dataSource: DataSource): SqlDialect {
  const type = String(dataSource.options.type);
  if (type === 'postgres' || type === 'cockroachdb') return 'postgres';
  if (type === 'mysql' || type === 'mariadb') return 'mysql';
  if (type.includes('sqlite')) return 'sqlite';
  throw new ConfigError('dataSource', `database type ${type} is not supported by the fieldseal CLI`);
}

async function run(runner: QueryRunner, sql: string, params: readonly unknown[]) {
  return runner.query(sql, [...params], true) as Promise<{ records: unknown[]; affected?: number }>;
}

// SQLite data sources share one connection: transactions from parallel workers must take turns.
const sqliteTurns = new WeakMap<DataSource, Promise<unknown>>();

/**
 * Plain SQL over a data source's own pool, through TypeORM query runners, for the `fieldseal`
 * CLI. Each transaction gets its own runner (connection); SQLite transactions take turns.
 *
 * @example
 * const executor = sqlExecutor(dataSource);
 */
export function sqlExecutor(dataSource: DataSource): SqlExecutor {
  if (!dataSource?.isInitialized)
    throw new ConfigError('dataSource', 'initialize the data source before calling sqlExecutor');
  const dialect = dialectOf(dataSource);
  const over = (runner: QueryRunner | undefined): SqlExecutor => ({
    dialect,
    query: async <T>(sql: string, params: readonly unknown[] = []) => {
      const own = runner ?? dataSource.createQueryRunner();
      try {
        return (await run(own, sql, params)).records as T[];
      } finally {
        if (!runner) await own.release();
      }
    },
    execute: async (sql, params = []) => {
      const own = runner ?? dataSource.createQueryRunner();
      try {
        return Number((await run(own, sql, params)).affected ?? 0);
      } finally {
        if (!runner) await own.release();
      }
    },
    transaction: async <T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> => {
      if (runner) return fn(over(runner));
      const work = async (): Promise<T> => {
        const own = dataSource.createQueryRunner();
        await own.connect();
        await own.startTransaction();
        try {
          const result = await fn(over(own));
          await own.commitTransaction();
          return result;
        } catch (error) {
          if (own.isTransactionActive) await own.rollbackTransaction().catch(() => undefined);
          throw error;
        } finally {
          await own.release();
        }
      };
      if (dialect !== 'sqlite') return work();
      const previous = sqliteTurns.get(dataSource) ?? Promise.resolve();
      const next = previous.catch(() => undefined).then(work);
      sqliteTurns.set(dataSource, next);
      return next;
    },
  });
  return over(undefined);
}
