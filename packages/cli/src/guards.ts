import {
  type ColumnGuard,
  existingGuardsSql,
  type GuardKind,
  guardInstallSql,
  guardRemoveSql,
  guardViolationsSql,
  runSqliteRebuild,
  type SqlExecutor,
  sqliteInstalled,
  sqliteRebuild,
  sqliteRebuildScript,
  sqliteSchemaOf,
  type TableGuards,
  tableGuards,
} from '@fieldseal/core';
import { type FieldsealConfig, selectTables } from './config.js';
import { databaseError } from './errors.js';

/** Rows refused by one guard: how many, and the primary keys of the first ones (never values). */
export interface GuardViolations {
  readonly guard: string;
  readonly column: string;
  readonly kind: GuardKind;
  readonly rows: number;
  readonly firstIds: readonly string[];
}

/** The guards of one table: which exist, and which rows would break them. */
export interface GuardTableStatus {
  readonly model: string;
  readonly table: string;
  /** Every guard the table should have. */
  readonly expected: readonly string[];
  /** Guards present in the database. */
  readonly installed: readonly string[];
  /** Expected guards that are not present. */
  readonly missing: readonly string[];
  /** PostgreSQL: present but not yet validated (a `NOT VALID` install that did not finish). */
  readonly notValidated: readonly string[];
  /** Guards with rows that break them (empty when every row passes). */
  readonly violations: readonly GuardViolations[];
}

/** Ids listed per violated guard (the counts are always complete). */
const FIRST_IDS = 10;

function guardsOf(config: FieldsealConfig, model?: string): TableGuards[] {
  const options = config.blindIndexBytes === undefined ? {} : { blindIndexBytes: config.blindIndexBytes };
  return selectTables(config, model).map((table) => tableGuards(table, config.executor.dialect, options));
}

async function installedOf(
  executor: SqlExecutor,
  tg: TableGuards,
): Promise<{ name: string; validated: boolean }[]> {
  if (tg.dialect === 'sqlite')
    return (await sqliteInstalled(executor, tg)).map((name) => ({ name, validated: true }));
  const rows = await executor.query<{ name: string; validated?: boolean }>(existingGuardsSql(tg));
  return rows.map((row) => ({ name: row.name, validated: row.validated !== false }));
}

async function violationsOf(
  executor: SqlExecutor,
  tg: TableGuards,
  guards: readonly ColumnGuard[],
): Promise<GuardViolations[]> {
  const found: GuardViolations[] = [];
  for (const guard of guards) {
    const sql = guardViolationsSql(tg, guard, FIRST_IDS);
    const [count] = await executor.query<{ n: unknown }>(sql.count);
    const rows = Number(count?.n ?? 0);
    if (rows === 0) continue;
    const ids = await executor.query<Record<string, unknown>>(sql.ids);
    found.push({
      guard: guard.name,
      column: guard.column,
      kind: guard.kind,
      rows,
      firstIds: ids.map((row) => tg.table.primaryKey.map((k) => String(row[k])).join(',')),
    });
  }
  return found;
}

async function statusOf(executor: SqlExecutor, tg: TableGuards, count = true): Promise<GuardTableStatus> {
  try {
    const present = await installedOf(executor, tg);
    const names = new Set(present.map((p) => p.name));
    return {
      model: tg.table.model,
      table: tg.table.table,
      expected: tg.guards.map((g) => g.name),
      installed: present.map((p) => p.name),
      missing: tg.guards.filter((g) => !names.has(g.name)).map((g) => g.name),
      notValidated: present.filter((p) => !p.validated).map((p) => p.name),
      violations: count ? await violationsOf(executor, tg, tg.guards) : [],
    };
  } catch (cause) {
    throw databaseError(cause, `reading the guards of ${tg.table.model}`, tg.table.table);
  }
}

/** Options of {@link guardStatus}. */
export interface GuardStatusOptions {
  /** Only this model (or table). Defaults to every configured model. */
  readonly model?: string | undefined;
  /** Count the rows breaking each guard (one scan per guard). Defaults to true. */
  readonly violations?: boolean;
}

/** Per table: guards present, missing, and rows that break them. */
export async function guardStatus(
  config: FieldsealConfig,
  options: GuardStatusOptions = {},
): Promise<{ tables: GuardTableStatus[] }> {
  const tables: GuardTableStatus[] = [];
  for (const tg of guardsOf(config, options.model))
    tables.push(await statusOf(config.executor, tg, options.violations !== false));
  return { tables };
}

/** The outcome of install or remove, per table. */
export interface GuardChangeReport {
  readonly ok: boolean;
  readonly tables: readonly (GuardTableStatus & { readonly changed: readonly string[] })[];
}

