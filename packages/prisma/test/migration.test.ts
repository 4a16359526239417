import { DecryptionError } from '@fieldseal/core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, openDatabase, type TestDatabase } from './helpers/databases.js';
import { type EncryptedClient, extendedClient } from './helpers/fixture.js';
import { expectRowInvariant } from './helpers/invariant.js';

describe.each(DIALECTS)('migration from plaintext on %s', (dialect) => {
  let db: TestDatabase;
  let strict: EncryptedClient;
  let tolerant: EncryptedClient;
  let legacyId: number;
  beforeAll(async () => {
    db = await openDatabase(dialect);
    strict = extendedClient(db);
    tolerant = extendedClient(db, { readMode: 'tolerant' });
  });
  afterAll(async () => db?.drop());
  beforeEach(async () => {
    await db.execute(`DELETE FROM ${db.t('User')}`);
    // A row written before encryption was turned on: plaintext, no data key, no blind index.
    await db.execute(
      `INSERT INTO ${db.t('User')} (${db.q('email')}, ${db.q('ssn')}, ${db.q('name')}) VALUES ('legacy@x.io', '555-00', 'legacy')`,
    );
    legacyId = (await db.rows('User'))[0]?.id as number;
  });

  it('strict mode refuses a plaintext value, naming table, column and row', async () => {
    const error = await strict.user.findMany().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DecryptionError);
    expect((error as DecryptionError).code).toBe('plaintext-in-strict-mode');
    expect((error as DecryptionError).location).toMatchObject({ table: 'User', rowId: legacyId });
    expect((error as Error).message).not.toContain('legacy@x.io');
  });

  it('tolerant mode returns legacy plaintext as it is, next to encrypted rows', async () => {
    await tolerant.user.create({ data: { email: 'new@x.io', ssn: '1' } });
    const users = await tolerant.user.findMany({ orderBy: { id: 'asc' } });
    expect(users.map((user) => [user.email, user.ssn])).toEqual([
      ['legacy@x.io', '555-00'],
      ['new@x.io', '1'],
    ]);
  });

  it('a partial update of a legacy row gives it a data key, guarded by "still null"', async () => {
    const updated = await tolerant.user.update({ where: { id: legacyId }, data: { ssn: '555-11' } });
    expect(updated).toMatchObject({ email: 'legacy@x.io', ssn: '555-11' });
    const [row] = await db.rows('User');
    expect(row?.dataKey).toMatch(/^fsk2:[A-Za-z0-9_-]{22}\./);
    expect(row?.ssn).toMatch(/^fs2:/);
    expect(row?.email).toBe('legacy@x.io'); // not rewritten: only written columns change
  });

  it('rewriting every encrypted field migrates the row; strict reads then succeed', async () => {
    for (const user of await tolerant.user.findMany()) {
      await tolerant.user.update({ where: { id: user.id }, data: { email: user.email, ssn: user.ssn } });
    }
    await expectRowInvariant(db, 'User');
    expect(await strict.user.findFirst({ where: { email: 'legacy@x.io' } })).toMatchObject({ ssn: '555-00' });
  });

  it('updateMany over legacy and encrypted rows keys each group correctly', async () => {
    await tolerant.user.create({ data: { email: 'new@x.io', name: 'legacy' } });
    expect((await tolerant.user.updateMany({ where: { name: 'legacy' }, data: { ssn: 'x' } })).count).toBe(2);
    const rows = await tolerant.user.findMany({ orderBy: { id: 'asc' } });
    expect(rows.map((row) => [row.email, row.ssn])).toEqual([
      ['legacy@x.io', 'x'],
      ['new@x.io', 'x'],
    ]);
    const raw = await db.rows('User');
    expect(
      raw.every((row) => String(row.dataKey).startsWith('fsk2:') && String(row.ssn).startsWith('fs2:')),
    ).toBe(true);
  });
});
