import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, openDatabase, type TestDatabase } from './helpers/databases.js';
import { type EncryptedClient, extendedClient } from './helpers/fixture.js';

// A blind index keeps a few bytes of a keyed hash, so two plaintexts can share an index value.
// The collision is forced with raw SQL: row B gets the index value of 'ada@x.io'.
describe.each(DIALECTS)('blind-index lookups re-check equality after decryption on %s', (dialect) => {
  let db: TestDatabase;
  let prisma: EncryptedClient;
  let bobId: number;
  beforeAll(async () => {
    db = await openDatabase(dialect);
    prisma = extendedClient(db);
    const ada = await prisma.user.create({ data: { email: 'Ada@X.io', name: 'ada' } });
    bobId = (await prisma.user.create({ data: { email: 'bob@x.io', name: 'bob' } })).id;
    const index = (await db.rows('User')).find((row) => row.id === ada.id)?.emailIndex;
    await db.execute(
      `UPDATE ${db.t('User')} SET ${db.q('emailIndex')} = NULL WHERE ${db.q('id')} = ${ada.id}`,
    );
    await db.execute(
      `UPDATE ${db.t('User')} SET ${db.q('emailIndex')} = '${index}' WHERE ${db.q('id')} = ${bobId}`,
    );
  });
  afterAll(async () => db?.drop());

  it('a row whose index collides but whose plaintext differs is dropped', async () => {
    expect(await prisma.user.findMany({ where: { email: 'ada@x.io' } })).toEqual([]);
    expect(
      await prisma.user.findFirst({ where: { email: { equals: ' ADA@x.io' } }, select: { name: true } }),
    ).toBeNull();
    expect(await prisma.user.findUnique({ where: { email: 'ada@x.io' } as never })).toBeNull();
    expect(await prisma.user.findMany({ where: { AND: [{ email: { in: ['ada@x.io'] } }] } })).toEqual([]);
    await expect(prisma.user.findFirstOrThrow({ where: { email: 'ada@x.io' } })).rejects.toThrow(/collision/);
  });

  it('reads without an index lookup are not filtered, and return only the selected fields', async () => {
    const bob = await prisma.user.findMany({ where: { name: 'bob' }, select: { name: true } });
    expect(bob).toEqual([{ name: 'bob' }]);
  });
});
