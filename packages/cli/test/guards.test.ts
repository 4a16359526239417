import {
  BlindIndex,
  guardPlaces,
  guardViolationOf,
  LocalKeyring,
  parseDataKey,
  runSqliteRebuild,
  sqliteRebuild,
  sqliteSchemaOf,
  tableGuards,
} from '@fieldseal/core';
import { fieldEncryption } from '@fieldseal/prisma';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addGuards } from '../src/guards.js';
import { guardStatus, installGuards, migrate, removeGuards, rotate, verify } from '../src/index.js';
import { customer, insertCustomers, JOB_DIALECTS, metadata, openDb, type TestDb } from './helpers/db.js';

const keyText = LocalKeyring.generateKeyText('k1');
const keyring = LocalKeyring.fromString(keyText);
const blindIndexKey = await BlindIndex.generateKey(keyring);

/** Every string reachable from `value` (own properties, any depth): where a leak would hide. */
function deepText(value: unknown, seen = new Set<unknown>()): string {
  if (typeof value === 'string') return value;
  if (value === null || typeof value !== 'object' || seen.has(value)) return '';
  seen.add(value);
  return Object.getOwnPropertyNames(value)
    .map((key) => deepText((value as Record<string, unknown>)[key], seen))
    .join('\n');
}

/** The table's schema as the database reports it: what "changed nothing" is checked against. */
async function schemaOf(db: TestDb, table: string): Promise<unknown> {
  if (db.dialect === 'sqlite')
    return db.sql(`SELECT type, name, sql FROM sqlite_schema WHERE tbl_name = ? ORDER BY name`, [table]);
  if (db.dialect === 'mysql') return db.sql(`SHOW CREATE TABLE \`${table}\``);
  return db.sql(
    `SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = to_regclass($1) ORDER BY conname`,
    [`"${db.name}"."${table}"`],
  );
}