/**
 * Installs the missing guards of each table. A table with rows that break a guard is left
 * exactly as it was and reported (ok: false); other tables are still done.
 */
export async function installGuards(
  config: FieldsealConfig,
  options: { model?: string | undefined } = {},
): Promise<GuardChangeReport> {
  const executor = config.executor;
  const tables: GuardChangeReport['tables'][number][] = [];
  for (const tg of guardsOf(config, options.model)) {
    const before = await statusOf(executor, tg);
    const missing = tg.guards.filter((g) => before.missing.includes(g.name));
    if (before.violations.length > 0 || missing.length === 0) {
      tables.push({ ...before, changed: [] });
      continue;
    }
    try {
      await addGuards(executor, tg, missing);
    } catch (cause) {
      // A writer broke a guard between the check and the install: report what it wrote.
      const after = await statusOf(executor, tg);
      if (after.violations.length === 0)
        throw databaseError(cause, `installing the guards of ${tg.table.model}`, tg.table.table);
      tables.push({ ...after, changed: [] });
      continue;
    }
    tables.push({ ...(await statusOf(executor, tg)), changed: missing.map((g) => g.name) });
  }
  return { ok: tables.every((t) => t.violations.length === 0 && t.missing.length === 0), tables };
}

/** Adds `missing` guards (exported for tests of the PostgreSQL fallback). */
export async function addGuards(
  executor: SqlExecutor,
  tg: TableGuards,
  missing: readonly ColumnGuard[],
): Promise<void> {
  if (tg.dialect === 'sqlite') {
    const schema = await sqliteSchemaOf(executor, tg);
    return runSqliteRebuild(executor, sqliteRebuild(tg, schema, { add: missing }));
  }
  const sql = guardInstallSql(
    tg,
    missing.map((g) => g.name),
  );
  if (tg.dialect === 'mysql') {
    for (const statement of sql.add) await executor.execute(statement);
    return;
  }
  // NOT VALID: enforced for new writes at once, no scan under the brief exclusive lock. VALIDATE
  // then scans without blocking writers. If it fails, the guards just added are dropped again.
  await executor.transaction(async (tx) => {
    for (const statement of sql.add) await tx.execute(statement);
  });
  try {
    for (const statement of sql.validate) await executor.execute(statement);
  } catch (error) {
    for (const statement of guardRemoveSql(
      tg,
      missing.map((g) => g.name),
    ))
      await executor.execute(statement);
    throw error;
  }
}

/** Removes every guard of each table (e.g. before `migrate --decrypt`). */
export async function removeGuards(
  config: FieldsealConfig,
  options: { model?: string | undefined } = {},
): Promise<GuardChangeReport> {
  const executor = config.executor;
  const tables: GuardChangeReport['tables'][number][] = [];
  for (const tg of guardsOf(config, options.model)) {
    const present = (await installedOf(executor, tg)).map((p) => p.name);
    try {
      if (present.length > 0 && tg.dialect === 'sqlite')
        await runSqliteRebuild(
          executor,
          sqliteRebuild(tg, await sqliteSchemaOf(executor, tg), { remove: present }),
        );
      else
        for (const statement of present.length ? guardRemoveSql(tg, present) : [])
          await executor.execute(statement);
    } catch (cause) {
      throw databaseError(cause, `removing the guards of ${tg.table.model}`, tg.table.table);
    }
    tables.push({ ...(await statusOf(executor, tg)), changed: present });
  }
  return { ok: true, tables };
}

/**
 * The DDL installing (or removing) the guards, for migrations shipped by other tools. SQLite's
 * rebuild copies the table's current definition, so it reads the database.
 */
export async function guardSql(
  config: FieldsealConfig,
  options: { model?: string | undefined; remove?: boolean } = {},
): Promise<string> {
  const parts: string[] = [];
  for (const tg of guardsOf(config, options.model)) {
    parts.push(`-- fieldseal guards of ${tg.table.model} (${tg.table.table})`);
    if (tg.dialect === 'sqlite') {
      const schema = await sqliteSchemaOf(config.executor, tg);
      const change = options.remove ? { remove: 'all' as const } : { remove: 'all' as const, add: tg.guards };
      parts.push(sqliteRebuildScript(sqliteRebuild(tg, schema, change)));
    } else if (options.remove) {
      parts.push(...guardRemoveSql(tg).map((s) => `${s};`));
    } else {
      const sql = guardInstallSql(tg);
      parts.push(...sql.add.map((s) => `${s};`), ...sql.validate.map((s) => `${s};`));
    }
  }
  return `${parts.join('\n')}\n`;
}
