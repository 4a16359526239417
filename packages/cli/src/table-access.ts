import type { SqlExecutor, StoredTable } from '@fieldseal/core';
import { CliError, databaseError, detailOf } from './errors.js';
import { Params, qualified, quoteIdent } from './sql-dialect.js';

/** How a primary-key value is kept as text in the lease table, and turned back. */
export type KeyKind = 'number' | 'bigint' | 'string';

/** A primary-key value as text plus its kind. */
export function keyToText(value: unknown): { kind: KeyKind; text: string } {
  if (typeof value === 'number') return { kind: 'number', text: String(value) };
  if (typeof value === 'bigint') return { kind: 'bigint', text: value.toString() };
  if (typeof value === 'string') return { kind: 'string', text: value };
  throw new CliError('unsupported-table', `Primary-key values of type ${typeof value} are not supported`);
}

/** The inverse of {@link keyToText}. */
export function keyFromText(kind: KeyKind, text: string): unknown {
  if (kind === 'number') return Number(text);
  if (kind === 'bigint') return BigInt(text);
  return text;
}

// Keys per `IN (…)` list, well under every dialect's parameter limit (SQLite: 32,766).
const KEYS_PER_READ = 10_000;

/** A half-open key range `[lo, hi)`; `null` ends are unbounded. `after` resumes past a key. */
export interface KeyRange {
  readonly lo: unknown;
  readonly hi: unknown;
  readonly after: unknown;
}

/** SQL for one stored table: its names, checked against the database, and its batch reads. */
export class TableAccess {
  readonly name: string;
  readonly key: string;
  readonly columnNames: readonly string[];
  /** PostgreSQL types by column (for casts); empty on other dialects. */
  pgTypes: ReadonlyMap<string, string> = new Map();

  constructor(
    readonly executor: SqlExecutor,
    readonly table: StoredTable,
  ) {
    if (table.primaryKey.length !== 1) {
      throw new CliError(
        'unsupported-table',
        `Model ${table.model} has a composite primary key (${table.primaryKey.join(', ')}); the CLI needs a single-column key`,
        { location: { table: table.table } },
      );
    }
    this.name = qualified(executor.dialect, table.table, table.schema);
    this.key = table.primaryKey[0] as string;
    this.columnNames = [
      this.key,
      table.dataKeyColumn,
      ...(table.tenantColumn ? [table.tenantColumn] : []),
      ...table.columns.flatMap((c) => [c.column, ...(c.blindIndex ? [c.blindIndex.column] : [])]),
    ];
  }

  q(name: string): string {
    return quoteIdent(this.executor.dialect, name);
  }

  /** Checks the table and every column exist (a clear message instead of a failure mid-run). */
  async check(): Promise<void> {
    const list = this.columnNames.map((c) => this.q(c)).join(', ');
    try {
      await this.executor.query(`SELECT ${list} FROM ${this.name} WHERE 1 = 0`);
    } catch (cause) {
      const detail = detailOf(cause);
      throw new CliError(
        'invalid-config',
        `Model ${this.table.model}: table ${this.name} or one of its columns (${this.columnNames.join(', ')}) is missing: ${detail}`,
        { cause, location: { table: this.table.table } },
      );
    }
    if (this.executor.dialect === 'postgres') {
      const rows = await this.executor.query<{ name: string; type: string }>(
        'SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type FROM pg_attribute a WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped',
        [this.name],
      );
      this.pgTypes = new Map(rows.map((row) => [row.name, row.type]));
    }
  }

