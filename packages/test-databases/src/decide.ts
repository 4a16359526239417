/** A database the suites use. */
export type DatabaseName = 'postgres' | 'mariadb';

/** What the probes found. */
export interface Findings {
  /** `FIELDSEAL_SKIP_DB=1`: SQLite-only run, asked for explicitly. */
  readonly skipDb: boolean;
  readonly reachable: Readonly<Record<DatabaseName, boolean>>;
  /** Whether a container runtime answers; only asked when a server is unreachable. */
  readonly docker: () => Promise<boolean>;
}

/** What the global setup does. */
export type Decision =
  | { readonly kind: 'use-servers' }
  | { readonly kind: 'start-containers'; readonly databases: readonly DatabaseName[] }
  | { readonly kind: 'skip-databases' }
  | { readonly kind: 'fail'; readonly message: string };

const LABEL: Record<DatabaseName, string> = { postgres: 'PostgreSQL', mariadb: 'MariaDB' };

/** The message when no database can be had: the three ways to get one, in one place. */
export function noDatabaseMessage(
  missing: readonly DatabaseName[],
  urls: Record<DatabaseName, string>,
): string {
  return [
    `fieldseal tests: ${missing.map((db) => `${LABEL[db]} (${urls[db]})`).join(' and ')} not reachable, and no Docker engine found.`,
    'The database suites need PostgreSQL and MariaDB/MySQL. Choose one:',
    '  1. local servers: start them, or point FIELDSEAL_PG_URL / FIELDSEAL_MYSQL_URL at yours;',
    '  2. Docker: start a Docker engine; PostgreSQL 15 and MariaDB 10.11 then start in containers (testcontainers);',
    '  3. FIELDSEAL_SKIP_DB=1: SQLite only; the PostgreSQL and MariaDB cases are skipped, and counted at the end.',
    'See docs/testing.md.',
  ].join('\n');
}

/**
 * Reachable servers are used; missing ones start in containers when Docker answers; otherwise
 * the run fails at once, unless FIELDSEAL_SKIP_DB=1 asked for a SQLite-only run. Never a silent skip.
 */
export async function decide(findings: Findings, urls: Record<DatabaseName, string>): Promise<Decision> {
  if (findings.skipDb) return { kind: 'skip-databases' };
  const missing = (['postgres', 'mariadb'] as const).filter((db) => !findings.reachable[db]);
  if (missing.length === 0) return { kind: 'use-servers' };
  if (await findings.docker()) return { kind: 'start-containers', databases: missing };
  return { kind: 'fail', message: noDatabaseMessage(missing, urls) };
}
