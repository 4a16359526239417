import { type Keyring, RowEnvelope } from '@fieldseal/core';
import { expect } from 'vitest';
import type { TestDatabase } from './databases.js';
import { keyring } from './fixture.js';

/** Encrypted columns of each test table. */
export const ENCRYPTED_COLUMNS: Readonly<Record<string, readonly string[]>> = {
  User: ['email', 'ssn'],
  Post: ['body'],
  Comment: ['text'],
  Profile: ['bio', 'avatar'],
};

/**
 * The per-row invariant, checked on the stored rows with raw SQL: every encrypted value is
 * ciphertext and opens with the data key stored in its own row. Returns the decrypted rows.
 */
export async function expectRowInvariant(
  db: TestDatabase,
  table: string,
  ring: Keyring = keyring,
): Promise<Record<string, unknown>[]> {
  const envelope = new RowEnvelope({ keyring: ring });
  const columns = ENCRYPTED_COLUMNS[table] ?? [];
  const rows = await db.rows(table);
  return Promise.all(
    rows.map(async (row) => {
      const values = Object.fromEntries(columns.map((column) => [column, row[column]]));
      for (const value of Object.values(values)) {
        if (value === null) continue;
        const head =
          typeof value === 'string'
            ? value.slice(0, 4)
            : Buffer.from(value as Uint8Array)
                .subarray(0, 4)
                .toString('latin1');
        expect(head, `${table} row ${row.id} holds plaintext`).toBe('fs2:');
      }
      const plain = await envelope.decryptRow({
        table,
        values,
        dataKey: row.dataKey,
        rowId: row.id as number,
      });
      return { ...row, ...plain };
    }),
  );
}
