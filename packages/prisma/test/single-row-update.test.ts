import {
  isDecryptionError,
  isKeyringError,
  isWriteConflictError,
  parseDataKey,
  RowEnvelope,
  rewrapRowDataKey,
} from '@fieldseal/core';
import { describe, expect, it } from 'vitest';
import { DIALECTS } from './helpers/databases.js';
import { expectRowInvariant } from './helpers/invariant.js';
import { singleRowHarness } from './helpers/single-row.js';

// `update` of one row: the statements it sends (Prisma's query log; it logs COMMIT but not
// BEGIN, so a transaction shows as a COMMIT), and the races between its key read and its write,
// made from another connection and checked with raw SQL.
describe.each(DIALECTS)('update of one row on %s', (dialect) => {
  const h = singleRowHarness(dialect);
  const { client, row, kinds, racing } = h;
  /** Re-wraps the row's data key as rotation does (same salt, new wrapped part), from another connection. */
  const rotate = async (id: number) => {
    const stored = parseDataKey((await row(id))?.dataKey);
    const context = new RowEnvelope({ keyring: h.kms.keyring }).contextFor('User');
    const rewrapped = await h.kms.keyring.reEncryptDataKey(stored.encryptedKey, context, {
      destinationKeyId: stored.keyId,
    });
    const text = rewrapRowDataKey(stored, rewrapped);
    await h.db.execute(
      `UPDATE ${h.db.t('User')} SET ${h.db.q('dataKey')} = '${text}' WHERE ${h.db.q('id')} = ${id}`,
    );
    return text;
  };
  const oneStatement = dialect !== 'mysql';

  it('counts: an encrypted field in 2 statements without a transaction (PostgreSQL, SQLite)', async () => {
    const prisma = client();
    const { id } = await prisma.user.create({ data: { email: 'count@x.io', ssn: 'a', name: 'A' } });
    const update = () => prisma.user.update({ where: { id }, data: { ssn: 'b' } });
    // MySQL: Prisma's `update` re-selects and reports a row the guarded UPDATE did not change, so
    // the guarded write is an updateMany in a transaction there.
    expect(await kinds(update)).toEqual(
      oneStatement ? ['SELECT', 'UPDATE'] : ['SELECT', 'UPDATE', 'SELECT', 'SELECT', 'COMMIT'],
    );
    expect(await kinds(() => prisma.user.update({ where: { id }, data: { name: 'B' } }))).toEqual(
      oneStatement ? ['SELECT', 'UPDATE'] : ['SELECT', 'UPDATE', 'SELECT', 'COMMIT'],
    );
    // Nothing encrypted returned, nothing encrypted written: exactly Prisma's own statements.
    const plainOnly = () =>
      prisma.user.update({ where: { id }, data: { name: 'C' }, select: { name: true } });
    expect(await kinds(plainOnly)).toEqual(
      oneStatement ? ['UPDATE'] : ['SELECT', 'UPDATE', 'SELECT', 'COMMIT'],
    );
    expect(await kinds(() => prisma.user.findUnique({ where: { id } }))).toEqual(['SELECT']);
    // Inside the app's transaction the transactional path runs (its statements are the app's).
    const inTx = await kinds(() =>
      prisma.$transaction(async (tx) => tx.user.update({ where: { id }, data: { ssn: 'c' } })),
    );
    expect(inTx.length).toBeGreaterThan(2);
    const [plain] = (await expectRowInvariant(h.db, 'User', h.kms.keyring)).filter((each) => each.id === id);
    expect(plain).toMatchObject({ ssn: 'c', email: 'count@x.io' });
    expect((await row(id))?.name).toBe('C');
  });

  it('a rotation between key read and write: retried, lands under the current key, returns the row as written', async () => {
    const { id } = await client().user.create({ data: { email: 'rot@x.io', ssn: 'old', name: 'R' } });
    let rotated: string | undefined;
    const prisma = racing(async () => {
      rotated = await rotate(id);
    });
    const updated = await prisma.user.update({ where: { id }, data: { ssn: 'new' } });
    expect(updated).toEqual({
      id,
      email: 'rot@x.io',
      emailIndex: expect.any(String),
      ssn: 'new',
      name: 'R',
      dataKey: rotated,
    });
    expect((await row(id))?.dataKey).toBe(rotated);
    const [plain] = (await expectRowInvariant(h.db, 'User', h.kms.keyring)).filter((each) => each.id === id);
    expect(plain).toMatchObject({ ssn: 'new', email: 'rot@x.io' });
  });

  // Not on MySQL (REPEATABLE READ): its missed guarded UPDATE keeps the row locked, so another
  // connection cannot rotate again inside the write's transaction (the rotation test covers one race).
  if (oneStatement)
    it('a key that changes before each of 3 passes: the transactional path then lands the write', async () => {
      const { id } = await client().user.create({ data: { email: 'busy@x.io', ssn: 'before' } });
      let rotations = 0;
      let rotated: string | undefined;
      const prisma = racing(async () => {
        rotations++;
        rotated = await rotate(id);
      }, 3);
      const updated = await prisma.user.update({ where: { id }, data: { ssn: 'after' } });
      expect(updated).toMatchObject({ id, ssn: 'after', dataKey: rotated });
      expect(rotations).toBe(3);
      const [plain] = (await expectRowInvariant(h.db, 'User', h.kms.keyring)).filter(
        (each) => each.id === id,
      );
      expect(plain).toMatchObject({ ssn: 'after', email: 'busy@x.io' });
    });

  // SQLite: one writer at a time, so nothing rotates inside the transactional path's transaction.
  if (dialect === 'postgresql')
    it('a key that changes before every write: WriteConflictError, nothing written', async () => {
      const { id } = await client().user.create({ data: { email: 'conflict@x.io', ssn: 'kept' } });
      const before = await row(id);
      let rotations = 0;
      const prisma = racing(async () => {
        rotations++;
        await rotate(id);
      }, 30);
      const error = await prisma.user
        .update({ where: { id }, data: { ssn: 'lost' } })
        .catch((e: unknown) => e);
      expect(isWriteConflictError(error), String(error)).toBe(true);
      expect(String(error)).not.toContain('lost');
      // 3 passes without a transaction, then 3 transactions of 3 passes each.
      expect(rotations).toBe(12);
      expect((await row(id))?.ssn).toBe(before?.ssn);
      const [plain] = (await expectRowInvariant(h.db, 'User', h.kms.keyring)).filter(
        (each) => each.id === id,
      );
      expect(plain).toMatchObject({ ssn: 'kept' });
    });

  it('the row deleted and inserted again under a new key between read and write: written under the new key', async () => {
    // With the result's encrypted values (guarded too) and without (the data-key guard alone).
    for (const [n, select] of [undefined, { id: true, name: true }].entries()) {
      const { id } = await client().user.create({ data: { email: `again${n}@x.io`, ssn: 'first' } });
      const prisma = racing(async () => {
        await h.db.execute(`DELETE FROM ${h.db.t('User')} WHERE ${h.db.q('id')} = ${id}`);
        await client().user.create({ data: { id, email: `again${n}@x.io`, ssn: 'second', name: 'New' } });
      });
      const updated = await prisma.user.update({
        where: { id },
        data: { email: `third${n}@x.io` },
        ...(select ? { select } : {}),
      });
      expect(updated).toMatchObject(
        select ? { id, name: 'New' } : { id, email: `third${n}@x.io`, ssn: 'second', name: 'New' },
      );
      const [plain] = (await expectRowInvariant(h.db, 'User', h.kms.keyring)).filter(
        (each) => each.id === id,
      );
      expect(plain).toMatchObject({ email: `third${n}@x.io`, ssn: 'second' });
    }
  });

  it("the row deleted between read and write: Prisma's own P2025, nothing written", async () => {
    // A plain-field update reads no key on MySQL (Prisma's own statements): nothing to race there.
    for (const data of oneStatement ? [{ ssn: 'ghost' }, { name: 'ghost' }] : [{ ssn: 'ghost' }]) {
      const { id } = await client().user.create({ data: { email: 'gone@x.io', ssn: 'x' } });
      const prisma = racing(() =>
        h.db.execute(`DELETE FROM ${h.db.t('User')} WHERE ${h.db.q('id')} = ${id}`),
      );
      const error = await prisma.user.update({ where: { id }, data }).catch((e: unknown) => e);
      expect((error as { code?: unknown }).code, String(error)).toBe('P2025');
      expect(await row(id)).toBeUndefined();
    }
  });

  // MySQL's plain-field update is Prisma's own, in a transaction with the decryption: no key read to race.
  if (oneStatement)
    it('a plain-field update while another writer changes an encrypted field: returns the row as written', async () => {
      const { id } = await client().user.create({ data: { email: 'other@x.io', ssn: 'before' } });
      const prisma = racing(() => client().user.update({ where: { id }, data: { ssn: 'by-other' } }));
      const updated = await prisma.user.update({ where: { id }, data: { name: 'Mine' } });
      expect(updated).toMatchObject({ id, ssn: 'by-other', name: 'Mine', email: 'other@x.io' });
      const [plain] = (await expectRowInvariant(h.db, 'User', h.kms.keyring)).filter(
        (each) => each.id === id,
      );
      expect(plain).toMatchObject({ ssn: 'by-other', name: 'Mine' });
    });

  it('KMS down right after the write: no error for the committed write (nothing is decrypted after it)', async () => {
    const { id } = await client().user.create({ data: { email: 'late@x.io', ssn: 'one' } });
    const prisma = client().$extends({
      query: {
        user: {
          async $allOperations({ operation, args, query }) {
            const result = await query(args);
            if (operation === 'update' || operation === 'updateMany') h.kms.outage();
            return result;
          },
        },
      },
    });
    const outcome = await prisma.user
      .update({ where: { id }, data: { ssn: 'two', name: 'L' } })
      .catch((e: unknown) => e)
      .finally(() => h.kms.recover());
    const [plain] = (await expectRowInvariant(h.db, 'User', h.kms.keyring)).filter((each) => each.id === id);
    if (oneStatement) {
      expect(outcome).toMatchObject({ id, email: 'late@x.io', ssn: 'two', name: 'L' });
      expect(plain).toMatchObject({ ssn: 'two', name: 'L' });
    } else {
      // MySQL decrypts inside the transaction: the failure rolls the write back.
      expect(isKeyringError(outcome), String(outcome)).toBe(true);
      expect(plain).toMatchObject({ ssn: 'one', name: null });
    }
  });

  it('bytes: a kept binary value is guarded and returned as read, a written one as written', async () => {
    const prisma = client();
    const user = await prisma.user.create({ data: { email: 'bytes@x.io' } });
    const avatar = new Uint8Array([0, 1, 2, 250, 255]);
    const { id } = await prisma.profile.create({ data: { bio: 'b1', avatar, userId: user.id } });
    const updated = await prisma.profile.update({ where: { id }, data: { bio: 'b2' } });
    expect(updated.bio).toBe('b2');
    expect(Buffer.from(updated.avatar as Uint8Array).equals(Buffer.from(avatar))).toBe(true);
    const next = new Uint8Array([9, 8, 7]);
    const again = await prisma.profile.update({ where: { id }, data: { avatar: next } });
    expect(again.bio).toBe('b2');
    expect(Buffer.from(again.avatar as Uint8Array).equals(Buffer.from(next))).toBe(true);
    const [plain] = (await expectRowInvariant(h.db, 'Profile', h.kms.keyring)).filter(
      (each) => each.id === id,
    );
    expect(plain?.bio).toBe('b2');
  });

  it('a damaged value the result returns: the encrypted-field update fails and writes nothing', async () => {
    const { id } = await client().user.create({ data: { email: 'dmg@x.io', ssn: 'intact' } });
    const email = String((await row(id))?.email);
    const flipped = `${email.slice(0, -3)}${email.at(-3) === 'A' ? 'B' : 'A'}${email.slice(-2)}`;
    await h.db.execute(
      `UPDATE ${h.db.t('User')} SET ${h.db.q('email')} = '${flipped}' WHERE ${h.db.q('id')} = ${id}`,
    );
    const before = await row(id);
    const error = await client()
      .user.update({ where: { id }, data: { ssn: 'changed' } })
      .catch((e: unknown) => e);
    expect(isDecryptionError(error), String(error)).toBe(true);
    expect(await row(id)).toEqual(before);
  });
});
