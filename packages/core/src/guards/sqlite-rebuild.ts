import { ConfigError } from '../errors.js';
import { GUARD_PREFIX } from './guard-names.js';
import { type ColumnGuard, guardClause, type TableGuards } from './guard-sql.js';
import { closingParen, quoteIdent, sqlString } from './sql-text.js';

/** What a SQLite table rebuild needs to know about the table as it is now (read from `sqlite_schema`). */
export interface SqliteTableSchema {
  /** The table's `CREATE TABLE` text (`sqlite_schema.sql`). */
  readonly definition: string;
  /** Its stored columns in order (`pragma table_xinfo`, hidden = 0). */
  readonly columns: readonly string[];
  /** The `CREATE INDEX` / `CREATE TRIGGER` texts of its own indexes and triggers (not automatic indexes). */
  readonly dependents: readonly string[];
  /** Its `sqlite_sequence` value when it has AUTOINCREMENT, so ids are never reused. */
  readonly sequence?: number;
}

/**
 * The table-rebuild procedure of SQLite's ALTER TABLE documentation ("Making Other Kinds Of
 * Table Schema Changes"): a new table with the changed constraints, rows copied, old table
 * dropped, new one renamed, indexes and triggers recreated, foreign keys checked. `before`
 * and `after` run outside the transaction (foreign-key enforcement cannot change inside one);
 * `steps` run in one transaction, followed by `PRAGMA foreign_key_check`, which must return
 * no row, or everything is rolled back.
 */
export interface SqliteRebuild {
  /** The table rebuilt. */
  readonly table: string;
  readonly before: readonly string[];
  readonly steps: readonly string[];
  readonly check: string;
  readonly after: readonly string[];
}

/** Name of the table built next to the one being rebuilt. */
export function rebuildTableName(table: string): string {
  return `fieldseal_rebuild_${table}`;
}

const HEADER =
  /^\s*CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?("(?:[^"]|"")*"|`(?:[^`]|``)*`|\[[^\]]*\]|[^\s(]+)\s*\(/i;
const GUARD_CLAUSE = new RegExp(
  `,\\s*CONSTRAINT\\s+("${GUARD_PREFIX}(?:[^"]|"")*"|${GUARD_PREFIX}\\w+)\\s+CHECK\\s*\\(`,
  'gi',
);

/** The guard names declared in a `CREATE TABLE` text (how guards are listed on SQLite). */
export function sqliteGuardNames(definition: string): string[] {
  return [...definition.matchAll(GUARD_CLAUSE)].map((m) => {
    const name = m[1] as string;
    return name.startsWith('"') ? name.slice(1, -1).replaceAll('""', '"') : name;
  });
}

/** `definition` without its guard clauses. */
function withoutGuards(definition: string): string {
  let out = definition;
  for (;;) {
    GUARD_CLAUSE.lastIndex = 0;
    const match = GUARD_CLAUSE.exec(out);
    if (!match) return out;
    const end = closingParen(out, match.index + match[0].length - 1);
    if (end < 0) throw new ConfigError('definition', 'unbalanced guard clause in the CREATE TABLE text');
    out = out.slice(0, match.index) + out.slice(end + 1);
  }
}

/** The rebuild adding `add` guards and removing guards named in `remove` (by name; all when `'all'`). */
export function sqliteRebuild(
  tg: TableGuards,
  schema: SqliteTableSchema,
  change: { readonly add?: readonly ColumnGuard[]; readonly remove?: readonly string[] | 'all' },
): SqliteRebuild {
  if (tg.dialect !== 'sqlite') throw new ConfigError('dialect', 'sqliteRebuild is for SQLite tables');
  const header = HEADER.exec(schema.definition);
  if (!header) throw new ConfigError('definition', `cannot read the CREATE TABLE text of ${tg.table.table}`);
  const open = header[0].length - 1;
  const close = closingParen(schema.definition, open);
  if (close < 0) throw new ConfigError('definition', `unbalanced CREATE TABLE text of ${tg.table.table}`);
  const keep = change.remove === 'all' ? undefined : new Set(change.remove ?? []);
  let body = schema.definition.slice(open, close);
  const present = sqliteGuardNames(body);
  if (keep === undefined) body = withoutGuards(body);
  else if (present.some((name) => keep.has(name))) {
    // Rebuild the body without every guard, then put back those that stay, unchanged.
    const stays = present.filter((name) => !keep.has(name));
    const clauses = stays.map((name) => clauseOf(body, name));
    body = withoutGuards(body) + clauses.map((c) => `, ${c}`).join('');
  }
  const added = (change.add ?? []).map((g) => `, ${guardClause(tg, g)}`).join('');
  const temp = quoteIdent('sqlite', rebuildTableName(tg.table.table));
  const prefix = tg.table.schema ? `${quoteIdent('sqlite', tg.table.schema)}.` : '';
  const created = `CREATE TABLE ${prefix}${temp} ${body}${added}${schema.definition.slice(close)}`;
  const columns = schema.columns.map((c) => quoteIdent('sqlite', c)).join(', ');
  const name = sqlString(tg.table.table);
  const sequence =
    schema.sequence === undefined
      ? []
      : [
          `DELETE FROM ${prefix}sqlite_sequence WHERE name = ${name}`,
          `INSERT INTO ${prefix}sqlite_sequence (name, seq) VALUES (${name}, ${Math.trunc(schema.sequence)})`,
        ];
  return {
    table: tg.table.table,
    before: ['PRAGMA foreign_keys = OFF'],
    steps: [
      created,
      `INSERT INTO ${prefix}${temp} (${columns}) SELECT ${columns} FROM ${tg.target}`,
      `DROP TABLE ${tg.target}`,
      // Legacy rename: views and triggers naming the old table are not re-parsed while it is missing.
      'PRAGMA legacy_alter_table = ON',
      `ALTER TABLE ${prefix}${temp} RENAME TO ${quoteIdent('sqlite', tg.table.table)}`,
      'PRAGMA legacy_alter_table = OFF',
      ...sequence,
      ...schema.dependents,
    ],
    check: `PRAGMA ${prefix}foreign_key_check(${name})`,
    after: ['PRAGMA foreign_keys = ON'],
  };
}

function clauseOf(body: string, name: string): string {
  for (const match of body.matchAll(GUARD_CLAUSE)) {
    const found = (match[1] as string).replace(/^"|"$/g, '').replaceAll('""', '"');
    if (found !== name) continue;
    const end = closingParen(body, (match.index as number) + match[0].length - 1);
    return body.slice((match.index as number) + match[0].search(/CONSTRAINT/i), end + 1);
  }
  throw new ConfigError('definition', `guard ${name} not found`);
}

/** The whole rebuild as one script (for `fieldseal guard sql` on SQLite). */
export function sqliteRebuildScript(rebuild: SqliteRebuild): string {
  return [
    ...rebuild.before,
    'BEGIN',
    ...rebuild.steps,
    `${rebuild.check}; -- must return no row, else ROLLBACK`,
    'COMMIT',
    ...rebuild.after,
  ]
    .map((s) => (s.endsWith(';') || s.includes('; --') ? s : `${s};`))
    .join('\n');
}
