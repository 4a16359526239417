import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, openDatabase, type TestDatabase } from './helpers/databases.js';
import { type EncryptedClient, extendedClient } from './helpers/fixture.js';
import { expectRowInvariant } from './helpers/invariant.js';

describe.each(DIALECTS)('nested writes on %s', (dialect) => {
  let db: TestDatabase;
  let prisma: EncryptedClient;
  beforeAll(async () => {
    db = await openDatabase(dialect);
    prisma = extendedClient(db);
  });
  afterAll(async () => db?.drop());
  beforeEach(async () => {
    for (const table of ['Comment', 'Post', 'Profile', 'User'])
      await db.execute(`DELETE FROM ${db.t(table)}`);
  });

  const invariantEverywhere = async () => {
    for (const table of ['User', 'Post', 'Comment', 'Profile']) await expectRowInvariant(db, table);
  };

  it('nested createMany and connectOrCreate encrypt the new rows', async () => {
    const author = await prisma.user.create({
      data: {
        email: 'a@x.io',
        posts: {
          createMany: {
            data: [
              { title: 't1', body: 'b1' },
              { title: 't2', body: 'b2' },
            ],
          },
        },
      },
      include: { posts: { orderBy: { id: 'asc' } } },
    });
    expect(author.posts.map((post) => post.body)).toEqual(['b1', 'b2']);
    const post = await prisma.post.create({
      data: {
        title: 't3',
        body: 'b3',
        author: {
          connectOrCreate: {
            where: { email: 'a@x.io' } as unknown as { id: number },
            create: { email: 'a@x.io' },
          },
        },
      },
      include: { author: true },
    });
    expect(post.author.id).toBe(author.id);
    const other = await prisma.post.create({
      data: {
        title: 't4',
        body: 'b4',
        author: {
          connectOrCreate: {
            where: { email: 'new@x.io' } as unknown as { id: number },
            create: { email: 'new@x.io', ssn: 's' },
          },
        },
      },
      include: { author: true },
    });
    expect(other.author).toMatchObject({ email: 'new@x.io', ssn: 's' });
    await invariantEverywhere();
  });

  it('nested update (to-many) encrypts under the child row key', async () => {
    const author = await prisma.user.create({
      data: {
        email: 'a@x.io',
        posts: {
          create: [
            { title: 't1', body: 'b1' },
            { title: 't2', body: 'b2' },
          ],
        },
      },
      include: { posts: true },
    });
    const [first] = author.posts;
    const updated = await prisma.user.update({
      where: { id: author.id },
      data: {
        name: 'renamed',
        posts: { update: { where: { id: first?.id as number }, data: { body: 'changed' } } },
      },
      include: { posts: { orderBy: { id: 'asc' } } },
    });
    expect(updated.posts.map((post) => post.body)).toEqual(['changed', 'b2']);
    await invariantEverywhere();
  });

  it('nested updateMany over children with different keys', async () => {
    const author = await prisma.user.create({
      data: {
        email: 'a@x.io',
        posts: {
          create: [
            { title: 'x', body: 'b1' },
            { title: 'x', body: 'b2' },
            { title: 'y', body: 'b3' },
          ],
        },
      },
    });
    const updated = await prisma.user.update({
      where: { id: author.id },
      data: { posts: { updateMany: { where: { title: 'x' }, data: { body: 'same' } } } },
      include: { posts: { orderBy: { id: 'asc' } } },
    });
    expect(updated.posts.map((post) => post.body)).toEqual(['same', 'same', 'b3']);
    await invariantEverywhere();
  });

  it('nested to-one update and upsert', async () => {
    const user = await prisma.user.create({ data: { email: 'a@x.io' } });
    const created = await prisma.user.update({
      where: { id: user.id },
      data: { profile: { upsert: { create: { bio: 'first' }, update: { bio: 'never' } } } },
      include: { profile: true },
    });
    expect(created.profile?.bio).toBe('first');
    const upserted = await prisma.user.update({
      where: { id: user.id },
      data: { profile: { upsert: { create: { bio: 'never' }, update: { bio: 'second' } } } },
      include: { profile: true },
    });
    expect(upserted.profile?.bio).toBe('second');
    const updated = await prisma.user.update({
      where: { id: user.id },
      data: { profile: { update: { avatar: new Uint8Array([9]) } } },
      include: { profile: true },
    });
    expect(updated.profile).toMatchObject({ bio: 'second', avatar: new Uint8Array([9]) });
    await invariantEverywhere();
  });

  it('nested to-many upsert takes either branch', async () => {
    const author = await prisma.user.create({
      data: { email: 'a@x.io', posts: { create: { title: 't', body: 'old' } } },
      include: { posts: true },
    });
    const postId = author.posts[0]?.id as number;
    const result = await prisma.user.update({
      where: { id: author.id },
      data: {
        posts: {
          upsert: [
            { where: { id: postId }, create: { title: 'n', body: 'never' }, update: { body: 'updated' } },
            { where: { id: 9_999_999 }, create: { title: 'n', body: 'created' }, update: { body: 'never' } },
          ],
        },
      },
      include: { posts: { orderBy: { id: 'asc' } } },
    });
    expect(result.posts.map((post) => post.body)).toEqual(['updated', 'created']);
    await invariantEverywhere();
  });

  it('two levels deep: user → post → comment update', async () => {
    const author = await prisma.user.create({
      data: {
        email: 'a@x.io',
        posts: { create: { title: 't', body: 'b', comments: { create: [{ text: 'c1' }, { text: 'c2' }] } } },
      },
      include: { posts: { include: { comments: true } } },
    });
    const post = author.posts[0];
    const comment = post?.comments[0];
    const result = await prisma.user.update({
      where: { id: author.id },
      data: {
        posts: {
          update: {
            where: { id: post?.id as number },
            data: {
              body: 'b2',
              comments: {
                update: { where: { id: comment?.id as number }, data: { text: 'c1-edited' } },
                create: { text: 'c3' },
              },
            },
          },
        },
      },
      select: {
        posts: { select: { body: true, comments: { select: { text: true }, orderBy: { id: 'asc' } } } },
      },
    });
    expect(result).toEqual({
      posts: [{ body: 'b2', comments: [{ text: 'c1-edited' }, { text: 'c2' }, { text: 'c3' }] }],
    });
    await invariantEverywhere();
  });

  it('a nested update of a row that is not there fails and writes nothing', async () => {
    const author = await prisma.user.create({
      data: { email: 'a@x.io', posts: { create: { title: 't', body: 'b' } } },
    });
    await expect(
      prisma.user.update({
        where: { id: author.id },
        data: { name: 'x', posts: { update: { where: { id: 123_456 }, data: { body: 'nope' } } } },
      }),
    ).rejects.toThrow();
    expect((await prisma.user.findUniqueOrThrow({ where: { id: author.id } })).name).toBeNull();
    await invariantEverywhere();
  });
  it('a nested updateMany gives a legacy child row (plaintext, no data key) a key of its own', async () => {
    const user = await prisma.user.create({ data: { email: 'a@x.io' } });
    await db.execute(
      `INSERT INTO ${db.t('Post')} (${db.q('title')}, ${db.q('body')}, ${db.q('authorId')}) VALUES ('legacy', 'plain-body', ${user.id})`,
    );
    await prisma.user.update({
      where: { id: user.id },
      data: { posts: { updateMany: { where: { title: 'legacy' }, data: { body: 'sealed' } } } },
    });
    const [post] = await expectRowInvariant(db, 'Post');
    expect(post).toMatchObject({ title: 'legacy', body: 'sealed' });
    expect(String(post?.dataKey)).toMatch(/^fsk2:/);
    expect(JSON.stringify(await db.rows('Post'))).not.toContain('plain-body');
  });
  it('a nested to-one update of a field with a blind index keeps the index in step', async () => {
    const post = await prisma.post.create({
      data: { title: 't', body: 'b', author: { create: { email: 'old@x.io', name: 'n' } } },
    });
    await prisma.post.update({
      where: { id: post.id },
      data: { author: { update: { email: 'New@X.io', name: 'm' } } },
    });
    const found = await prisma.user.findUnique({ where: { email: 'new@x.io' } as never });
    expect(found).toMatchObject({ email: 'New@X.io', name: 'm' });
    expect(await prisma.user.findFirst({ where: { email: 'old@x.io' } })).toBeNull();
    await invariantEverywhere();
  });
  it('a nested updateMany matches the rows there when the call starts, not one created in the same call', async () => {
    const user = await prisma.user.create({
      data: { email: 'a@x.io', posts: { create: { title: 'x', body: 'b1' } } },
    });
    const updated = await prisma.user.update({
      where: { id: user.id },
      data: {
        posts: {
          create: { title: 'x', body: 'created' },
          updateMany: { where: { title: 'x' }, data: { title: 'z', body: 'u' } },
        },
      },
      include: { posts: { orderBy: { id: 'asc' } } },
    });
    // Each row whole: the old one fully updated, the new one as created (no title without body).
    expect(updated.posts.map((post) => [post.title, post.body])).toEqual([
      ['z', 'u'],
      ['x', 'created'],
    ]);
    await invariantEverywhere();
  });
});
