import 'reflect-metadata';
import { isKeyringError, isWriteConflictError } from '@fieldseal/core';
import type { QueryRunner } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fieldEncryption } from '../src/index.js';
import { createDatabase, DIALECTS, type TestDatabase } from './support/databases.js';
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

  /** Runs `action` once, just before the next statement matching `match` is sent (on any runner). */
  function beforeNext(match: RegExp, action: () => Promise<void>): void {
    const runner = db.dataSource.createQueryRunner();
    const proto = Object.getPrototypeOf(runner) as QueryRunner;
    void runner.release();
    const original = proto.query;
    proto.query = async function (this: QueryRunner, sql: string, ...rest: unknown[]) {
      if (!match.test(sql)) return (original as (...a: unknown[]) => unknown).call(this, sql, ...rest);
      proto.query = original;
      await action();
      return (original as (...a: unknown[]) => unknown).call(this, sql, ...rest);
    } as QueryRunner['query'];
  }

  it('update() of a row whose tenant changes after its key was read is refused', async () => {
    const invoices = db.dataSource.getRepository(Invoice);
    const row = await invoices.save(invoices.create({ tenantId: 'acme', memo: 'before' }));
    const before = (await rawRows(db, 'invoice')).find((r) => Number(r.id) === row.id) as Record<
      string,
      unknown
    >;
    let fired = false;
    beforeNext(/^UPDATE .*substr\(/is, async () => {
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
