import { CachingKeyring } from '@fieldseal/cache';
import { DecryptionError, isEncryptedValue, LocalKeyring } from '@fieldseal/core';
import { In } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from './support/databases.js';
import { User } from './support/entities.js';
import { type EncryptedDatabase, encryptedDatabase, rawRows, testKeyring } from './support/setup.js';
import { placeholder, rowsBreakingInvariant } from './support/verify.js';

/** Inserts a row as it was before encryption was turned on: plaintext values, no data key. */
async function insertLegacyRow(db: EncryptedDatabase, email: string, ssn: string | null): Promise<number> {
  const p = (i: number) => placeholder(db, i);
  await db.dataSource.query(
    `INSERT INTO ${db.t('user')} (${db.q('name')}, ${db.q('email')}, ${db.q('ssn')}) VALUES (${p(1)}, ${p(2)}, ${p(3)})`,
    ['legacy', email, ssn],
  );
  const rows = await rawRows(db, 'user');
  return Number(rows.find((r) => r.email === email)?.id);
}

describe.each(DIALECTS)('per-row data-key invariant on %s', (dialect) => {
  let db: EncryptedDatabase;
  let cache: CachingKeyring;
  beforeAll(async () => {
    // A cache makes many rows share one data key, so updates are grouped; tolerant reads legacy rows.
    const master = LocalKeyring.fromString(
      `${LocalKeyring.generateKeyText('old')}\n${LocalKeyring.generateKeyText('new')}`,
    );
    cache = new CachingKeyring(master, { maxUses: 4 });
    db = await encryptedDatabase(dialect, { keyring: cache, readMode: 'tolerant' });
  });
  afterAll(async () => {
    cache?.close();
    await db?.drop();
  });
  const users = () => db.dataSource.getRepository(User);
  const verify = () => rowsBreakingInvariant(db, db.keyring, 'user', ['email', 'ssn']);

  it('every value of every row opens with its own row key after saves, partial and bulk updates', async () => {
    const saved = await users().save(
      Array.from({ length: 20 }, (_, i) =>
        users().create({ name: `g${i % 3}`, email: `inv${i}@example.com`, ssn: `ssn-${i}` }),
      ),
    );
    // Rows share cached data keys (the wrapped key after each row's own salt).
    const wrapped = new Set(saved.map((u) => String(u.dataKey).slice(28)));
    expect(wrapped.size).toBeGreaterThan(1);
    expect(wrapped.size).toBeLessThan(20);
    expect(new Set(saved.map((u) => u.dataKey)).size).toBe(20);
    await users().update({ name: 'g1' }, { ssn: 'bulk-1' });
    await users().update({ id: In(saved.slice(0, 7).map((u) => u.id)) }, { ssn: 'shared-ssn' });
    const one = await users().findOneByOrFail({ id: saved[10]?.id as number });
    one.email = 'changed@example.com';
    await users().save(one);
    await users().updateAll({ name: 'all' });
    expect(await verify()).toEqual([]);
    const rows = await rawRows(db, 'user');
    expect(rows.filter((r) => r.ssn !== null).every((r) => isEncryptedValue(r.ssn))).toBe(true);
    const reread = await users().findBy({ id: In(saved.map((u) => u.id)) });
    expect(reread.filter((u) => u.ssn === 'bulk-1').length).toBe(
      saved.filter((_, i) => i % 3 === 1 && i >= 7).length,
    );
    expect(reread.filter((u) => u.ssn === 'shared-ssn').length).toBe(7);
    // Each row kept the data key it was created with.
    expect(reread.map((u) => u.dataKey).sort()).toEqual(saved.map((u) => u.dataKey).sort());
  });

  it('tolerant mode reads a legacy plaintext row; its first encrypted write gives it a data key', async () => {
    const id = await insertLegacyRow(db, 'legacy@example.com', '123-45-6789');
    const legacy = await users().findOneByOrFail({ id });
    expect(legacy).toMatchObject({ email: 'legacy@example.com', ssn: '123-45-6789', dataKey: null });
    await users().update(id, { ssn: '987-65-4321' });
    const row = (await rawRows(db, 'user')).find((r) => r.id === id);
    expect(String(row?.dataKey)).toMatch(/^fsk2:/);
    expect(isEncryptedValue(row?.ssn)).toBe(true);
    expect(row?.email).toBe('legacy@example.com'); // not asked to write it; still legacy plaintext
    expect(await users().findOneByOrFail({ id })).toMatchObject({
      email: 'legacy@example.com',
      ssn: '987-65-4321',
    });
    const loaded = await users().findOneByOrFail({ id });
    loaded.email = 'migrated@example.com';
    await users().save(loaded);
    expect(await users().findOneByOrFail({ email: 'migrated@example.com' })).toMatchObject({
      id,
      ssn: '987-65-4321',
    });
    expect(await verify()).toEqual([]);
  });

  it('concurrent partial updates of different columns of one legacy row end under one key', async () => {
    for (let round = 0; round < 5; round++) {
      const id = await insertLegacyRow(db, `race${round}@example.com`, 'race-ssn');
      await Promise.all([
        users().update(id, { email: `race${round}-new@example.com` }),
        users().update(id, { ssn: `race-ssn-${round}` }),
      ]);
      expect(await users().findOneByOrFail({ id })).toMatchObject({
        email: `race${round}-new@example.com`,
        ssn: `race-ssn-${round}`,
      });
    }
    expect(await verify()).toEqual([]);
  });

  it('a re-wrapped (rotated) data key is kept and still groups and opens the row', async () => {
    const user = await users().save(users().create({ email: 'rotate@example.com', ssn: 'before' }));
    const rewrapped = await rewrap(db, user.id, 'new');
    await users().update({ email: 'rotate@example.com' }, { ssn: 'after' });
    const row = (await rawRows(db, 'user')).find((r) => r.id === user.id);
    expect(row?.dataKey).toBe(rewrapped);
    expect((await users().findOneByOrFail({ id: user.id })).ssn).toBe('after');
  });
});

