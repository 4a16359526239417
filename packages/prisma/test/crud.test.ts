import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, openDatabase, type TestDatabase } from './helpers/databases.js';
import { type EncryptedClient, extendedClient, onlyCiphertext } from './helpers/fixture.js';

describe.each(DIALECTS)('CRUD on %s', (dialect) => {
  let db: TestDatabase;
  let prisma: EncryptedClient;
  beforeAll(async () => {
    db = await openDatabase(dialect);
    prisma = extendedClient(db);
  });
  afterAll(async () => db?.drop());

  it('create stores ciphertext and a data key, and returns plaintext', async () => {
    const user = await prisma.user.create({
      data: { email: 'ada@example.com', ssn: '123-45-6789', name: 'Ada' },
    });
    expect(user).toMatchObject({ email: 'ada@example.com', ssn: '123-45-6789', name: 'Ada' });
    const [row] = await db.rows('User');
    expect(row?.email).toMatch(/^fs2:/);
    expect(row?.ssn).toMatch(/^fs2:/);
    expect(row?.dataKey).toMatch(/^fsk2:[A-Za-z0-9_-]{22}\./);
    expect(row?.emailIndex).toMatch(/^[0-9a-f]{32}$/);
  });

  it('findFirst by email goes through the blind index', async () => {
    const found = await prisma.user.findFirst({ where: { email: 'ada@example.com' } });
    expect(found?.ssn).toBe('123-45-6789');
    expect(await prisma.user.findFirst({ where: { email: 'nobody@example.com' } })).toBeNull();
  });

  it('update of one encrypted field keeps the row decryptable', async () => {
    const user = await prisma.user.findFirstOrThrow({ where: { email: 'ada@example.com' } });
    const updated = await prisma.user.update({ where: { id: user.id }, data: { ssn: '999-99-9999' } });
    expect(updated).toMatchObject({ email: 'ada@example.com', ssn: '999-99-9999' });
    const again = await prisma.user.findUniqueOrThrow({ where: { id: user.id } });
    expect(again.ssn).toBe('999-99-9999');
    expect(onlyCiphertext(await db.rows('User'), ['email', 'ssn'])).toBe(true);
  });

  it('nested create and include decrypt at depth', async () => {
    const user = await prisma.user.create({
      data: {
        email: 'bob@example.com',
        posts: {
          create: [{ title: 't1', body: 'secret body', comments: { create: { text: 'deep comment' } } }],
        },
        profile: { create: { bio: 'bio text', avatar: new Uint8Array([1, 2, 3]) } },
      },
      include: { posts: { include: { comments: true } }, profile: true },
    });
    expect(user.posts[0]?.body).toBe('secret body');
    expect(user.posts[0]?.comments[0]?.text).toBe('deep comment');
    expect(user.profile?.bio).toBe('bio text');
    expect([...(user.profile?.avatar ?? [])]).toEqual([1, 2, 3]);
    const read = await prisma.post.findFirstOrThrow({
      select: { body: true, author: { select: { email: true } } },
    });
    expect(read).toEqual({ body: 'secret body', author: { email: 'bob@example.com' } });
    expect(onlyCiphertext(await db.rows('Comment'), ['text'])).toBe(true);
    expect(onlyCiphertext(await db.rows('Profile'), ['bio', 'avatar'])).toBe(true);
  });
});
