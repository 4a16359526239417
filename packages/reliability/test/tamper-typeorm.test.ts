/**
 * Tampering with stored rows through the TypeORM adapter: raw SQL alters what is stored, then
 * the repository reads it. Every case must fail with a typed error (class and code asserted)
 * naming entity and row, never return a different plaintext, never echo the plaintext.
 */
import { CachingKeyring } from '@fieldseal/cache';
import { DecryptionError, FieldsealError, KeyringError, LocalKeyring } from '@fieldseal/core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Customer, Note } from './support/entities.js';
import { errorText, leaks } from './support/secrets.js';
import { scale } from './support/soak.js';
import { DIALECTS, openTypeormDb, type TypeormDb } from './support/typeorm-db.js';

const MASTER = LocalKeyring.generateKeyText('tamper-orm');

describe.each(DIALECTS)('tampered rows read through TypeORM on %s', (dialect) => {
  let db: TypeormDb;
  let cache: CachingKeyring;
  let ids: number[];
  const secrets = ['victim-0@secret.example', 'victim-1@secret.example', 'SSN-SECRET-0', 'SSN-SECRET-1'];
  let pristine: Record<string, unknown>[];

  beforeAll(async () => {
    // maxUses 1: every row has its own data key, so swaps and copies between rows are meaningful.
    cache = new CachingKeyring(LocalKeyring.fromString(MASTER), { maxUses: 1 });
    db = await openTypeormDb(dialect, cache);
    const customers = db.dataSource.getRepository(Customer);
    const saved = await customers.save([
      customers.create({
        handle: 'v0',
        email: secrets[0] as string,
        ssn: secrets[2] as string,
        photo: Buffer.from([0, 1, 254, 255]),
      }),
      customers.create({ handle: 'v1', email: secrets[1] as string, ssn: secrets[3] as string, photo: null }),
    ]);
    ids = saved.map((c) => c.id);
    await db.dataSource.getRepository(Note).save({ body: 'a note body' });
    pristine = await db.rows('customer');
  });
  afterAll(async () => {
    cache?.close();
    await db?.drop();
  });

  /** Restores both customer rows to what was written. */
  async function restore(): Promise<void> {
    for (const row of pristine)
      await set(row.id as number, { email: row.email, ssn: row.ssn, photo: row.photo, dataKey: row.dataKey });
  }

  async function set(id: number, values: Record<string, unknown>): Promise<void> {
    const columns = Object.keys(values);
    const assignments = columns.map((c, i) => `${db.q(c)} = ${db.p(i + 1)}`).join(', ');
    await db.dataSource.query(
      `UPDATE ${db.t('customer')} SET ${assignments} WHERE "id" = ${db.p(columns.length + 1)}`,
      [...columns.map((c) => values[c]), id],
    );
  }

  /** Reads row `id` through the adapter with a cold decrypt cache; returns the typed error. */
  async function readFails(id: number): Promise<FieldsealError> {
    cache.clear();
    try {
      const read = await db.dataSource.getRepository(Customer).findOneByOrFail({ id });
      throw new Error(
        `tampered row ${id} was read: ${read.email === pristine[0]?.email ? 'same' : 'different'} value`,
      );
    } catch (error) {
      if (!(error instanceof FieldsealError)) throw error;
      expect(error.message).toContain('entity Customer');
      expect(error.location).toMatchObject({ table: 'customer', rowId: id });
      expect(leaks(errorText(error), secrets)).toEqual([]);
      return error;
    }
  }

  const raw = (i: number) => pristine[i] as Record<string, unknown>;

  it('the untampered rows read back (control)', async () => {
    const rows = await db.dataSource.getRepository(Customer).findBy({});
    expect(rows.map((r) => r.email)).toEqual([secrets[0], secrets[1]]);
  });

  it('a flipped byte in a stored value: authentication-failed', async () => {
    const email = String(raw(0).email);
    const body = Buffer.from(email.slice(4), 'base64url');
    body[body.length - 20] = (body[body.length - 20] as number) ^ 0x40;
    await set(ids[0] as number, { email: `fs2:${body.toString('base64url')}` });
    const error = await readFails(ids[0] as number);
    expect([error.constructor, error.code]).toEqual([DecryptionError, 'authentication-failed']);
    await restore();
  });

  it("a flipped byte in the row's wrapped data key: unwrap-failed", async () => {
    const dataKey = String(raw(0).dataKey);
    // Format v2: "fsk2:<salt>." (28 characters) then the wrapped key; flip inside the wrapped key.
    const body = Buffer.from(dataKey.slice(28), 'base64url');
    body[body.length - 3] = (body[body.length - 3] as number) ^ 0x01;
    await set(ids[0] as number, { dataKey: `${dataKey.slice(0, 28)}${body.toString('base64url')}` });
    const error = await readFails(ids[0] as number);
    expect([error.constructor, error.code]).toEqual([KeyringError, 'unwrap-failed']);
    await restore();
  });

  it('a value copied from another column of the row: authentication-failed', async () => {
    await set(ids[0] as number, { ssn: raw(0).email });
    const error = await readFails(ids[0] as number);
    expect([error.constructor, error.code]).toEqual([DecryptionError, 'authentication-failed']);
    await restore();
  });

  it('a value copied from another row (other data key): wrong-data-key', async () => {
    await set(ids[0] as number, { email: raw(1).email });
    const error = await readFails(ids[0] as number);
    expect([error.constructor, error.code]).toEqual([DecryptionError, 'wrong-data-key']);
    await restore();
  });

  it('a value and data key copied from another table: the table-bound data key does not unwrap', async () => {
    const [note] = await db.rows('note');
    await set(ids[0] as number, { email: note?.body, dataKey: note?.dataKey });
    const error = await readFails(ids[0] as number);
    expect([error.constructor, error.code]).toEqual([KeyringError, 'unwrap-failed']);
    await restore();
  });

  it('data-key columns swapped between the two rows: both rows fail with wrong-data-key', async () => {
    await set(ids[0] as number, { dataKey: raw(1).dataKey });
    await set(ids[1] as number, { dataKey: raw(0).dataKey });
    for (const id of ids) {
      const error = await readFails(id);
      expect([error.constructor, error.code]).toEqual([DecryptionError, 'wrong-data-key']);
    }
    await restore();
  });

  it('a truncated value: malformed-value', async () => {
    await set(ids[0] as number, { ssn: String(raw(0).ssn).slice(0, 30) });
    const error = await readFails(ids[0] as number);
    expect([error.constructor, error.code]).toEqual([DecryptionError, 'malformed-value']);
    await restore();
  });

  it('a row written under a master key this keyring lacks: unknown-master-key', async () => {
    const foreign = await openTypeormDb(
      'sqlite',
      LocalKeyring.fromString(LocalKeyring.generateKeyText('elsewhere')),
    );
    try {
      const [row] = await foreign.dataSource
        .getRepository(Customer)
        .save([
          foreign.dataSource.getRepository(Customer).create({ handle: 'x', email: 'x@x.example', ssn: null }),
        ]);
      const stored = (await foreign.rows('customer')).find((r) => r.id === row?.id);
      await set(ids[0] as number, { email: stored?.email, ssn: null, photo: null, dataKey: stored?.dataKey });
    } finally {
      await foreign.drop();
    }
    const error = await readFails(ids[0] as number);
    expect([error.constructor, error.code]).toEqual([KeyringError, 'unknown-master-key']);
    await restore();
  });

  it('an unknown format version: unsupported-version', async () => {
    await set(ids[0] as number, { email: `fs7:${String(raw(0).email).slice(4)}` });
    const error = await readFails(ids[0] as number);
    expect([error.constructor, error.code]).toEqual([DecryptionError, 'unsupported-version']);
    await restore();
  });

  it('random single-byte changes anywhere in a stored value or data key (fast-check sample): always a typed error', async () => {
    const codes = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('email', 'ssn', 'photo', 'dataKey'),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        async (column, at, xor) => {
          const original = String(raw(0)[column]);
          const prefix = column === 'dataKey' ? original.slice(0, 28) : 'fs2:';
          const body = Buffer.from(original.slice(prefix.length), 'base64url');
          const position = at % body.length;
          body[position] = (body[position] as number) ^ xor;
          await set(ids[0] as number, { [column]: prefix + body.toString('base64url') });
          const error = await readFails(ids[0] as number);
          codes.set(`${error.name}:${error.code}`, (codes.get(`${error.name}:${error.code}`) ?? 0) + 1);
          await restore();
        },
      ),
      { numRuns: scale(dialect === 'sqlite' ? 200 : 60, 2_000) },
    );
    expect([...codes.keys()].every((code) => /^(DecryptionError|KeyringError):/.test(code))).toBe(true);
    console.info(
      `[reliability figures] tamper-typeorm ${dialect} ${JSON.stringify(Object.fromEntries(codes))}`,
    );
  });
});
