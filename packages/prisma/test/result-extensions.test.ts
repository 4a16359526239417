import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, openDatabase, type TestDatabase } from './helpers/databases.js';
import { encrypted } from './helpers/fixture.js';

// Prisma computes a result extension's field after every query extension has returned, from
// fields it adds to the query itself: fieldseal must make those arrive decrypted.
const initials = {
  result: {
    user: {
      initials: { needs: { email: true }, compute: (user: { email: string }) => user.email.slice(0, 3) },
    },
    post: {
      shout: {
        needs: { body: true, title: true },
        compute: (post: { body: string; title: string }) => `${post.title}:${post.body.toUpperCase()}`,
      },
    },
  },
} as const;

/** The row's own enumerable data (Prisma adds an inspection symbol to computed rows). */
const json = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

describe.each(DIALECTS)('result extensions on %s', (dialect) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await openDatabase(dialect);
    await encrypted(db.client()).user.create({
      data: { email: 'ada@x.io', posts: { create: [{ title: 't', body: 'hello' }] } },
    });
  });
  afterAll(async () => db?.drop());

  const clients = () => ({
    'applied after fieldseal': encrypted(db.client()).$extends(initials),
    'applied before fieldseal': encrypted(db.client().$extends(initials) as never) as unknown as ReturnType<
      typeof extendedAfter
    >,
  });
  const extendedAfter = () => encrypted(db.client()).$extends(initials);

  it.each(['applied after fieldseal', 'applied before fieldseal'] as const)(
    'a computed field needing an encrypted field is computed from plaintext (%s)',
    async (order) => {
      const prisma = clients()[order];
      expect(json(await prisma.user.findFirstOrThrow({ select: { initials: true } }))).toEqual({
        initials: 'ada',
      });
      expect(json(await prisma.user.findFirstOrThrow({ select: { initials: true, email: true } }))).toEqual({
        initials: 'ada',
        email: 'ada@x.io',
      });
      const all = await prisma.user.findFirstOrThrow({ omit: { email: true, ssn: true } });
      expect(all.initials).toBe('ada');
      expect('email' in all).toBe(false);
      const nested = await prisma.user.findFirstOrThrow({
        select: { posts: { select: { shout: true } } },
      });
      expect(json(nested)).toEqual({ posts: [{ shout: 't:HELLO' }] });
      const updated = await prisma.user.update({
        where: { email: 'ada@x.io' } as never,
        data: { name: 'Ada' },
        select: { initials: true },
      });
      expect(json(updated)).toEqual({ initials: 'ada' });
    },
  );
});
