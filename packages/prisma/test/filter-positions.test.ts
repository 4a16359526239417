import { isUnsupportedOperationError } from '@fieldseal/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, openDatabase, type TestDatabase } from './helpers/databases.js';
import { type EncryptedClient, extendedClient } from './helpers/fixture.js';

// Every place Prisma accepts a filter, order or aggregate: a filter on an encrypted field there
// is either answered through the blind index (the right answer) or refused before the query runs.
describe.each(DIALECTS)('filters in every position on %s', (dialect) => {
  let db: TestDatabase;
  let prisma: EncryptedClient;
  let adaId: number;
  beforeAll(async () => {
    db = await openDatabase(dialect);
    prisma = extendedClient(db);
    const ada = await prisma.user.create({
      data: {
        email: 'ada@x.io',
        posts: {
          create: [
            { title: 'p1', body: 'one', comments: { create: [{ text: 'c' }] } },
            { title: 'p2', body: 'two' },
          ],
        },
      },
    });
    adaId = ada.id;
    await prisma.user.create({
      data: { email: 'bob@x.io', posts: { create: [{ title: 'p3', body: 'three' }] } },
    });
  });
  afterAll(async () => db?.drop());

  const refusedWith = async (run: () => Promise<unknown>, code: string) => {
    const error = await run().catch((e: unknown) => e);
    expect(isUnsupportedOperationError(error), String(error)).toBe(true);
    expect((error as { code: string }).code).toBe(code);
  };

  it('_count of a relation filtered by a blind-indexed field counts through the index', async () => {
    const post = await prisma.post.findFirstOrThrow({
      where: { title: 'p1' },
      select: {
        _count: { select: { comments: true } },
        author: { select: { _count: { select: { posts: true } } } },
      },
    });
    expect(post._count.comments).toBe(1);
    const counted = await prisma.post.findMany({
      orderBy: { id: 'asc' },
      select: { title: true, author: { select: { id: true } } },
    });
    expect(counted).toHaveLength(3);
    // The case: a filter on the related model's encrypted, blind-indexed field inside _count.
    const users = await prisma.user.findMany({
      orderBy: { id: 'asc' },
      select: { id: true, _count: { select: { posts: { where: { author: { email: 'ADA@x.io ' } } } } } },
    });
    expect(users).toEqual([
      { id: adaId, _count: { posts: 2 } },
      { id: expect.any(Number), _count: { posts: 0 } },
    ]);
    const viaInclude = await prisma.post.findFirstOrThrow({
      where: { title: 'p1' },
      include: {
        _count: { select: { comments: { where: { post: { author: { is: { email: 'bob@x.io' } } } } } } },
      },
    });
    expect(viaInclude._count.comments).toBe(0);
  });

  it('_count of a relation filtered by an encrypted field without an index is refused', async () => {
    await refusedWith(
      () => prisma.user.findMany({ select: { _count: { select: { posts: { where: { body: 'one' } } } } } }),
      'unsupported-filter',
    );
    await refusedWith(
      () =>
        prisma.user.findMany({
          include: { _count: { select: { posts: { where: { body: { contains: 'o' } } } } } },
        }),
      'unsupported-filter',
    );
    await refusedWith(
      () =>
        prisma.post.findMany({
          select: { author: { select: { _count: { select: { posts: { where: { body: 'x' } } } } } } },
        }),
      'unsupported-filter',
    );
  });

  it('filters, cursor, distinct and orderBy of relations inside select/include are walked', async () => {
    const ada = await prisma.user.findUniqueOrThrow({
      where: { id: adaId },
      select: {
        posts: { where: { author: { email: 'ada@x.io' } }, orderBy: { id: 'asc' }, select: { body: true } },
      },
    });
    expect(ada.posts.map((post) => post.body)).toEqual(['one', 'two']);
    await refusedWith(
      () => prisma.user.findMany({ include: { posts: { where: { body: { startsWith: 'o' } } } } }),
      'unsupported-filter',
    );
    await refusedWith(
      () => prisma.user.findMany({ select: { posts: { distinct: ['body'] } } }),
      'unsupported-ordering',
    );
    await refusedWith(
      () =>
        prisma.post.findMany({ include: { author: { include: { posts: { orderBy: { body: 'asc' } } } } } }),
      'unsupported-ordering',
    );
  });

  it('ordering by a relation count is allowed; by an encrypted field through a relation, refused', async () => {
    const users = await prisma.user.findMany({
      orderBy: { posts: { _count: 'desc' } },
      select: { email: true },
    });
    expect(users.map((user) => user.email)).toEqual(['ada@x.io', 'bob@x.io']);
    await refusedWith(
      () => prisma.comment.findMany({ orderBy: { post: { author: { email: 'asc' } } } }),
      'unsupported-ordering',
    );
  });

  it('cursor through the blind index; having and groupBy on encrypted fields refused', async () => {
    const page = await prisma.user.findMany({
      cursor: { email: 'bob@x.io' } as never,
      select: { email: true },
    });
    expect(page.map((user) => user.email)).toEqual(['bob@x.io']);
    await refusedWith(
      () => prisma.user.groupBy({ by: ['name'], having: { email: { _count: { gt: 0 } } } } as never),
      'unsupported-aggregate',
    );
    await refusedWith(
      () => prisma.user.groupBy({ by: ['name'], having: { OR: [{ ssn: { _min: { gt: 'a' } } }] } } as never),
      'unsupported-aggregate',
    );
  });

  it('count with a where on an encrypted field goes through the index or is refused', async () => {
    expect(await prisma.user.count({ where: { email: 'bob@x.io' } })).toBe(1);
    expect(await prisma.post.count({ where: { author: { is: { email: 'ada@x.io' } } } })).toBe(2);
    await refusedWith(() => prisma.post.count({ where: { body: 'one' } }), 'unsupported-filter');
  });

  it('an argument or filter key it does not know is refused, not sent', async () => {
    await refusedWith(
      () => prisma.user.findMany({ where: { XOR: [{ email: 'ada@x.io' }] } } as never),
      'unknown-operation',
    );
    await refusedWith(
      () => prisma.user.findMany({ futureArgument: { email: 'x' } } as never),
      'unknown-operation',
    );
    await refusedWith(
      () => prisma.user.findMany({ select: { _count: { where: { email: 'x' } } } } as never),
      'unknown-operation',
    );
  });
});
