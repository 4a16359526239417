import { BlindIndex, isDecryptionError, isKeyringError } from '@fieldseal/core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, openDatabase, type TestDatabase } from './helpers/databases.js';
import { type EncryptedClient, extendedClient } from './helpers/fixture.js';
import { type LocalKms, startLocalKms } from './helpers/kms.js';

// A write whose returned row holds encrypted values decrypts it before the write commits: an
// error then always means "not written", so a retry cannot apply the write twice.
describe.each(DIALECTS)('no error for a committed write on %s', (dialect) => {
  let db: TestDatabase;
  let kms: LocalKms;
  let prisma: EncryptedClient;
  let id: number;
  let n = 0;
  beforeAll(async () => {
    db = await openDatabase(dialect);
    kms = await startLocalKms();
    prisma = extendedClient(db, {
      keyring: kms.keyring,
      blindIndexKey: await BlindIndex.generateKey(kms.keyring),
    });
  });
  afterAll(async () => {
    await db?.drop();
    await kms?.close();
  });
  beforeEach(async () => {
    kms.recover();
    id = (await prisma.user.create({ data: { email: `ada${++n}@x.io`, ssn: '123', name: 'Ada' } })).id;
  });
  const stored = async (rowId: number) => (await db.rows('User')).find((row) => row.id === rowId);
  const damage = async (rowId: number) => {
    const row = await stored(rowId);
    const ssn = String(row?.ssn);
    const flipped = `${ssn.slice(0, -3)}${ssn.at(-3) === 'A' ? 'B' : 'A'}${ssn.slice(-2)}`;
    await db.execute(
      `UPDATE ${db.t('User')} SET ${db.q('ssn')} = '${flipped}' WHERE ${db.q('id')} = ${rowId}`,
    );
  };

  it('KMS down: a plain-column update fails and is not written; after recovery it applies once', async () => {
    kms.outage();
    const error = await prisma.user
      .update({ where: { id }, data: { name: 'Changed' } })
      .catch((e: unknown) => e);
    expect(isKeyringError(error), String(error)).toBe(true);
    expect((await stored(id))?.name).toBe('Ada');
    kms.recover();
    const updated = await prisma.user.update({ where: { id }, data: { name: 'Changed' } });
    expect(updated).toMatchObject({ name: 'Changed', ssn: '123' });
  });

  it('KMS down: delete and upsert (plain update branch) fail and change nothing', async () => {
    kms.outage();
    expect(isKeyringError(await prisma.user.delete({ where: { id } }).catch((e: unknown) => e))).toBe(true);
    const upsert = await prisma.user
      .upsert({ where: { id }, create: { email: 'new@x.io' }, update: { name: 'Up' } })
      .catch((e: unknown) => e);
    expect(isKeyringError(upsert)).toBe(true);
    kms.recover();
    expect(await stored(id)).toMatchObject({ id, name: 'Ada' });
  });

  it('a damaged value in the returned row: the update and the delete are rolled back', async () => {
    await damage(id);
    const update = await prisma.user
      .update({ where: { id }, data: { name: 'Changed' } })
      .catch((e: unknown) => e);
    expect(isDecryptionError(update), String(update)).toBe(true);
    expect((update as Error).message).not.toContain('123');
    expect((await stored(id))?.name).toBe('Ada');
    expect(isDecryptionError(await prisma.user.delete({ where: { id } }).catch((e: unknown) => e))).toBe(
      true,
    );
    expect(await stored(id)).toBeDefined();
    // Selecting no encrypted field reads nothing to decrypt: the damaged row can be fixed or removed.
    expect(
      await prisma.user.update({ where: { id }, data: { name: 'Fixed' }, select: { name: true } }),
    ).toEqual({
      name: 'Fixed',
    });
    await prisma.user.delete({ where: { id }, select: { id: true } });
    expect(await stored(id)).toBeUndefined();
  });

  it("inside the app's interactive transaction the failure rolls the app's transaction back", async () => {
    kms.outage();
    const error = await prisma
      .$transaction(async (tx) => {
        await tx.audit.create({ data: { action: 'before' } });
        await tx.user.update({ where: { id }, data: { name: 'InTx' } });
      })
      .catch((e: unknown) => e);
    expect(isKeyringError(error)).toBe(true);
    kms.recover();
    expect((await stored(id))?.name).toBe('Ada');
    expect((await db.rows('Audit')).filter((row) => row.action === 'before')).toEqual([]);
  });
});
