import { isKeyringError, isWriteConflictError } from '@fieldseal/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, openDatabase, type TestDatabase } from './helpers/databases.js';
import { encrypted } from './helpers/fixture.js';

// A tenant column changed (by another connection, in raw SQL) between fieldseal's read of the row
// and its guarded write: the write must miss and be refused, never store values bound to the old
// tenant in a row of the new one. The change is injected by a query extension after fieldseal's,
// which sees fieldseal's own key read.

describe.each(DIALECTS)('tenant changed between read and write on %s', (dialect) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await openDatabase(dialect);
  });
  afterAll(async () => db?.drop());

  // updateMany returns a count: no decryption of the written row would catch a wrong write there.
  it.each(['update', 'updateMany'] as const)(
    '%s of a row whose tenant changes after its key was read is refused; the row is untouched',
    async (operation) => {
      const prisma = encrypted(db.client());
      const row = await prisma.invoice.create({ data: { tenantId: 'acme', memo: 'before' } });
      const outside = db.client();
      let armed = true;
      const racing = encrypted(db.client()).$extends({
        query: {
          invoice: {
            async $allOperations({ args, query, operation: op }) {
              const result = await query(args);
              // fieldseal's read of the row's data key (and tenant), in its transaction.
              const keyRead = op === 'findUnique' || op === 'findMany';
              if (armed && keyRead && (args as { select?: { dataKey?: boolean } }).select?.dataKey) {
                armed = false;
                await outside.$executeRawUnsafe(
                  `UPDATE ${db.t('Invoice')} SET ${db.q('tenantId')} = 'globex' WHERE ${db.q('id')} = ${row.id}`,
                );
              }
              return result;
            },
          },
        },
      });
      const before = (await db.rows('Invoice')).find((r) => r.id === row.id) as Record<string, unknown>;
      const args = { where: { id: row.id }, data: { memo: 'after' } };
      const error = await (operation === 'update'
        ? racing.invoice.update(args)
        : racing.invoice.updateMany(args)
      ).catch((e: unknown) => e);
      expect(armed).toBe(false);
      const after = (await db.rows('Invoice')).find((r) => r.id === row.id) as Record<string, unknown>;
      expect(after.memo).toBe(before.memo);
      expect(after.dataKey).toBe(before.dataKey);
      if (dialect === 'sqlite' && operation === 'updateMany') {
        // SQLite: updateMany's transaction keeps the other connection from writing at all (busy).
        // (A single-row update runs outside a transaction there, so the race is real.)
        expect(String(error)).toContain('executeRawUnsafe');
        expect(after.tenantId).toBe('acme');
      } else {
        // The guarded write missed; the re-read row (new tenant, key of the old) cannot be opened.
        expect(isKeyringError(error) || isWriteConflictError(error)).toBe(true);
        expect(after.tenantId).toBe('globex');
      }
    },
  );
});
