import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, openDatabase, type TestDatabase } from './helpers/databases.js';
import { type EncryptedClient, encrypted, extendedClient } from './helpers/fixture.js';

describe.each(DIALECTS)('reads on %s', (dialect) => {
  let db: TestDatabase;
  let prisma: EncryptedClient;
  let userId: number;
  beforeAll(async () => {
    db = await openDatabase(dialect);
    prisma = extendedClient(db);
    const user = await prisma.user.create({
      data: {
        email: 'ada@x.io',
        ssn: '111',
        name: 'Ada',
        profile: { create: { bio: 'mathematician' } },
        posts: {
          create: [
            { title: 'p1', body: 'first body', comments: { create: [{ text: 'c1' }, { text: 'c2' }] } },
            { title: 'p2', body: 'second body' },
          ],
        },
      },
    });
    userId = user.id;
  });
  afterAll(async () => db?.drop());

  it('select of an encrypted field without the data key returns exactly what was selected', async () => {
    const user = await prisma.user.findUniqueOrThrow({ where: { id: userId }, select: { ssn: true } });
    expect(user).toEqual({ ssn: '111' });
  });

  it('omit of the data key still decrypts, and the key stays omitted', async () => {
    const user = await prisma.user.findUniqueOrThrow({
      where: { id: userId },
      omit: { dataKey: true, id: true },
    });
    expect(user).toEqual({ email: 'ada@x.io', emailIndex: expect.any(String), ssn: '111', name: 'Ada' });
  });

  it('a global omit of the data key is honoured', async () => {
    const client = encrypted(db.client({ omit: { user: { dataKey: true } } }));
    const user = await client.user.findUniqueOrThrow({ where: { id: userId } });
    expect(user.ssn).toBe('111');
    expect('dataKey' in user).toBe(false);
  });

  it('include and select decrypt relations three levels deep', async () => {
    // Comment.text has no blind index, so filtering on it is refused; the relation filter below is not.
    await expect(prisma.comment.findFirst({ where: { text: 'c1' } })).rejects.toThrow(/no blind index/);
    const viaRelation = await prisma.comment.findFirstOrThrow({
      where: { post: { author: { email: 'ada@x.io' } } },
      orderBy: { id: 'asc' },
      select: {
        text: true,
        post: {
          select: { body: true, author: { select: { email: true, profile: { select: { bio: true } } } } },
        },
      },
    });
    expect(viaRelation).toEqual({
      text: 'c1',
      post: { body: 'first body', author: { email: 'ada@x.io', profile: { bio: 'mathematician' } } },
    });
  });

  it('findMany with include on a to-many relation', async () => {
    const users = await prisma.user.findMany({
      include: { posts: { include: { comments: { orderBy: { id: 'asc' } } }, orderBy: { id: 'asc' } } },
    });
    expect(users[0]?.posts.map((post) => post.body)).toEqual(['first body', 'second body']);
    expect(users[0]?.posts[0]?.comments.map((comment) => comment.text)).toEqual(['c1', 'c2']);
  });

  it('the fluent API decrypts the related rows', async () => {
    const posts = await prisma.user
      .findUniqueOrThrow({ where: { id: userId } })
      .posts({ orderBy: { id: 'asc' } });
    expect(posts.map((post) => post.body)).toEqual(['first body', 'second body']);
    const profile = await prisma.user.findUnique({ where: { id: userId } }).profile();
    expect(profile?.bio).toBe('mathematician');
  });

  it('_count in select is left alone', async () => {
    const user = await prisma.user.findUniqueOrThrow({
      where: { id: userId },
      select: { email: true, _count: { select: { posts: true } } },
    });
    expect(user).toEqual({ email: 'ada@x.io', _count: { posts: 2 } });
  });

  it('interactive transaction: reads and writes see each other and decrypt', async () => {
    const result = await prisma.$transaction(async (tx) => {
      const user = await tx.user.update({ where: { id: userId }, data: { ssn: '222' } });
      const again = await tx.user.findUniqueOrThrow({ where: { id: userId } });
      return [user.ssn, again.ssn];
    });
    expect(result).toEqual(['222', '222']);
  });

  it('interactive transaction rolls back an encrypted write', async () => {
    await expect(
      prisma.$transaction(async (tx) => {
        await tx.user.update({ where: { id: userId }, data: { ssn: 'rolled-back' } });
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect((await prisma.user.findUniqueOrThrow({ where: { id: userId } })).ssn).toBe('222');
  });

  it('batch transaction of reads and creates', async () => {
    const [users, post, count] = await prisma.$transaction([
      prisma.user.findMany({ select: { email: true } }),
      prisma.post.create({ data: { title: 'p3', body: 'batch body', authorId: userId } }),
      prisma.post.count(),
    ]);
    expect(users).toEqual([{ email: 'ada@x.io' }]);
    expect(post.body).toBe('batch body');
    expect(count).toBe(3);
  });
});
