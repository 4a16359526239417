import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BlindIndex,
  deriveDataKey,
  encryptValue,
  formatDataKey,
  formatRowDataKey,
  guardInstallSql,
  LocalKeyring,
  RowEnvelope,
  runSqliteRebuild,
  type StoredTable,
  sqliteRebuild,
  sqliteSchemaOf,
  tableGuards,
} from '@fieldseal/core';
import { fieldEncryption } from '@fieldseal/prisma';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guardStatus, installGuards, upgrade, verify } from '../src/index.js';
import { JOB_DIALECTS, metadata, openDb, type TestDb } from './helpers/db.js';

const here = dirname(fileURLToPath(import.meta.url));
const vectors = (version: 1 | 2) =>
  JSON.parse(readFileSync(join(here, '..', '..', 'core', 'test-vectors', `v${version}.json`), 'utf8')) as {
    description: string;
    expected: { text: string; binary: string };
  }[];

const keyring = LocalKeyring.fromString(LocalKeyring.generateKeyText('k1'));
const blindIndexKey = await BlindIndex.generateKey(keyring);

/** A table with one column of each guarded kind. */
const FORMATS: StoredTable = {
  model: 'Formats',
  table: 'formats',
  primaryKey: ['id'],
  dataKeyColumn: 'dk',
  columns: [
    { field: 't', column: 't', output: 'text', blindIndex: { field: 'bi', column: 'bi' } },
    { field: 'b', column: 'b', output: 'binary' },
  ],
};
const DDL = {
  sqlite: 'CREATE TABLE formats (id INTEGER PRIMARY KEY, t TEXT, b BLOB, bi TEXT, dk TEXT)',
  postgres: 'CREATE TABLE formats (id INTEGER PRIMARY KEY, t TEXT, b BYTEA, bi TEXT, dk TEXT)',
  mysql: 'CREATE TABLE formats (id INT PRIMARY KEY, t TEXT, b LONGBLOB, bi VARCHAR(64), dk TEXT)',
};

