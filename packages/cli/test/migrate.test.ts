import { CachingKeyring } from '@fieldseal/cache';
import { BlindIndex, LocalKeyring } from '@fieldseal/core';
import { fieldEncryption } from '@fieldseal/prisma';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, status, verify } from '../src/index.js';
import {
  customer,
  DIALECTS,
  expectedChecksum,
  insertCustomers,
  metadata,
  openDb,
  readChecksum,
  type TestDb,
} from './helpers/db.js';

const keyring = LocalKeyring.fromString(LocalKeyring.generateKeyText('k1'));
const blindIndexKey = await BlindIndex.generateKey(keyring);

describe.each(DIALECTS)('migrate on %s', (dialect) => {
  let db: TestDb;
  beforeAll(async () => {
    db = await openDb(dialect);
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('encrypts raw-inserted plaintext rows so the Prisma extension reads them in strict mode', async () => {
    await insertCustomers(db, 2_500);
    const config = db.config(new CachingKeyring(keyring), { blindIndexKey });
    const before = await verify(config, { model: 'Customer' });
    expect(before.tables[0]).toMatchObject({ rows: 2_500, plaintext: 2_500, encrypted: 0 });

    const report = await migrate(config, { model: 'Customer', batch: 400, chunkRows: 1_000 });
    expect(report.ok).toBe(true);
    expect(report.totals).toMatchObject({ scanned: 2_500, written: 2_500, conflicts: 0, problems: 0 });

    const stored = await db.sql(`SELECT * FROM ${db.t('customers')} ORDER BY id LIMIT 5`);
    for (const row of stored) {
      expect(row.email).toMatch(/^fs2:/);
      expect(row.data_key).toMatch(/^fsk2:[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]+$/);
      expect(row.email_hash).toMatch(/^[0-9a-f]{32}$/);
    }
    const after = await verify(config, { model: 'Customer' });
    expect(after.ok).toBe(true);
    expect(after.tables[0]).toMatchObject({ rows: 2_500, encrypted: 2_500, plaintext: 0, undecryptable: 0 });
    expect(after.tables[0]?.checksum).toBe(before.tables[0]?.checksum);

    const app = db.client.$extends(fieldEncryption({ keyring, metadata, blindIndexKey, readMode: 'strict' }));
    expect(await readChecksum(app)).toEqual({ checksum: expectedChecksum(2_500), rows: 2_500 });
    // Blind-index lookups work on migrated rows.
    const found = await app.customer.findFirst({ where: { email: customer(1234).email } });
    expect(found?.id).toBe(1234);
  });

  it('is idempotent: a second run writes nothing and leaves the ciphertext as it was', async () => {
    const config = db.config(keyring, { blindIndexKey });
    const snapshot = await db.sql(`SELECT id, email, data_key FROM ${db.t('customers')} ORDER BY id`);
    const report = await migrate(config, { model: 'Customer' });
    expect(report.totals.written).toBe(0);
    expect(await db.sql(`SELECT id, email, data_key FROM ${db.t('customers')} ORDER BY id`)).toEqual(
      snapshot,
    );
  });

  it('encrypts a partly plaintext row under the data key it already has', async () => {
    const app = db.client.$extends(
      fieldEncryption({ keyring, metadata, blindIndexKey, readMode: 'tolerant' }),
    );
    const [row] = await db.sql(`SELECT data_key FROM ${db.t('customers')} WHERE id = 7`);
    // An old app instance wrote plaintext into one column of an encrypted row.
    await db.sql(
      `UPDATE ${db.t('customers')} SET ssn = ${db.dialect === 'postgres' ? '$1' : '?'} WHERE id = 7`,
      ['late-plaintext'],
    );
    const report = await migrate(db.config(keyring, { blindIndexKey }), { model: 'Customer' });
    expect(report.totals.written).toBe(1);
    const [after] = await db.sql(`SELECT data_key, ssn FROM ${db.t('customers')} WHERE id = 7`);
    expect(after?.data_key).toBe(row?.data_key);
    expect(after?.ssn).toMatch(/^fs2:/);
    const strict = db.client.$extends(fieldEncryption({ keyring, metadata, blindIndexKey }));
    expect((await strict.customer.findUnique({ where: { id: 7 } }))?.ssn).toBe('late-plaintext');
    expect((await app.customer.findUnique({ where: { id: 7 } }))?.email).toBe(customer(7).email);
  });

  it('migrates string keys and binary columns', async () => {
    const ph = (i: number) => (db.dialect === 'postgres' ? `$${i}` : '?');
    for (let i = 0; i < 30; i++) {
      await db.sql(
        `INSERT INTO ${db.t('Document')} (id, title, body) VALUES (${ph(1)}, ${ph(2)}, ${ph(3)})`,
        [
          `doc-${String(i).padStart(3, '0')}`,
          i % 5 === 0 ? null : `title ${i}`,
          i % 4 === 0 ? null : Buffer.from([i, 1, 2, 3]),
        ],
      );
    }
    const report = await migrate(db.config(keyring), { model: 'Document', batch: 7, chunkRows: 10 });
    // Rows 0 and 20 hold no value at all: nothing to encrypt, so they are left as they are.
    expect(report.totals).toMatchObject({ scanned: 30, written: 28, problems: 0 });
    expect(report.tables[0]?.chunks).toBeGreaterThan(1);
    const app = db.client.$extends(fieldEncryption({ keyring, metadata, blindIndexKey }));
    const docs = await app.document.findMany({ orderBy: { id: 'asc' } });
    expect(docs).toHaveLength(30);
    docs.forEach((doc, i) => {
      expect(doc.title).toBe(i % 5 === 0 ? null : `title ${i}`);
      expect(doc.body === null ? null : [...doc.body]).toEqual(i % 4 === 0 ? null : [i, 1, 2, 3]);
    });
  });

  it('status counts rows, percent encrypted and rows per master key', async () => {
    await insertCustomers(db, 10, 2_501);
    const result = await status(db.config(keyring, { blindIndexKey }), { model: 'Customer' });
    expect(result.tables[0]).toMatchObject({ rows: 2_510, encrypted: 2_500, plaintext: 10 });
    expect(result.tables[0]?.percentEncrypted).toBeCloseTo(99.6, 1);
    expect(result.tables[0]?.keys).toEqual({ k1: 2_500 });
    expect(result.tables[0]?.formats).toEqual({ v1: 0, v2: 2_500 });
    expect(result.tables[0]?.mislabeled).toBe(0);
  });

  it('migrate --dry-run counts the rows it would encrypt and writes nothing', async () => {
    const report = await migrate(db.config(keyring, { blindIndexKey }), { model: 'Customer', dryRun: true });
    expect(report.tables[0]?.wouldWrite).toBe(10);
    const plain = await db.sql(`SELECT COUNT(*) AS n FROM ${db.t('customers')} WHERE data_key IS NULL`);
    expect(Number(plain[0]?.n)).toBe(10);
  });

  it('decrypts back to the original plaintext (rollback), keeping blind indexes valid', async () => {
    const config = db.config(keyring, { blindIndexKey });
    const before = await verify(config, { model: 'Customer' });
    const report = await migrate(config, { model: 'Customer', decrypt: true, batch: 300 });
    expect(report.ok).toBe(true);
    expect(report.totals.written).toBe(2_500);
    const rows = await db.sql(
      `SELECT id, email, ssn, data_key, email_hash FROM ${db.t('customers')} ORDER BY id`,
    );
    expect(rows.every((row) => row.data_key === null)).toBe(true);
    expect(rows.slice(0, 2_500).every((row) => typeof row.email_hash === 'string')).toBe(true);
    rows.forEach((row) => {
      expect(row.email).toBe(customer(Number(row.id)).email);
      expect(row.ssn).toBe(row.id === 7 ? 'late-plaintext' : customer(Number(row.id)).ssn);
    });
    const after = await verify(config, { model: 'Customer' });
    expect(after.tables[0]?.checksum).toBe(before.tables[0]?.checksum);
    expect(after.tables[0]).toMatchObject({ plaintext: 2_510, encrypted: 0 });
  });
});
