import { ConfigError } from './errors.js';

/**
 * The ORM-agnostic description of how an adapter stores one model, used by tools that work on
 * stored rows directly (the `fieldseal` CLI: migrate, rotate, verify). Adapters produce it
 * (`storedTables(...)` in `@fieldseal/prisma` and `@fieldseal/typeorm`); names here are the
 * database's, exactly as the adapter binds them into values and data keys.
 */
export interface StoredEncryptedColumn {
  /** The model's field (property) name, for messages. */
  readonly field: string;
  /** The database column; bound into each value's AAD. */
  readonly column: string;
  /** How the ciphertext is stored: `text` (`fs1:…`) or `binary` (bytes). */
  readonly output: 'text' | 'binary';
  /** The blind index of this column, if it has one. */
  readonly blindIndex?: {
    readonly field: string;
    readonly column: string;
    /** Applied to the plaintext text before hashing, exactly as the adapter does. */
    readonly normalize?: (text: string) => string;
  };
}

/** One model's stored table. */
export interface StoredTable {
  /** The model (entity) name, as users name it on the command line. */
  readonly model: string;
  /** The table's name in SQL (and, unless `binding` says otherwise, its encryption name). */
  readonly table: string;
  /**
   * The model's encryption name: bound into every value's AAD, every blind-index value and every
   * data key's `fieldseal:table` context. Defaults to `table`. Pin it to today's table name
   * before renaming the table, so existing rows keep opening (see docs/rebind.md).
   */
  readonly binding?: string;
  /** The schema holding the table, when it is not the connection's default (PostgreSQL). */
  readonly schema?: string;
  /** Database columns of the primary key. Tools working row by row need exactly one. */
  readonly primaryKey: readonly string[];
  /** The column holding the row's wrapped data key (`fsk1:…`). */
  readonly dataKeyColumn: string;
  /**
   * The plaintext column naming each row's tenant, for models scoped to a tenant: its value
   * (as text) is passed as `tenant` to every encrypt and decrypt (docs/tenants.md).
   */
  readonly tenantColumn?: string;
  /** The encrypted columns. */
  readonly columns: readonly StoredEncryptedColumn[];
}

/** The name a stored table's values and data keys are bound to: `binding`, else `table`. */
export function bindingOf(table: Pick<StoredTable, 'table' | 'binding'>): string {
  return table.binding ?? table.table;
}

/** SQL dialects the stored-table tools generate SQL for. */
export type SqlDialect = 'postgres' | 'mysql' | 'sqlite';

/**
 * Runs plain SQL on the application's own connection. Placeholders are the dialect's own:
 * `$1, $2…` on PostgreSQL, `?` on MySQL/MariaDB and SQLite.
 */
export interface SqlExecutor {
  readonly dialect: SqlDialect;
  /** Runs a statement returning rows. */
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Runs a statement and returns the number of rows it affected. */
  execute(sql: string, params?: readonly unknown[]): Promise<number>;
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
}

const DIALECTS: readonly SqlDialect[] = ['postgres', 'mysql', 'sqlite'];

/** True when `value` names a supported dialect. */
export function isSqlDialect(value: unknown): value is SqlDialect {
  return DIALECTS.includes(value as SqlDialect);
}

/**
 * Checks a list of stored tables (unique models, non-empty names, a data-key column, no column
 * used twice) and throws a `ConfigError` naming the model and what is wrong.
 */
export function assertStoredTables(tables: unknown, option = 'tables'): asserts tables is StoredTable[] {
  if (!Array.isArray(tables)) throw new ConfigError(option, 'expected an array of stored tables');
  const models = new Set<string>();
  tables.forEach((table: Partial<StoredTable>, index) => {
    const where = `${option}[${index}]`;
    const name = (value: unknown, what: string) => {
      if (typeof value !== 'string' || value.length === 0)
        throw new ConfigError(where, `${what} must be a non-empty string`);
    };
    if (!table || typeof table !== 'object') throw new ConfigError(where, 'expected an object');
    name(table.model, 'model');
    name(table.table, `table (model ${table.model})`);
    if (table.binding !== undefined) name(table.binding, `binding (model ${table.model})`);
    name(table.dataKeyColumn, `dataKeyColumn (model ${table.model})`);
    if (models.has(table.model as string))
      throw new ConfigError(where, `model ${table.model} is listed twice`);
    models.add(table.model as string);
    if (!Array.isArray(table.primaryKey) || table.primaryKey.length === 0)
      throw new ConfigError(where, `primaryKey of model ${table.model} must list its column(s)`);
    if (!Array.isArray(table.columns))
      throw new ConfigError(where, `columns of model ${table.model} must be an array`);
    if (table.tenantColumn !== undefined) name(table.tenantColumn, `tenantColumn (model ${table.model})`);
    const used = new Set<string>([
      ...table.primaryKey,
      table.dataKeyColumn as string,
      ...(table.tenantColumn === undefined ? [] : [table.tenantColumn]),
    ]);
    for (const column of table.columns as StoredEncryptedColumn[]) {
      name(column?.column, `an encrypted column of model ${table.model}`);
      if (column.output !== 'text' && column.output !== 'binary')
        throw new ConfigError(
          where,
          `column ${column.column} of model ${table.model}: output must be text or binary`,
        );
      const own = [column.column, ...(column.blindIndex ? [column.blindIndex.column] : [])];
      for (const each of own) {
        if (used.has(each))
          throw new ConfigError(where, `column ${each} of model ${table.model} is used twice`);
        used.add(each);
      }
    }
  });
}