describe.each(JOB_DIALECTS)('guards and every stored format on %s', (dialect) => {
  let db: TestDb;
  let id = 0;
  const p = (n: number) => (dialect === 'postgres' ? `$${n}` : '?');
  const insert = (t: string | null, b: Buffer | null, dk: string | null, bi: string | null = null) =>
    db.sql(
      `INSERT INTO ${db.t('formats')} (id, t, b, dk, bi) VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)})`,
      [++id, t, b, dk, bi],
    );
  let v1Key = '';
  let v2Key = '';

  beforeAll(async () => {
    db = await openDb(dialect);
    await db.sql(DDL[dialect]);
    const table = { ...FORMATS, ...(dialect === 'postgres' ? { schema: db.name } : {}) };
    const tg = tableGuards(table, dialect);
    const executor = db.config(keyring).executor;
    if (dialect === 'sqlite')
      await runSqliteRebuild(
        executor,
        sqliteRebuild(tg, await sqliteSchemaOf(executor, tg), { add: tg.guards }),
      );
    else for (const s of Object.values(guardInstallSql(tg)).flat()) await executor.execute(s);
    const material = await keyring.generateDataKey({ 'fieldseal:table': 'formats' });
    v1Key = formatDataKey(material);
    v2Key = formatRowDataKey(material, Buffer.alloc(16, 7));
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('accepts every v1 and v2 test vector, text and binary (the empty value included), under a v1 or v2 data key', async () => {
    for (const version of [1, 2] as const)
      for (const vector of vectors(version).filter((v) => v.expected?.text))
        await expect(
          insert(
            vector.expected!.text,
            Buffer.from(vector.expected!.binary, 'hex'),
            version === 1 ? v1Key : v2Key,
          ),
          `${version}: ${vector.description}`,
        ).resolves.toBeDefined();
    await expect(insert(null, null, null)).resolves.toBeDefined();
    await expect(insert(null, null, v2Key, 'a'.repeat(32))).resolves.toBeDefined();
  });

  it('refuses each vector cut short by one byte, with the wrong version, or without its data key', async () => {
    for (const version of [1, 2] as const) {
      const [shortest] = vectors(version).filter((v) => v.description.startsWith('empty'));
      expect(shortest).toBeDefined();
      const text = shortest!.expected!.text;
      const bytes = Buffer.from(shortest!.expected!.binary, 'hex');
      await expect(insert(text.slice(0, -3), null, v2Key)).rejects.toThrow(/fieldseal_guard_formats_t/);
      await expect(insert(null, bytes.subarray(0, -1), v2Key)).rejects.toThrow(/fieldseal_guard_formats_b/);
      await expect(insert(text, null, null)).rejects.toThrow(/fieldseal_guard_formats_data_key/);
    }
    // A v1 value's body is too short to be a v2 value.
    const [v1Empty] = vectors(1).filter((v) => v.description.startsWith('empty'));
    await expect(insert(`fs2:${v1Empty!.expected!.text.slice(4)}`, null, v2Key)).rejects.toThrow(
      /fieldseal_guard_formats_t/,
    );
  });
});

describe.each(JOB_DIALECTS)('a v1 row under guards on %s', (dialect) => {
  let db: TestDb;
  beforeAll(async () => {
    db = await openDb(dialect);
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('passes the guards, and its next write through the Prisma extension (the v1→v2 upgrade) is not refused', async () => {
    // A row as fieldseal 0.1 wrote it: fsk1 data key, fs1 values.
    const envelope = new RowEnvelope({ keyring });
    const material = await keyring.generateDataKey(envelope.contextFor('customers'));
    const key = deriveDataKey(material.plaintextKey);
    const index = await BlindIndex.open({ keyring, wrappedKey: blindIndexKey });
    const p = (n: number) => (dialect === 'postgres' ? `$${n}` : '?');
    await db.sql(
      `INSERT INTO ${db.t('customers')} (id, email, email_hash, ssn, data_key) VALUES (1, ${p(1)}, ${p(2)}, ${p(3)}, ${p(4)})`,
      [
        encryptValue(key, { table: 'customers', column: 'email' }, 'v1@example.com'),
        index.compute('customers', 'email', 'v1@example.com'),
        encryptValue(key, { table: 'customers', column: 'ssn' }, 'v1-ssn'),
        formatDataKey(material),
      ],
    );
    const config = db.config(keyring, { blindIndexKey });
    expect((await installGuards(config, { model: 'Customer' })).ok).toBe(true);
    const app = db.client.$extends(fieldEncryption({ keyring, metadata, blindIndexKey, readMode: 'strict' }));
    expect(await app.customer.findUnique({ where: { id: 1 } })).toMatchObject({
      email: 'v1@example.com',
      ssn: 'v1-ssn',
    });
    // Not refused by a guard, and the row reads back.
    await expect(
      app.customer.update({ where: { id: 1 }, data: { ssn: 'v2-ssn' }, select: { id: true } }),
    ).resolves.toMatchObject({
      id: 1,
    });
    expect(await app.customer.findUnique({ where: { id: 1 } })).toMatchObject({
      email: 'v1@example.com',
      ssn: 'v2-ssn',
    });
    const [row] = await db.sql(`SELECT ssn, data_key FROM ${db.t('customers')} WHERE id = 1`);
    expect(String(row?.ssn)).toMatch(/^fs[12]:/);
    expect(String(row?.data_key)).toMatch(/^fsk[12]:/);
    expect((await guardStatus(config, { model: 'Customer' })).tables[0]).toMatchObject({
      missing: [],
      violations: [],
    });
  });

  it('`fieldseal upgrade` re-encrypts v1 rows as v2 with the guards installed, none refused', async () => {
    // Rows as fieldseal 0.1 wrote them, several sharing one fsk1 data key.
    const envelope = new RowEnvelope({ keyring });
    const material = await keyring.generateDataKey(envelope.contextFor('customers'));
    const key = deriveDataKey(material.plaintextKey);
    const index = await BlindIndex.open({ keyring, wrappedKey: blindIndexKey });
    const p = (n: number) => (dialect === 'postgres' ? `$${n}` : '?');
    for (const id of [11, 12, 13])
      await db.sql(
        `INSERT INTO ${db.t('customers')} (id, email, email_hash, ssn, data_key) VALUES (${id}, ${p(1)}, ${p(2)}, ${p(3)}, ${p(4)})`,
        [
          encryptValue(key, { table: 'customers', column: 'email' }, `v1-${id}@example.com`),
          index.compute('customers', 'email', `v1-${id}@example.com`),
          encryptValue(key, { table: 'customers', column: 'ssn' }, `v1-ssn-${id}`),
          formatDataKey(material),
        ],
      );
    const config = db.config(keyring, { blindIndexKey });
    expect((await installGuards(config, { model: 'Customer' })).ok).toBe(true);
    const report = await upgrade(config, { model: 'Customer' });
    expect(report, JSON.stringify(report.tables)).toMatchObject({ ok: true, totals: { remaining: 0 } });
    expect(report.totals.written).toBeGreaterThanOrEqual(3);
    for (const row of await db.sql(`SELECT email, ssn, data_key FROM ${db.t('customers')} WHERE id >= 11`)) {
      expect(String(row.email)).toMatch(/^fs2:/);
      expect(String(row.ssn)).toMatch(/^fs2:/);
      expect(String(row.data_key)).toMatch(/^fsk2:/);
    }
    expect((await verify(config, { model: 'Customer' })).ok).toBe(true);
    expect((await guardStatus(config, { model: 'Customer' })).tables[0]).toMatchObject({
      missing: [],
      notValidated: [],
      violations: [],
    });
  });
});
