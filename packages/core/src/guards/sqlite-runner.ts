import { ConfigError } from '../errors.js';
import type { SqlExecutor } from '../stored-tables.js';
import type { TableGuards } from './guard-sql.js';
import { sqlString as lit, quoteIdent } from './sql-text.js';
import { type SqliteRebuild, type SqliteTableSchema, sqliteGuardNames } from './sqlite-rebuild.js';

/** Reads what a rebuild of the table needs from `sqlite_schema` and `pragma_table_xinfo`. */
export async function sqliteSchemaOf(executor: SqlExecutor, tg: TableGuards): Promise<SqliteTableSchema> {
  const schema = tg.table.schema;
  const master = schema ? `${quoteIdent('sqlite', schema)}.sqlite_schema` : 'sqlite_schema';
  const name = lit(tg.table.table);
  const [table] = await executor.query<{ sql: string }>(
    `SELECT sql FROM ${master} WHERE type = 'table' AND name = ${name}`,
  );
  if (!table) throw new ConfigError('tables', `table ${tg.table.table} does not exist`);
  const columns = await executor.query<{ name: string }>(
    `SELECT name FROM pragma_table_xinfo(${name}${schema ? `, ${lit(schema)}` : ''}) WHERE hidden = 0 ORDER BY cid`,
  );
  const dependents = await executor.query<{ sql: string }>(
    `SELECT sql FROM ${master} WHERE tbl_name = ${name} AND type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY rowid`,
  );
  const hasSequence = await executor.query(
    `SELECT 1 AS yes FROM ${master} WHERE type = 'table' AND name = 'sqlite_sequence'`,
  );
  let sequence: number | undefined;
  if (hasSequence.length > 0 && /\bAUTOINCREMENT\b/i.test(table.sql)) {
    const seqTable = schema ? `${quoteIdent('sqlite', schema)}.sqlite_sequence` : 'sqlite_sequence';
    const [row] = await executor.query<{ seq: unknown }>(`SELECT seq FROM ${seqTable} WHERE name = ${name}`);
    if (row) sequence = Number(row.seq);
  }
  return {
    definition: table.sql,
    columns: columns.map((c) => c.name),
    dependents: dependents.map((d) => d.sql),
    ...(sequence === undefined ? {} : { sequence }),
  };
}

/** The guard names declared on the table now. */
export async function sqliteInstalled(executor: SqlExecutor, tg: TableGuards): Promise<string[]> {
  return sqliteGuardNames((await sqliteSchemaOf(executor, tg)).definition);
}

/**
 * Runs a rebuild: foreign-key enforcement off (it cannot change inside a transaction), every
 * step and the foreign-key check in one transaction (any failure rolls all of it back), then
 * enforcement restored as it was.
 */
export async function runSqliteRebuild(executor: SqlExecutor, rebuild: SqliteRebuild): Promise<void> {
  const [fk] = await executor.query<{ foreign_keys: unknown }>('PRAGMA foreign_keys');
  const enforced = Number(fk?.foreign_keys ?? 0) === 1;
  if (enforced) for (const statement of rebuild.before) await executor.execute(statement);
  try {
    await executor.transaction(async (tx) => {
      for (const statement of rebuild.steps) await tx.execute(statement);
      const broken = await tx.query(rebuild.check);
      if (broken.length > 0)
        throw new ConfigError(
          'tables',
          `rebuilding ${rebuild.table} would break ${broken.length} foreign key(s); nothing was changed`,
        );
    });
  } finally {
    await executor.execute('PRAGMA legacy_alter_table = OFF').catch(() => undefined);
    if (enforced) for (const statement of rebuild.after) await executor.execute(statement);
  }
}