describe.each(JOB_DIALECTS)('database guards on %s', (dialect) => {
  let db: TestDb;
  const config = () => db.config(keyring, { blindIndexKey });
  const places = () => guardPlaces(config().tables);
  const p = (n: number) => (dialect === 'postgres' ? `$${n}` : '?');
  /** Runs raw SQL that must be refused by `guard`; returns the typed error. */
  const refused = async (sql: string, params: unknown[], column: string) => {
    const error = await db.sql(sql, params).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error, `accepted: ${sql} ${JSON.stringify(params)}`).toBeDefined();
    const typed = guardViolationOf(error, places());
    expect(typed, String(error)).toBeDefined();
    expect(typed?.column).toBe(column);
    return typed;
  };

  beforeAll(async () => {
    db = await openDb(dialect);
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('install on a table holding plaintext reports the rows (count, first ids, never values) and changes nothing', async () => {
    await insertCustomers(db, 40);
    const before = await schemaOf(db, 'customers');
    const report = await installGuards(config(), { model: 'Customer' });
    expect(report.ok).toBe(false);
    const table = report.tables[0];
    expect(table?.changed).toEqual([]);
    expect(table?.installed).toEqual([]);
    const email = table?.violations.find((v) => v.column === 'email');
    expect(email).toMatchObject({
      kind: 'value',
      rows: 40,
      firstIds: ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10'],
    });
    expect(JSON.stringify(report)).not.toMatch(/example\.com|ssn-/);
    expect(await schemaOf(db, 'customers')).toEqual(before);
  });

  it('a guard added under rows that break it is taken back whole (PostgreSQL NOT VALID + VALIDATE, MariaDB one ALTER, SQLite rebuild)', async () => {
    const before = await schemaOf(db, 'customers');
    const rows = await db.sql(`SELECT * FROM ${db.t('customers')} ORDER BY id`);
    const tg = tableGuards(config().tables[0]!, dialect);
    await expect(addGuards(config().executor, tg, tg.guards)).rejects.toThrow();
    expect(await schemaOf(db, 'customers')).toEqual(before);
    expect(await db.sql(`SELECT * FROM ${db.t('customers')} ORDER BY id`)).toEqual(rows);
    if (dialect === 'sqlite') {
      // No half-built table is left behind, and foreign-key enforcement is as it was.
      expect(await db.sql(`SELECT name FROM sqlite_schema WHERE name LIKE 'fieldseal_rebuild%'`)).toEqual([]);
    }
  });

  it('after migrate, install adds every guard; status finds no violation', async () => {
    const migrated = await migrate(config(), { model: 'Customer' });
    expect(migrated.ok).toBe(true);
    const report = await installGuards(config(), { model: 'Customer' });
    expect(report.ok).toBe(true);
    expect(report.tables[0]?.changed).toHaveLength(4);
    const status = await guardStatus(config(), { model: 'Customer' });
    expect(status.tables[0]).toMatchObject({ missing: [], notValidated: [], violations: [] });
    expect(status.tables[0]?.installed).toHaveLength(4);
    // A second install changes nothing.
    expect((await installGuards(config(), { model: 'Customer' })).tables[0]?.changed).toEqual([]);
  });

  it('raw SQL writing plaintext, a value without its data key or a malformed value is refused', async () => {
    const [row] = await db.sql(
      `SELECT email, ssn, email_hash, data_key FROM ${db.t('customers')} WHERE id = 1`,
    );
    const { email, data_key: key } = row as { email: string; data_key: string };
    const t = db.t('customers');
    await refused(
      `INSERT INTO ${t} (id, email, data_key) VALUES (1001, ${p(1)}, ${p(2)})`,
      ['plain@example.com', key],
      'email',
    );
    await refused(`UPDATE ${t} SET email = ${p(1)} WHERE id = 2`, ['plain@example.com'], 'email');
    await refused(`UPDATE ${t} SET ssn = ${p(1)} WHERE id = 2`, ['123-45-6789'], 'ssn');
    // Ciphertext without its data key: unreadable by anyone, refused.
    await refused(`INSERT INTO ${t} (id, email) VALUES (1002, ${p(1)})`, [email], 'data_key');
    await refused(`UPDATE ${t} SET data_key = NULL WHERE id = 2`, [], 'data_key');
    const body = email.slice(4);
    const malformed = [
      `fs1:${'!'.repeat(body.length)}`, // not base64url
      `FS1:${body}`, // case matters (MariaDB collations are case-insensitive)
      `fs1:${body}\n`, // PCRE's $ matches before a final newline
      `fs3:${body}`, // unknown version
      'fs1:QUJD', // too short to hold a value
      `fs1:${body}${'A'.repeat((5 - (body.length % 4)) % 4 || 4)}`, // a length base64url never has
      `fs1:C${body.slice(1)}`, // flags byte with unknown bits
      `fs1:${body} trailing plaintext`,
    ];
    for (const value of malformed)
      await refused(`UPDATE ${t} SET email = ${p(1)} WHERE id = 2`, [value], 'email');
    for (const value of [
      'fsk1:',
      'fsk1:abc def',
      `FSK1:${key.slice(5)}`,
      `fsk2:${'a'.repeat(21)}.abcd`,
      'fsk3:abcd',
    ])
      await refused(`UPDATE ${t} SET data_key = ${p(1)} WHERE id = 2`, [value], 'data_key');
    for (const value of ['A'.repeat(32), 'a'.repeat(31), 'plain@example.com', `${'a'.repeat(32)}\n`])
      await refused(`UPDATE ${t} SET email_hash = ${p(1)} WHERE id = 2`, [value], 'email_hash');
    if (dialect === 'sqlite') {
      // SQLite-only shapes: a NUL hiding plaintext after valid text (GLOB stops at NUL), a blob in a text column.
      await refused(
        `UPDATE ${t} SET email = ${p(1)} || char(0) || 'plaintext' WHERE id = 2`,
        [email],
        'email',
      );
      await refused(`UPDATE ${t} SET email = CAST(${p(1)} AS BLOB) WHERE id = 2`, [email], 'email');
      await refused(`UPDATE ${t} SET email = 12345 WHERE id = 2`, [], 'email');
    }
    const [after] = await db.sql(`SELECT email, ssn, email_hash, data_key FROM ${t} WHERE id = 2`);
    expect(String(after?.email)).toMatch(/^fs[12]:/);
    expect(after?.data_key).not.toBeNull();
  });

  it('binary columns accept only fieldseal bytes', async () => {
    const app = db.client.$extends(fieldEncryption({ keyring, metadata, blindIndexKey }));
    await app.document.create({ data: { id: 'd1', title: 'Title', body: new Uint8Array([1, 2, 3]) } });
    expect((await installGuards(config(), { model: 'Document' })).ok).toBe(true);
    const t = db.t('Document');
    const [row] = await db.sql(`SELECT body FROM ${t} WHERE id = 'd1'`);
    const body = Buffer.from(row?.body as Uint8Array);
    const column = dialect === 'mysql' ? 'body' : 'body';
    for (const value of [
      Buffer.from('plain bytes'),
      Buffer.concat([Buffer.from('fs1:'), Buffer.alloc(10)]),
      Buffer.concat([Buffer.from('FS1:'), body.subarray(4)]),
      Buffer.concat([Buffer.from('fs1:'), Buffer.from([0x10]), body.subarray(5)]),
    ])
      await refused(`UPDATE ${t} SET body = ${p(1)} WHERE id = 'd1'`, [value], column);
    if (dialect === 'sqlite')
      await refused(`UPDATE ${t} SET body = ${p(1)} WHERE id = 'd1'`, [body.toString('latin1')], column);
    expect(await app.document.findUnique({ where: { id: 'd1' } })).toMatchObject({
      title: 'Title',
      body: new Uint8Array([1, 2, 3]),
    });
  });

  it("what a guard cannot see: a whole encrypted row copied to another id passes (opening it is the format's job)", async () => {
    const t = db.t('customers');
    await db.sql(
      `INSERT INTO ${t} (id, email, ssn, email_hash, data_key) SELECT 2001, email, ssn, NULL, data_key FROM ${t} WHERE id = 1`,
    );
    expect(await db.sql(`SELECT id FROM ${t} WHERE id = 2001`)).toHaveLength(1);
    await db.sql(`DELETE FROM ${t} WHERE id = 2001`);
  });

  it('the Prisma extension works as before with guards installed: create, createMany, update, upsert, find, delete', async () => {
    const app = db.client.$extends(fieldEncryption({ keyring, metadata, blindIndexKey, readMode: 'strict' }));
    const created = await app.customer.create({ data: { email: 'new@example.com', ssn: 'ssn-new' } });
    await app.customer.createMany({
      data: [{ email: 'm1@example.com' }, { email: 'm2@example.com', ssn: null }],
    });
    await app.customer.update({ where: { id: created.id }, data: { ssn: 'ssn-changed' } });
    await app.customer.updateMany({ where: { email: 'm1@example.com' }, data: { ssn: 'ssn-m1' } });
    await app.customer.upsert({
      where: { id: created.id },
      create: { email: 'x@example.com' },
      update: { email: 'renamed@example.com' },
    });
    expect(await app.customer.findFirst({ where: { email: 'renamed@example.com' } })).toMatchObject({
      id: created.id,
      ssn: 'ssn-changed',
    });
    expect(await app.customer.findFirst({ where: { email: 'm1@example.com' } })).toMatchObject({
      ssn: 'ssn-m1',
    });
    await app.customer.update({ where: { id: created.id }, data: { ssn: null } });
    await app.customer.delete({ where: { id: created.id } });
    await app.customer.deleteMany({ where: { email: 'm2@example.com' } });
    expect(await app.customer.findFirst({ where: { email: customer(5).email } })).toMatchObject({ id: 5 });
  });

  it("a write the app's (older) metadata leaves in plaintext is refused with a typed error naming table and column", async () => {
    const stale = structuredClone(metadata) as typeof metadata;
    delete (stale.models.Customer as { encrypted: Record<string, unknown> }).encrypted.ssn;
    const app = db.client.$extends(fieldEncryption({ keyring, metadata: stale, blindIndexKey }));
    const count = await db.sql(`SELECT COUNT(*) AS n FROM ${db.t('customers')}`);
    const error = await app.customer
      .create({ data: { email: 'old@example.com', ssn: '987-65-4321' } })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      name: 'GuardViolationError',
      code: 'guard-violation',
      table: 'customers',
      column: 'ssn',
    });
    expect(String((error as Error).message)).not.toContain('987-65-4321');
    // Nowhere in the error, however deep (PostgreSQL's driver error names the failing row's values).
    expect(deepText(error)).not.toContain('987-65-4321');
    expect(await db.sql(`SELECT COUNT(*) AS n FROM ${db.t('customers')}`)).toEqual(count);
  });

  it('a second migrate and verify keep working with guards installed; migrate --decrypt removes them first', async () => {
    expect((await migrate(config(), { model: 'Customer' })).totals.written).toBe(0);
    const verified = await verify(config(), { model: 'Customer' });
    expect(verified.ok, JSON.stringify(verified.tables[0]?.problems.slice(0, 3))).toBe(true);
    expect((await guardStatus(config(), { model: 'Customer' })).tables[0]?.missing).toEqual([]);

    const decrypted = await migrate(config(), { model: 'Customer', decrypt: true });
    expect(decrypted.ok).toBe(true);
    expect((await guardStatus(config(), { model: 'Customer' })).tables[0]?.installed).toEqual([]);
    const [row] = await db.sql(`SELECT email FROM ${db.t('customers')} WHERE id = 3`);
    expect(row?.email).toBe(customer(3).email);
    // Removing twice is harmless.
    expect((await removeGuards(config(), { model: 'Customer' })).ok).toBe(true);
  });

  it('rotate keeps working with guards installed: every data key re-wrapped, none refused', async () => {
    expect((await migrate(config(), { model: 'Customer' })).ok).toBe(true);
    expect((await installGuards(config(), { model: 'Customer' })).ok).toBe(true);
    const both = LocalKeyring.fromString(`${keyText}\n${LocalKeyring.generateKeyText('k2')}`);
    const rotated = await rotate(db.config(both, { blindIndexKey }), { model: 'Customer', to: 'k2' });
    expect(rotated.ok, JSON.stringify(rotated.tables)).toBe(true);
    const keys = await db.sql(`SELECT data_key FROM ${db.t('customers')} WHERE data_key IS NOT NULL`);
    expect(keys.length).toBe(rotated.totals.written);
    expect(new Set(keys.map((k) => parseDataKey(k.data_key).keyId))).toEqual(new Set(['k2']));
    expect((await guardStatus(config(), { model: 'Customer' })).tables[0]).toMatchObject({
      missing: [],
      violations: [],
    });
  });
});

