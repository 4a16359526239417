import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnsupportedOperationError } from '../src/index.js';
import { DIALECTS, openDatabase, type TestDatabase } from './helpers/databases.js';
import { type EncryptedClient, extendedClient } from './helpers/fixture.js';

describe.each(DIALECTS)('blind-index lookups on %s', (dialect) => {
  let db: TestDatabase;
  let prisma: EncryptedClient;
  beforeAll(async () => {
    db = await openDatabase(dialect);
    prisma = extendedClient(db);
    await prisma.user.createMany({
      data: [
        { email: 'a@x.io', name: 'A' },
        { email: 'b@x.io', name: 'B' },
        { email: 'c@x.io', name: 'C' },
      ],
    });
    await prisma.post.create({
      data: { title: 't', body: 'b', author: { connect: { email: 'a@x.io' } as unknown as { id: number } } },
    });
  });
  afterAll(async () => db?.drop());

  const names = (users: { name: string | null }[]) => users.map((user) => user.name).sort();

  it('equals, in, notIn and not are rewritten to the index column', async () => {
    expect(names(await prisma.user.findMany({ where: { email: { equals: 'b@x.io' } } }))).toEqual(['B']);
    expect(
      names(await prisma.user.findMany({ where: { email: { in: ['a@x.io', 'c@x.io', 'zz'] } } })),
    ).toEqual(['A', 'C']);
    expect(names(await prisma.user.findMany({ where: { email: { notIn: ['a@x.io'] } } }))).toEqual([
      'B',
      'C',
    ]);
    expect(names(await prisma.user.findMany({ where: { email: { not: 'a@x.io' } } }))).toEqual(['B', 'C']);
    expect(
      names(await prisma.user.findMany({ where: { OR: [{ email: 'a@x.io' }, { name: 'C' }] } })),
    ).toEqual(['A', 'C']);
  });

  it('findUnique by an encrypted field uses its unique index column', async () => {
    const where = { email: 'c@x.io' } as unknown as { id: number };
    expect((await prisma.user.findUniqueOrThrow({ where })).name).toBe('C');
    expect(
      await prisma.user.findUnique({ where: { email: 'nope' } as unknown as { id: number } }),
    ).toBeNull();
  });

  it('the schema normalizes the index (trim, lowercase): lookups ignore case and spaces, values keep theirs', async () => {
    await prisma.user.create({ data: { email: ' Dora@Example.COM', name: 'D' } });
    expect(names(await prisma.user.findMany({ where: { email: 'dora@example.com' } }))).toEqual(['D']);
    expect(names(await prisma.user.findMany({ where: { email: { in: ['DORA@example.com  '] } } }))).toEqual([
      'D',
    ]);
    const where = { email: 'dOrA@eXample.com' } as unknown as { id: number };
    expect((await prisma.user.findUniqueOrThrow({ where })).email).toBe(' Dora@Example.COM');
    // The unique index now refuses a second user differing only in case.
    await expect(prisma.user.create({ data: { email: 'dora@example.com', name: 'D2' } })).rejects.toThrow();
    await prisma.user.delete({ where });
  });

  it('null checks stay on the encrypted column', async () => {
    expect(await prisma.user.count({ where: { ssn: null } })).toBe(3);
    expect(await prisma.user.count({ where: { ssn: { not: null } } })).toBe(0);
  });

  it('relation filters and connect go through the index too', async () => {
    const posts = await prisma.post.findMany({
      where: { author: { email: 'a@x.io' } },
      include: { author: true },
    });
    expect(posts.map((post) => post.author.name)).toEqual(['A']);
    expect(
      names(
        await prisma.user.findMany({ where: { posts: { some: { author: { is: { email: 'a@x.io' } } } } } }),
      ),
    ).toEqual(['A']);
  });

  it.each([
    ['contains', { email: { contains: 'x' } }],
    ['startsWith', { email: { startsWith: 'a' } }],
    ['gt', { email: { gt: 'a' } }],
    ['mode insensitive', { email: { equals: 'A@X.IO', mode: 'insensitive' } }],
    ['equality without a blind index', { ssn: '123' }],
    ['a filter in a relation', { posts: { some: { body: { contains: 'b' } } } }],
  ])('refuses %s with UnsupportedOperationError before querying', async (_name, where) => {
    const error = await prisma.user.findMany({ where: where as never }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedOperationError);
    expect((error as UnsupportedOperationError).code).toBe('unsupported-filter');
  });

  it('refuses ordering, distinct, groupBy and min/max on encrypted fields', async () => {
    const refused = async (run: () => Promise<unknown>, code: string) => {
      const error = await run().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnsupportedOperationError);
      expect((error as UnsupportedOperationError).code).toBe(code);
    };
    await refused(() => prisma.user.findMany({ orderBy: { email: 'asc' } }), 'unsupported-ordering');
    await refused(
      () => prisma.post.findMany({ orderBy: { author: { ssn: 'desc' } } }),
      'unsupported-ordering',
    );
    await refused(() => prisma.user.findMany({ distinct: ['email'] }), 'unsupported-ordering');
    await refused(() => prisma.user.groupBy({ by: ['email'] }), 'unsupported-aggregate');
    await refused(() => prisma.user.aggregate({ _max: { email: true } }), 'unsupported-aggregate');
    await refused(
      () => prisma.user.findMany({ include: { posts: { orderBy: { body: 'asc' } } } }),
      'unsupported-ordering',
    );
  });

  it('counts of encrypted fields (non-null) are allowed', async () => {
    const result = await prisma.user.aggregate({ _count: { email: true, ssn: true } });
    expect(result._count).toEqual({ email: 3, ssn: 0 });
  });

  it('refuses writing the blind-index or data-key column directly', async () => {
    for (const data of [
      { email: 'd@x.io', emailIndex: 'abc' },
      { email: 'd@x.io', dataKey: 'fsk1:x' },
    ]) {
      const error = await prisma.user.create({ data }).catch((e: unknown) => e);
      expect((error as UnsupportedOperationError).code).toBe('forbidden-write');
    }
    expect(await prisma.user.count()).toBe(3);
  });
});
