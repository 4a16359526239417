import { appendFileSync } from 'node:fs';

/**
 * The dialects a test file loops over: all of them, or only the embedded ones (SQLite) when the
 * run was started with FIELDSEAL_SKIP_DB=1. Each reduced list is recorded, and the global setup
 * prints how many suites lost their server dialects: a skip is never silent.
 *
 * @example
 * export const DIALECTS = testDialects(['sqlite', 'postgres', 'mariadb'] as const, ['sqlite']);
 */
export function testDialects<const D extends string>(
  all: readonly D[],
  embedded: readonly D[],
): readonly D[] {
  if (process.env.FIELDSEAL_SKIP_DB !== '1') return all;
  const skipped = all.filter((dialect) => !embedded.includes(dialect));
  const log = process.env.FIELDSEAL_SKIP_DB_LOG;
  if (log && skipped.length > 0) appendFileSync(log, `${skipped.join(',')}\n`);
  return all.filter((dialect) => embedded.includes(dialect));
}