describe.each(DIALECTS)('strict reads on %s', (dialect) => {
  let db: EncryptedDatabase;
  beforeAll(async () => {
    db = await encryptedDatabase(dialect, { keyring: testKeyring() });
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('strict mode (the default) refuses legacy plaintext, naming entity, column and row, not the value', async () => {
    const id = await insertLegacyRow(db, 'strict@example.com', null);
    const error = await db.dataSource
      .getRepository(User)
      .findOneBy({ id })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DecryptionError);
    expect((error as DecryptionError).code).toBe('plaintext-in-strict-mode');
    expect((error as DecryptionError).message).toContain('entity User, property email');
    expect((error as DecryptionError).location).toMatchObject({ table: 'user', column: 'email', rowId: id });
    expect((error as DecryptionError).message).not.toContain('strict@example.com');
  });
});

/** Re-wraps a row's data key under another master key, as rotation does; returns the new column value. */
async function rewrap(db: EncryptedDatabase, id: number, keyId: string): Promise<string> {
  const { parseDataKey, rewrapRowDataKey, TABLE_CONTEXT_KEY } = await import('@fieldseal/core');
  const row = (await rawRows(db, 'user')).find((r) => r.id === id);
  const stored = parseDataKey(row?.dataKey);
  const master = (db.keyring as CachingKeyring).inner as LocalKeyring;
  const moved = await master.reEncryptDataKey(
    stored.encryptedKey,
    { [TABLE_CONTEXT_KEY]: 'user' },
    { destinationKeyId: keyId },
  );
  const text = rewrapRowDataKey(stored, moved);
  await db.dataSource.query(
    `UPDATE ${db.t('user')} SET ${db.q('dataKey')} = ${placeholder(db, 1)} WHERE ${db.q('id')} = ${placeholder(db, 2)}`,
    [text, id],
  );
  return text;
}