describe('SQLite rebuild keeps what the table had', () => {
  it('indexes, triggers, views, foreign keys and the AUTOINCREMENT high-water mark survive install and remove; a failure rolls everything back', async () => {
    const db = await openDb('sqlite');
    try {
      const config = db.config(keyring, { blindIndexKey });
      await db.sql('CREATE INDEX customers_note ON customers (note)');
      await db.sql(
        'CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers (id))',
      );
      await db.sql('CREATE TABLE audit (n INTEGER)');
      await db.sql(
        'CREATE TRIGGER customers_audit AFTER INSERT ON customers BEGIN INSERT INTO audit VALUES (NEW.id); END',
      );
      await db.sql('CREATE VIEW customer_notes AS SELECT id, note FROM customers');
      await insertCustomers(db, 5);
      await db.sql('DELETE FROM customers WHERE id = 5'); // the high-water mark stays 5
      await db.sql('INSERT INTO orders VALUES (1, 2)');
      await migrate(config, { model: 'Customer' });
      const definitionBefore = await db.sql(
        `SELECT type, name, sql FROM sqlite_schema WHERE type <> 'table' ORDER BY name`,
      );

      // Planted failure: a step after the copy fails; nothing of the rebuild may remain.
      const tg = tableGuards(config.tables[0]!, 'sqlite');
      const schema = await sqliteSchemaOf(config.executor, tg);
      const broken = sqliteRebuild(
        tg,
        { ...schema, dependents: [...schema.dependents, 'CREATE INDEX oops ON nowhere (x)'] },
        { add: tg.guards },
      );
      await expect(runSqliteRebuild(config.executor, broken)).rejects.toThrow(/nowhere/);
      expect((await guardStatus(config, { model: 'Customer' })).tables[0]?.installed).toEqual([]);
      expect(
        await db.sql(`SELECT type, name, sql FROM sqlite_schema WHERE type <> 'table' ORDER BY name`),
      ).toEqual(definitionBefore);

      expect((await installGuards(config, { model: 'Customer' })).ok).toBe(true);
      expect(
        await db.sql(`SELECT type, name, sql FROM sqlite_schema WHERE type <> 'table' ORDER BY name`),
      ).toEqual(definitionBefore);
      const app = db.client.$extends(fieldEncryption({ keyring, metadata, blindIndexKey }));
      const created = await app.customer.create({ data: { email: 'after@example.com' } });
      expect(created.id).toBe(6); // not 5: AUTOINCREMENT never reuses an id
      expect((await db.sql('SELECT n FROM audit')).at(-1)).toEqual({ n: 6 });
      expect(await db.sql('SELECT COUNT(*) AS n FROM customer_notes')).toEqual([{ n: 5 }]);
      // The foreign key from orders still holds (this connection enforces foreign keys).
      await expect(db.sql('DELETE FROM customers WHERE id = 2')).rejects.toThrow(/FOREIGN KEY/);
      expect(await db.sql('PRAGMA foreign_key_check')).toEqual([]);
      expect((await removeGuards(config, { model: 'Customer' })).tables[0]?.installed).toEqual([]);
      expect(
        await db.sql(`SELECT type, name, sql FROM sqlite_schema WHERE type <> 'table' ORDER BY name`),
      ).toEqual(definitionBefore);
    } finally {
      await db.drop();
    }
  });
});