  /** The columns batch reads select: all of {@link columnNames}, or only key, data key and tenant. */
  #selectList(keysOnly: boolean): string {
    const columns = keysOnly
      ? [this.key, this.table.dataKeyColumn, ...(this.table.tenantColumn ? [this.table.tenantColumn] : [])]
      : this.columnNames;
    return columns.map((c) => this.q(c)).join(', ');
  }

  /** Rows in the table. */
  async count(): Promise<number> {
    const rows = await this.executor.query<{ n: unknown }>(`SELECT COUNT(*) AS n FROM ${this.name}`);
    return Number(rows[0]?.n ?? 0);
  }

  /** Smallest and largest key and the row count. */
  async bounds(): Promise<{ min: unknown; max: unknown; count: number }> {
    const k = this.q(this.key);
    const rows = await this.executor.query<{ lo: unknown; hi: unknown; n: unknown }>(
      `SELECT MIN(${k}) AS lo, MAX(${k}) AS hi, COUNT(*) AS n FROM ${this.name}`,
    );
    const row = rows[0];
    return { min: row?.lo ?? null, max: row?.hi ?? null, count: Number(row?.n ?? 0) };
  }

  /** The key at `offset` in key order (chunk boundaries of non-numeric keys). */
  async keyAt(offset: number): Promise<unknown> {
    const k = this.q(this.key);
    const rows = await this.executor.query<Record<string, unknown>>(
      `SELECT ${k} AS k FROM ${this.name} ORDER BY ${k} LIMIT 1 OFFSET ${Math.floor(offset)}`,
    );
    return rows[0]?.k ?? null;
  }

  /**
   * SQL selecting every row that may hold plaintext: a superset of what `isEncryptedValue`
   * calls plaintext (text columns not matching `^fs<1-3 digits>:`; any non-null binary column,
   * checked in JS), so the check after a migrate reads only candidates, not the whole table.
   */
  plaintextCandidates(): string {
    const dialect = this.executor.dialect;
    const notCiphertext = (column: string) => {
      const c = this.q(column);
      if (dialect === 'postgres') return `${c} !~ '^fs[0-9]{1,3}:'`;
      if (dialect === 'mysql') return `${c} NOT REGEXP '^fs[0-9]{1,3}:'`;
      return `NOT (${c} GLOB 'fs[0-9]:*' OR ${c} GLOB 'fs[0-9][0-9]:*' OR ${c} GLOB 'fs[0-9][0-9][0-9]:*')`;
    };
    return this.table.columns
      .map((column) =>
        column.output === 'binary' || this.pgTypes.get(column.column) === 'bytea'
          ? `${this.q(column.column)} IS NOT NULL`
          : `(${this.q(column.column)} IS NOT NULL AND ${notCiphertext(column.column)})`,
      )
      .join(' OR ');
  }

  /**
   * Reads up to `limit` rows of `range` in key order: the key and data-key columns, plus the
   * encrypted and blind-index columns unless `keysOnly`; only rows matching `filter` (SQL) if given.
   */
  async readBatch(
    executor: SqlExecutor,
    range: KeyRange,
    limit: number,
    keysOnly = false,
    filter?: string,
  ): Promise<Record<string, unknown>[]> {
    const params = new Params(executor.dialect);
    const keyType = this.pgTypes.get(this.key);
    const k = this.q(this.key);
    const where: string[] = [];
    if (range.after !== null && range.after !== undefined)
      where.push(`${k} > ${params.add(range.after, keyType)}`);
    else if (range.lo !== null && range.lo !== undefined)
      where.push(`${k} >= ${params.add(range.lo, keyType)}`);
    if (range.hi !== null && range.hi !== undefined) where.push(`${k} < ${params.add(range.hi, keyType)}`);
    if (filter) where.push(`(${filter})`);
    const sql = `SELECT ${this.#selectList(keysOnly)} FROM ${this.name}${
      where.length ? ` WHERE ${where.join(' AND ')}` : ''
    } ORDER BY ${k} LIMIT ${Math.floor(limit)}`;
    try {
      return await executor.query<Record<string, unknown>>(sql, params.values);
    } catch (cause) {
      throw databaseError(cause, `reading ${this.table.model}`, this.table.table);
    }
  }

  /**
   * Reads the rows with these keys (columns as {@link readBatch}); rows deleted since are left
   * out. With `lock`, a locking read (`FOR UPDATE`) where the dialect has one: inside a
   * transaction, the rows then cannot change again before its writes.
   */
  async readByKeys(
    executor: SqlExecutor,
    keys: readonly unknown[],
    keysOnly = false,
    lock = false,
  ): Promise<Record<string, unknown>[]> {
    if (keys.length > KEYS_PER_READ) {
      const rows: Record<string, unknown>[] = [];
      for (let i = 0; i < keys.length; i += KEYS_PER_READ)
        rows.push(...(await this.readByKeys(executor, keys.slice(i, i + KEYS_PER_READ), keysOnly, lock)));
      return rows;
    }
    if (keys.length === 0) return [];
    const params = new Params(executor.dialect);
    const keyType = this.pgTypes.get(this.key);
    const list = keys.map((key) => params.add(key, keyType)).join(', ');
    const forUpdate = lock && executor.dialect !== 'sqlite' ? ' FOR UPDATE' : '';
    const sql = `SELECT ${this.#selectList(keysOnly)} FROM ${this.name} WHERE ${this.q(this.key)} IN (${list}) ORDER BY ${this.q(this.key)}${forUpdate}`;
    try {
      return await executor.query<Record<string, unknown>>(sql, params.values);
    } catch (cause) {
      throw databaseError(cause, `reading ${this.table.model}`, this.table.table);
    }
  }
}
