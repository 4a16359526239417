import type { SqlDialect } from '@fieldseal/core';

/** Quotes an identifier for `dialect` (doubling any quote character inside it). */
export function quoteIdent(dialect: SqlDialect, name: string): string {
  return dialect === 'mysql' ? `\`${name.replaceAll('`', '``')}\`` : `"${name.replaceAll('"', '""')}"`;
}

/** A schema-qualified, quoted table name. */
export function qualified(dialect: SqlDialect, table: string, schema?: string): string {
  const name = quoteIdent(dialect, table);
  return schema ? `${quoteIdent(dialect, schema)}.${name}` : name;
}

/** `a` equals `b`, NULL equal to NULL: the optimistic guard's comparison. */
export function nullSafeEquals(dialect: SqlDialect, a: string, b: string): string {
  if (dialect === 'postgres') return `${a} IS NOT DISTINCT FROM ${b}`;
  if (dialect === 'mysql') return `${a} <=> ${b}`;
  return `${a} IS ${b}`;
}

/**
 * Collects statement parameters and hands out the dialect's placeholders (`$n` on PostgreSQL,
 * with an optional cast so untyped parameters compare with typed columns; `?` elsewhere).
 */
export class Params {
  readonly values: unknown[] = [];
  constructor(readonly dialect: SqlDialect) {}

  add(value: unknown, pgType?: string): string {
    this.values.push(value);
    if (this.dialect !== 'postgres') return '?';
    return pgType ? `$${this.values.length}::${pgType}` : `$${this.values.length}`;
  }
}

/** `INSERT` that does nothing when the key exists. */
export function insertIgnore(
  dialect: SqlDialect,
  table: string,
  columns: string[],
  values: string[],
): string {
  const cols = columns.map((c) => quoteIdent(dialect, c)).join(', ');
  if (dialect === 'mysql') return `INSERT IGNORE INTO ${table} (${cols}) VALUES (${values.join(', ')})`;
  return `INSERT INTO ${table} (${cols}) VALUES (${values.join(', ')}) ON CONFLICT DO NOTHING`;
}

/** One row's guarded write: set these columns where the guard columns still hold these values. */
export interface GuardedWrite {
  readonly key: unknown;
  readonly set: readonly unknown[];
  readonly guard: readonly unknown[];
}

/** Column lists (and PostgreSQL types) shared by every write of one batched update. */
export interface BatchShape {
  readonly table: string;
  readonly keyColumn: string;
  readonly setColumns: readonly string[];
  readonly guardColumns: readonly string[];
  /** PostgreSQL column types by column name (for parameter casts). */
  readonly pgTypes?: ReadonlyMap<string, string>;
}

/**
 * One UPDATE statement that writes many rows, each guarded by "its guard columns still hold
 * the values read" (so a concurrent write is never overwritten): `UPDATE … FROM unnest(…)`
 * on PostgreSQL, `WITH v AS (VALUES …) UPDATE … FROM v` on SQLite, a join on a derived table on
 * MySQL/MariaDB. Returns the SQL and its parameters; affected rows = rows written.
 */
export function batchedGuardedUpdate(
  dialect: SqlDialect,
  shape: BatchShape,
  writes: readonly GuardedWrite[],
): { sql: string; params: unknown[] } {
  const q = (name: string) => quoteIdent(dialect, name);
  if (dialect === 'postgres') return postgresUnnestUpdate(shape, writes);
  const params = new Params(dialect);
  const type = (column: string) => shape.pgTypes?.get(column);
  const names = [
    'k',
    ...shape.setColumns.map((_, i) => `s${i}`),
    ...shape.guardColumns.map((_, i) => `g${i}`),
  ];
  const rows = writes.map((write) => [
    params.add(write.key, type(shape.keyColumn)),
    ...write.set.map((value, i) => params.add(value, type(shape.setColumns[i] as string))),
    ...write.guard.map((value, i) => params.add(value, type(shape.guardColumns[i] as string))),
  ]);
  const guards = shape.guardColumns.map((column, i) => nullSafeEquals(dialect, `t.${q(column)}`, `v.g${i}`));
  if (dialect === 'mysql') {
    const derived = rows
      .map((row, r) =>
        r === 0
          ? `SELECT ${row.map((p, i) => `${p} AS ${names[i]}`).join(', ')}`
          : `SELECT ${row.join(', ')}`,
      )
      .join(' UNION ALL ');
    const sets = shape.setColumns.map((column, i) => `t.${q(column)} = v.s${i}`).join(', ');
    return {
      sql: `UPDATE ${shape.table} AS t JOIN (${derived}) AS v ON t.${q(shape.keyColumn)} = v.k SET ${sets} WHERE ${guards.join(' AND ')}`,
      params: params.values,
    };
  }
  const sets = shape.setColumns.map((column, i) => `${q(column)} = v.s${i}`).join(', ');
  const values = rows.map((row) => `(${row.join(', ')})`).join(', ');
  const where = [`t.${q(shape.keyColumn)} = v.k`, ...guards].join(' AND ');
  return {
    sql: `WITH v(${names.join(', ')}) AS (VALUES ${values}) UPDATE ${shape.table} AS t SET ${sets} FROM v WHERE ${where}`,
    params: params.values,
  };
}

/**
 * PostgreSQL: one array parameter per column, `UPDATE … FROM unnest($1::int[], $2::text[], …)`.
 * A handful of parameters instead of one per value: parsing and binding stay cheap however
 * large the batch, which is what makes batches of thousands of rows fast.
 */
function postgresUnnestUpdate(
  shape: BatchShape,
  writes: readonly GuardedWrite[],
): { sql: string; params: unknown[] } {
  const q = (name: string) => quoteIdent('postgres', name);
  const type = (column: string) => shape.pgTypes?.get(column) ?? 'text';
  const columns = [shape.keyColumn, ...shape.setColumns, ...shape.guardColumns];
  const names = [
    'k',
    ...shape.setColumns.map((_, i) => `s${i}`),
    ...shape.guardColumns.map((_, i) => `g${i}`),
  ];
  const params: unknown[] = columns.map((_, position) =>
    writes.map((write) => {
      if (position === 0) return write.key;
      const at = position - 1;
      return at < write.set.length ? write.set[at] : write.guard[at - write.set.length];
    }),
  );
  const arrays = columns.map((column, i) => `$${i + 1}::${type(column)}[]`).join(', ');
  const sets = shape.setColumns.map((column, i) => `${q(column)} = v.s${i}`).join(', ');
  const guards = shape.guardColumns.map((column, i) =>
    nullSafeEquals('postgres', `t.${q(column)}`, `v.g${i}`),
  );
  const where = [`t.${q(shape.keyColumn)} = v.k`, ...guards].join(' AND ');
  return {
    sql: `UPDATE ${shape.table} AS t SET ${sets} FROM unnest(${arrays}) AS v(${names.join(', ')}) WHERE ${where}`,
    params,
  };
}
