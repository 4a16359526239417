import { ConfigError } from '../errors.js';
import type { SqlDialect, StoredTable } from '../stored-tables.js';
import { disambiguatedGuardName, GUARD_PREFIX, guardName } from './guard-names.js';
import { binaryValueCheck, blindIndexCheck, dataKeyCheck, textValueCheck } from './guard-predicates.js';
import { qualifiedTable, quoteIdent, sqlString } from './sql-text.js';

/** What a guard checks: an encrypted column, the data-key column, or a blind-index column. */
export type GuardKind = 'value' | 'data-key' | 'blind-index';

/** One guard: a CHECK constraint on one column of a table. */
export interface ColumnGuard {
  /** The constraint name, `fieldseal_guard_<table>_<column>` (or `_data_key`), at most 63 bytes. */
  readonly name: string;
  readonly kind: GuardKind;
  /** The column it checks. */
  readonly column: string;
  /** The SQL predicate: true for NULL or an acceptable value, false otherwise. */
  readonly check: string;
}

/** Options of {@link tableGuards}. */
export interface GuardOptions {
  /** Bytes per blind-index value, as configured in the adapters (8–32). Defaults to 16 (32 hex characters). */
  readonly blindIndexBytes?: number;
}

/** Every guard of one stored table in one dialect. */
export interface TableGuards {
  readonly table: StoredTable;
  readonly dialect: SqlDialect;
  /** The quoted, schema-qualified table name. */
  readonly target: string;
  readonly guards: readonly ColumnGuard[];
}

/**
 * The guards of `table`: per encrypted column, NULL or a well-formed fieldseal value; per
 * blind-index column, NULL or lower-case hex of the index length; for the data-key column, a
 * well-formed data key, and not NULL while any encrypted column holds a value.
 */
export function tableGuards(
  table: StoredTable,
  dialect: SqlDialect,
  options: GuardOptions = {},
): TableGuards {
  const bytes = options.blindIndexBytes ?? 16;
  if (!Number.isInteger(bytes) || bytes < 8 || bytes > 32)
    throw new ConfigError('blindIndexBytes', 'must be a whole number from 8 to 32');
  const q = (column: string) => quoteIdent(dialect, column);
  const guards: ColumnGuard[] = [];
  const names = new Set<string>();
  const add = (kind: GuardKind, column: string, suffix: string, wellFormed: string) => {
    let name = guardName(table.table, suffix);
    if (names.has(name)) name = disambiguatedGuardName(table.table, suffix, kind);
    names.add(name);
    guards.push(Object.freeze({ name, kind, column, check: wellFormed }));
  };
  for (const c of table.columns) {
    const value =
      c.output === 'binary' ? binaryValueCheck(dialect, q(c.column)) : textValueCheck(dialect, q(c.column));
    add('value', c.column, c.column, `${q(c.column)} IS NULL OR (${value})`);
  }
  const dk = q(table.dataKeyColumn);
  const noValue = table.columns.map((c) => `${q(c.column)} IS NULL`);
  add(
    'data-key',
    table.dataKeyColumn,
    'data_key',
    `(${[`${dk} IS NULL`, ...noValue].join(' AND ')}) OR (${dk} IS NOT NULL AND (${dataKeyCheck(dialect, dk)}))`,
  );
  for (const c of table.columns) {
    if (!c.blindIndex) continue;
    const column = q(c.blindIndex.column);
    add(
      'blind-index',
      c.blindIndex.column,
      c.blindIndex.column,
      `${column} IS NULL OR (${blindIndexCheck(dialect, column, bytes * 2)})`,
    );
  }
  return Object.freeze({
    table,
    dialect,
    target: qualifiedTable(dialect, table.table, table.schema),
    guards: Object.freeze(guards),
  });
}

/** Where a guard sits, by constraint name: what {@link guardViolationOf} reports. */
export interface GuardPlace {
  readonly table: string;
  readonly column: string;
  readonly kind: GuardKind;
}

/** Every guard name of `tables`, mapped to its table and column (names are the same in every dialect). */
export function guardPlaces(
  tables: readonly StoredTable[],
  options: GuardOptions = {},
): ReadonlyMap<string, GuardPlace> {
  const places = new Map<string, GuardPlace>();
  for (const table of tables)
    for (const guard of tableGuards(table, 'postgres', options).guards)
      places.set(guard.name, { table: table.table, column: guard.column, kind: guard.kind });
  return places;
}

/** The `CONSTRAINT name CHECK (…)` clause of one guard. */
export function guardClause(tg: TableGuards, guard: ColumnGuard): string {
  return `CONSTRAINT ${quoteIdent(tg.dialect, guard.name)} CHECK (${guard.check})`;
}

