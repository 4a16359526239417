import 'reflect-metadata';
import { isKeyringError, isWriteConflictError } from '@fieldseal/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fieldEncryption } from '../src/index.js';
import { createDatabase, DIALECTS, type TestDatabase } from './support/databases.js';
import { beforeNext } from './support/race.js';
import { rawRows, testKeyring } from './support/setup.js';
import { Invoice, InvoiceLine } from './support/tenant-entities.js';

// A tenant column changed (raw SQL, another statement) between fieldseal's read of a row and its
// guarded write: the write must miss and be refused, never store values bound to the old tenant
// in a row of the new one. An update of one row takes no lock, so the race is real (save() reads
// with FOR UPDATE in its transaction on PostgreSQL and MariaDB, where the other writer waits).
describe.each(DIALECTS)('tenant changed between read and write on %s', (dialect) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createDatabase(dialect, [Invoice, InvoiceLine]);
    await fieldEncryption(db.dataSource, { keyring: testKeyring() });
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('update() of a row whose tenant changes after its key was read is refused', async () => {
    const invoices = db.dataSource.getRepository(Invoice);
    const row = await invoices.save(invoices.create({ tenantId: 'acme', memo: 'before' }));
    const before = (await rawRows(db, 'invoice')).find((r) => Number(r.id) === row.id) as Record<
      string,
      unknown
    >;
    let fired = false;
    beforeNext(db.dataSource, /^UPDATE .*substr\(/is, async () => {
      fired = true;
      await db.dataSource.query(
        `UPDATE ${db.t('invoice')} SET ${db.q('tenantId')} = 'globex' WHERE ${db.q('id')} = ${row.id}`,
      );
    });
    const error = await invoices.update({ id: row.id }, { memo: 'after' }).catch((e: unknown) => e);
    expect(fired).toBe(true);
    expect(isKeyringError(error) || isWriteConflictError(error)).toBe(true);
    const after = (await rawRows(db, 'invoice')).find((r) => Number(r.id) === row.id) as Record<
      string,
      unknown
    >;
    expect(after.tenantId).toBe('globex');
    expect(after.memo).toBe(before.memo);
    expect(after.dataKey).toBe(before.dataKey);
  });
});
