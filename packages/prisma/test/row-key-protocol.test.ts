import { BlindIndex, isDecryptionError, parseDataKey, RowEnvelope, rewrapRowDataKey } from '@fieldseal/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, openDatabase, type TestDatabase } from './helpers/databases.js';
import { encrypted } from './helpers/fixture.js';
import { expectRowInvariant } from './helpers/invariant.js';
import { type LocalKms, startLocalKms } from './helpers/kms.js';

// Writes into existing rows go through core's row-key protocol (envelope.writeToRows): the tests
// race a key rotation against a write, and move values between rows, checking with raw SQL.
describe.each(DIALECTS)('the row-key protocol on %s', (dialect) => {
  let db: TestDatabase;
  let kms: LocalKms;
  let blindIndexKey: string;
  beforeAll(async () => {
    db = await openDatabase(dialect);
    kms = await startLocalKms();
    blindIndexKey = await BlindIndex.generateKey(kms.keyring);
  });
  afterAll(async () => {
    await db?.drop();
    await kms?.close();
  });
  const client = () => encrypted(db.client(), { keyring: kms.keyring, blindIndexKey });
  const row = async (id: number) =>
    (await db.rows('User')).find((each) => each.id === id) as Record<string, unknown>;

  /** Re-wraps a row's data key as rotation does (KMS ReEncrypt): same salt, new wrapped part. */
  const rotate = async (id: number) => {
    const stored = parseDataKey((await row(id)).dataKey);
    const context = new RowEnvelope({ keyring: kms.keyring }).contextFor('User');
    const rewrapped = await kms.keyring.reEncryptDataKey(stored.encryptedKey, context, {
      destinationKeyId: stored.keyId,
    });
    const text = rewrapRowDataKey(stored, rewrapped);
    await db.execute(`UPDATE ${db.t('User')} SET ${db.q('dataKey')} = '${text}' WHERE ${db.q('id')} = ${id}`);
    return text;
  };

  // SQLite has one writer at a time: a second connection cannot rotate while the write's
  // transaction is open, so the race needs a server database.
  if (dialect !== 'sqlite')
    it('a rotation between the key read and the guarded write loses no write', async () => {
      const prisma = client();
      const { id } = await prisma.user.create({ data: { email: 'rot@x.io', ssn: 'old' } });
      let rotated: string | undefined;
      // Applied after fieldseal, so it sees fieldseal's own key read and rotates right after it.
      const racing = prisma.$extends({
        query: {
          user: {
            // $allOperations: fieldseal's own reads run through the hooks of the app's operation.
            async $allOperations({ operation, args, query }) {
              const result = await query(args);
              const select = (args as { select?: Record<string, unknown> }).select;
              if (rotated === undefined && operation === 'findUnique' && select?.dataKey)
                rotated = await rotate(id);
              return result;
            },
          },
        },
      });
      const updated = await racing.user.update({ where: { id }, data: { ssn: 'new', name: 'N' } });
      expect(updated).toMatchObject({ ssn: 'new', name: 'N' });
      const after = await row(id);
      expect(after.dataKey).toBe(rotated); // the rotation stands; the write went in under it
      const [plain] = (await expectRowInvariant(db, 'User', kms.keyring)).filter((each) => each.id === id);
      expect(plain).toMatchObject({ ssn: 'new', email: 'rot@x.io' });
    });

  // The same race as a nested write's child that stops matching: the operation's own filter
  // still decides, as in plain Prisma. (SQLite: one writer at a time, no race to make.)
  if (dialect !== 'sqlite') {
    /** A client that runs `race` once, right after fieldseal's key read of the User rows. */
    const racingClient = (race: () => Promise<void>) => {
      let raced = false;
      return client().$extends({
        query: {
          user: {
            async $allOperations({ operation, args, query }) {
              const result = await query(args);
              const select = (args as { select?: Record<string, unknown> }).select;
              if (!raced && (operation === 'findMany' || operation === 'findUnique') && select?.dataKey) {
                raced = true;
                await race();
              }
              return result;
            },
          },
        },
      });
    };

    it('updateMany leaves out a row that stops matching its filter between the key read and the write', async () => {
      const prisma = client();
      const ids: number[] = [];
      for (const i of [1, 2, 3])
        ids.push(
          (await prisma.user.create({ data: { email: `s${i}@stale.io`, name: 'stale', ssn: 'before' } })).id,
        );
      const moved = ids[1] as number;
      const racing = racingClient(() =>
        db.execute(`UPDATE ${db.t('User')} SET ${db.q('name')} = 'moved' WHERE ${db.q('id')} = ${moved}`),
      );
      const result = await racing.user.updateMany({ where: { name: 'stale' }, data: { ssn: 'after' } });
      expect(result).toEqual({ count: 2 });
      const rows = (await expectRowInvariant(db, 'User', kms.keyring)).filter((each) =>
        ids.includes(each.id as number),
      );
      expect(rows.map((each) => [each.id, each.name, each.ssn])).toEqual([
        [ids[0], 'stale', 'after'],
        [moved, 'moved', 'before'],
        [ids[2], 'stale', 'after'],
      ]);
    });

    it('update whose filter stops matching between the key read and the write ends in P2025, nothing written', async () => {
      const prisma = client();
      const { id } = await prisma.user.create({
        data: { email: 'lock@stale.io', name: 'v1', ssn: 'before' },
      });
      const racing = racingClient(() =>
        db.execute(`UPDATE ${db.t('User')} SET ${db.q('name')} = 'v2' WHERE ${db.q('id')} = ${id}`),
      );
      const error = await racing.user
        .update({ where: { id, name: 'v1' }, data: { ssn: 'after' } })
        .catch((e: unknown) => e);
      expect((error as { code?: string }).code, String(error)).toBe('P2025');
      const [after] = (await expectRowInvariant(db, 'User', kms.keyring)).filter((each) => each.id === id);
      expect(after).toMatchObject({ name: 'v2', ssn: 'before' });
    });
  }

  it('a value moved to another row fails wrong-data-key, even when both rows share one data key', async () => {
    const prisma = client();
    const a = await prisma.user.create({ data: { email: 'a@swap.io', ssn: 'secret-a' } });
    const b = await prisma.user.create({ data: { email: 'b@swap.io', ssn: 'secret-b' } });
    const [ra, rb] = [await row(a.id), await row(b.id)];
    await db.execute(`UPDATE ${db.t('User')} SET ${db.q('ssn')} = '${ra.ssn}' WHERE ${db.q('id')} = ${b.id}`);
    await db.execute(`UPDATE ${db.t('User')} SET ${db.q('ssn')} = '${rb.ssn}' WHERE ${db.q('id')} = ${a.id}`);
    for (const id of [a.id, b.id]) {
      const error = await prisma.user.findUnique({ where: { id } }).catch((e: unknown) => e);
      expect(isDecryptionError(error), String(error)).toBe(true);
      expect((error as { code: string }).code).toBe('wrong-data-key');
      expect(String(error)).not.toContain('secret-');
    }
    await db.execute(`DELETE FROM ${db.t('User')} WHERE ${db.q('id')} IN (${a.id}, ${b.id})`);
  });

  it('updateMany writes each row under its own key, one guarded statement per row, and counts them', async () => {
    const prisma = client();
    const ids: number[] = [];
    for (const i of [1, 2, 3])
      ids.push((await prisma.user.create({ data: { email: `m${i}@many.io`, name: 'many' } })).id);
    const result = await prisma.user.updateMany({ where: { name: 'many' }, data: { ssn: 'shared-value' } });
    expect(result).toEqual({ count: 3 });
    const rows = (await expectRowInvariant(db, 'User', kms.keyring)).filter((each) =>
      ids.includes(each.id as number),
    );
    expect(rows.map((each) => each.ssn)).toEqual(['shared-value', 'shared-value', 'shared-value']);
    // Same plaintext, three rows: three different ciphertexts and three salts.
    const raw = await Promise.all(ids.map(row));
    expect(new Set(raw.map((each) => each.ssn)).size).toBe(3);
    expect(new Set(raw.map((each) => String(each.dataKey).slice(0, 28))).size).toBe(3);
  });
});