/** Install statements for PostgreSQL and MariaDB/MySQL; SQLite needs a rebuild ({@link sqliteRebuild}). */
export interface GuardInstallSql {
  /** Statements adding the guards. PostgreSQL: `NOT VALID` (new writes checked, no scan, brief lock). */
  readonly add: readonly string[];
  /** PostgreSQL: `VALIDATE CONSTRAINT` per guard (scans rows without blocking writers). Empty elsewhere. */
  readonly validate: readonly string[];
}

function pick(tg: TableGuards, names?: readonly string[]): readonly ColumnGuard[] {
  return names ? tg.guards.filter((g) => names.includes(g.name)) : tg.guards;
}

function notSqlite(tg: TableGuards, what: string): void {
  if (tg.dialect === 'sqlite')
    throw new ConfigError(
      'dialect',
      `SQLite cannot ${what} a CHECK constraint in place; use sqliteRebuild()`,
    );
}

/** The statements installing `names` (default: every guard) of a table on PostgreSQL or MariaDB. */
export function guardInstallSql(tg: TableGuards, names?: readonly string[]): GuardInstallSql {
  notSqlite(tg, 'add');
  const guards = pick(tg, names);
  if (guards.length === 0) return { add: [], validate: [] };
  if (tg.dialect === 'mysql')
    // One ALTER: MariaDB checks every row and adds all of them, or none.
    return {
      add: [`ALTER TABLE ${tg.target} ${guards.map((g) => `ADD ${guardClause(tg, g)}`).join(', ')}`],
      validate: [],
    };
  return {
    add: guards.map((g) => `ALTER TABLE ${tg.target} ADD ${guardClause(tg, g)} NOT VALID`),
    validate: guards.map(
      (g) => `ALTER TABLE ${tg.target} VALIDATE CONSTRAINT ${quoteIdent('postgres', g.name)}`,
    ),
  };
}

/** The statements dropping `names` (default: every guard) of a table on PostgreSQL or MariaDB. */
export function guardRemoveSql(tg: TableGuards, names?: readonly string[]): string[] {
  notSqlite(tg, 'drop');
  const guards = names ?? tg.guards.map((g) => g.name);
  if (guards.length === 0) return [];
  const drops = guards.map((name) => `DROP CONSTRAINT IF EXISTS ${quoteIdent(tg.dialect, name)}`);
  return tg.dialect === 'mysql'
    ? [`ALTER TABLE ${tg.target} ${drops.join(', ')}`]
    : drops.map((drop) => `ALTER TABLE ${tg.target} ${drop}`);
}

/**
 * A query listing the guards present on the table: rows with `name` (PostgreSQL also
 * `validated`). On SQLite it returns the table's `definition` instead: pass it to
 * {@link sqliteGuardNames}.
 */
export function existingGuardsSql(tg: TableGuards): string {
  const table = sqlString(tg.table.table);
  if (tg.dialect === 'postgres')
    return `SELECT conname AS name, convalidated AS validated FROM pg_constraint WHERE conrelid = to_regclass(${sqlString(tg.target)}) AND contype = 'c' AND left(conname, ${GUARD_PREFIX.length}) = ${sqlString(GUARD_PREFIX)} ORDER BY conname`;
  if (tg.dialect === 'mysql') {
    const schema = tg.table.schema ? sqlString(tg.table.schema) : 'DATABASE()';
    return `SELECT CONSTRAINT_NAME AS name FROM information_schema.TABLE_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ${schema} AND TABLE_NAME = ${table} AND CONSTRAINT_TYPE = 'CHECK' AND LEFT(CONSTRAINT_NAME, ${GUARD_PREFIX.length}) = ${sqlString(GUARD_PREFIX)} ORDER BY CONSTRAINT_NAME`;
  }
  const schema = tg.table.schema ? `${quoteIdent('sqlite', tg.table.schema)}.` : '';
  return `SELECT sql AS definition FROM ${schema}sqlite_schema WHERE type = 'table' AND name = ${table}`;
}

/** The rows of one guard's violations: their count, and the primary keys of the first `limit` (never values). */
export function guardViolationsSql(
  tg: TableGuards,
  guard: ColumnGuard,
  limit: number,
): { count: string; ids: string } {
  const where = `WHERE (${guard.check}) IS FALSE`;
  const keys = tg.table.primaryKey.map((column) => quoteIdent(tg.dialect, column));
  return {
    count: `SELECT COUNT(*) AS n FROM ${tg.target} ${where}`,
    ids: `SELECT ${keys.join(', ')} FROM ${tg.target} ${where} ORDER BY ${keys.join(', ')} LIMIT ${Math.max(1, Math.floor(limit))}`,
  };
}
