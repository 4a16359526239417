import { CachingKeyring } from '@fieldseal/cache';
import {
  BlindIndex,
  deriveDataKey,
  encryptValue,
  formatDataKey,
  LocalKeyring,
  RowEnvelope,
} from '@fieldseal/core';
import { fieldEncryption } from '@fieldseal/prisma';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, status, upgrade, verify } from '../src/index.js';
import { customer, DIALECTS, insertCustomers, metadata, openDb, type TestDb } from './helpers/db.js';

const keyring = LocalKeyring.fromString(LocalKeyring.generateKeyText('k1'));
const blindIndexKey = await BlindIndex.generateKey(keyring);
const V1_ROWS = 40;

/** Rewrites customers 1..n as fieldseal 0.1 stored them: one `fsk1:` data key, `fs1:` values. */
async function writeV1Rows(db: TestDb, n: number): Promise<void> {
  const envelope = new RowEnvelope({ keyring });
  const material = await keyring.generateDataKey(envelope.contextFor('customers'));
  const key = deriveDataKey(material.plaintextKey);
  const dataKey = formatDataKey(material);
  const ph = (i: number) => (db.dialect === 'postgres' ? `$${i}` : '?');
  for (let id = 1; id <= n; id++) {
    const c = customer(id);
    const email = encryptValue(key, { table: 'customers', column: 'email' }, c.email);
    const ssn = c.ssn === null ? null : encryptValue(key, { table: 'customers', column: 'ssn' }, c.ssn);
    await db.sql(
      `UPDATE ${db.t('customers')} SET email = ${ph(1)}, ssn = ${ph(2)}, data_key = ${ph(3)} WHERE id = ${ph(4)}`,
      [email, ssn, dataKey, id],
    );
  }
}

describe.each(DIALECTS)('upgrade on %s', (dialect) => {
  let db: TestDb;
  beforeAll(async () => {
    db = await openDb(dialect);
    await insertCustomers(db, 200);
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('re-encrypts v1 rows as v2 under their own data keys; status counts formats; strict v2-only reads work', async () => {
    const config = db.config(new CachingKeyring(keyring), { blindIndexKey });
    await migrate(config, { model: 'Customer' });
    await writeV1Rows(db, V1_ROWS);
    const before = await status(config, { model: 'Customer' });
    expect(before.tables[0]?.formats).toEqual({ v1: V1_ROWS, v2: 200 - V1_ROWS });
    const checksum = (await verify(config, { model: 'Customer' })).tables[0]?.checksum;

    const dry = await upgrade(config, { model: 'Customer', dryRun: true });
    expect(dry.tables[0]?.wouldWrite).toBe(V1_ROWS);
    const report = await upgrade(config, { model: 'Customer', batch: 15 });
    expect(report).toMatchObject({ ok: true, totals: { written: V1_ROWS, remaining: 0 } });
    expect(report.job).toBe('upgrade format=v2');

    const after = await status(config, { model: 'Customer' });
    expect(after.tables[0]?.formats).toEqual({ v1: 0, v2: 200 });
    const rows = await db.sql(`SELECT email, data_key FROM ${db.t('customers')} WHERE id <= ${V1_ROWS}`);
    for (const row of rows) {
      expect(row.email).toMatch(/^fs2:/);
      expect(row.data_key).toMatch(/^fsk2:[A-Za-z0-9_-]{22}\./);
    }
    // Each upgraded row has its own salt, though they shared one v1 data key.
    expect(new Set(rows.map((row) => String(row.data_key).slice(0, 28))).size).toBe(V1_ROWS);
    const verified = await verify(config, { model: 'Customer' });
    expect(verified.ok).toBe(true);
    expect(verified.tables[0]?.checksum).toBe(checksum);
    // v1 values can now be refused: every row opens with a v2-only envelope.
    const v2Only = new RowEnvelope({ keyring, acceptV1Values: false });
    for (const row of await db.sql(`SELECT id, email, ssn, data_key FROM ${db.t('customers')} ORDER BY id`)) {
      const plain = await v2Only.decryptRow({
        table: 'customers',
        values: { email: row.email, ssn: row.ssn },
        dataKey: row.data_key,
        rowId: Number(row.id),
      });
      expect(plain).toEqual({ email: customer(Number(row.id)).email, ssn: customer(Number(row.id)).ssn });
    }
    const app = db.client.$extends(fieldEncryption({ keyring, metadata, blindIndexKey }));
    const found = await app.customer.findFirst({ where: { email: customer(7).email } });
    expect(found).toMatchObject({ id: 7, ssn: customer(7).ssn });
    expect((await upgrade(config, { model: 'Customer' })).totals.written).toBe(0);
  });
});
