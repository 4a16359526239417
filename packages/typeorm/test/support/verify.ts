import { type Keyring, RowEnvelope } from '@fieldseal/core';
import type { TestDatabase } from './databases.js';
import { rawRows } from './setup.js';

/**
 * Checks the per-row invariant straight from the stored rows, without the adapter: every
 * encrypted value of every row opens with the data key stored in that row. Returns the
 * ids of rows that break it.
 */
export async function rowsBreakingInvariant(
  db: TestDatabase,
  keyring: Keyring,
  table: string,
  columns: readonly string[],
): Promise<unknown[]> {
  const envelope = new RowEnvelope({ keyring, readMode: 'strict' });
  const broken: unknown[] = [];
  for (const row of await rawRows(db, table)) {
    const values = Object.fromEntries(columns.filter((c) => row[c] !== null).map((c) => [c, row[c]]));
    if (Object.keys(values).length === 0) continue;
    try {
      await envelope.decryptRow({ table, values, dataKey: row.dataKey });
    } catch {
      broken.push(row.id);
    }
  }
  return broken;
}

/** A positional placeholder for raw SQL: `$1` on PostgreSQL, `?` elsewhere. */
export function placeholder(db: TestDatabase, position: number): string {
  return db.dialect === 'postgres' ? `$${position}` : '?';
}
