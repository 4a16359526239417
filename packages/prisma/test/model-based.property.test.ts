import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, openDatabase, type TestDatabase } from './helpers/databases.js';
import { type EncryptedClient, extendedClient } from './helpers/fixture.js';
import { expectRowInvariant } from './helpers/invariant.js';

// The plaintext model every step is checked against.
interface ModelPost {
  title: string;
  body: string;
}
interface ModelUser {
  email: string;
  ssn: string | null;
  name: string;
  posts: Map<number, ModelPost>;
}
type Model = Map<number, ModelUser>;

const text = fc.string({ unit: 'grapheme', maxLength: 12 }).filter((value) => !/^fs\d{1,3}:/.test(value));
const name = fc.constantFrom('red', 'green', 'blue');
const pick = fc.nat();

type Op =
  | { kind: 'createUser'; ssn: string | null; name: string; bodies: string[] }
  | { kind: 'updateSsn'; user: number; ssn: string | null }
  | { kind: 'updateEmail'; user: number }
  | { kind: 'updateManyByName'; name: string; ssn: string }
  | { kind: 'upsert'; user: number; ssn: string; exists: boolean }
  | { kind: 'nestedPostUpdate'; user: number; post: number; body: string }
  | { kind: 'nestedPostUpdateMany'; user: number; body: string }
  | { kind: 'nestedPostCreate'; user: number; body: string }
  | { kind: 'deletePost'; user: number; post: number }
  | { kind: 'lookup'; user: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('createUser' as const),
    ssn: fc.option(text, { nil: null }),
    name,
    bodies: fc.array(text, { maxLength: 2 }),
  }),
  fc.record({ kind: fc.constant('updateSsn' as const), user: pick, ssn: fc.option(text, { nil: null }) }),
  fc.record({ kind: fc.constant('updateEmail' as const), user: pick }),
  fc.record({ kind: fc.constant('updateManyByName' as const), name, ssn: text }),
  fc.record({ kind: fc.constant('upsert' as const), user: pick, ssn: text, exists: fc.boolean() }),
  fc.record({ kind: fc.constant('nestedPostUpdate' as const), user: pick, post: pick, body: text }),
  fc.record({ kind: fc.constant('nestedPostUpdateMany' as const), user: pick, body: text }),
  fc.record({ kind: fc.constant('nestedPostCreate' as const), user: pick, body: text }),
  fc.record({ kind: fc.constant('deletePost' as const), user: pick, post: pick }),
  fc.record({ kind: fc.constant('lookup' as const), user: pick }),
);

const RUNS: Record<string, number> = { sqlite: 25, postgresql: 8, mysql: 8 };

describe.each(DIALECTS)('random operation sequences on %s', (dialect) => {
  let db: TestDatabase;
  let prisma: EncryptedClient;
  beforeAll(async () => {
    db = await openDatabase(dialect);
    prisma = extendedClient(db);
  });
  afterAll(async () => db?.drop());

  it('every row reads back equal to the plaintext model, and no encrypted column holds plaintext', async () => {
    let serial = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 12 }), async (ops) => {
        for (const table of ['Comment', 'Post', 'Profile', 'User'])
          await db.execute(`DELETE FROM ${db.t(table)}`);
        const model: Model = new Map();
        const nth = <T>(map: Map<number, T>, index: number): number | undefined =>
          [...map.keys()][index % Math.max(map.size, 1)];
        for (const step of ops) {
          const userId = nth(model, 'user' in step ? step.user : 0);
          const user = userId === undefined ? undefined : model.get(userId);
          switch (step.kind) {
            case 'createUser': {
              const email = `u${++serial}@x.io`;
              const created = await prisma.user.create({
                data: {
                  email,
                  ssn: step.ssn,
                  name: step.name,
                  posts: { create: step.bodies.map((body) => ({ title: 't', body })) },
                },
                include: { posts: { orderBy: { id: 'asc' } } },
              });
              model.set(created.id, {
                email,
                ssn: step.ssn,
                name: step.name,
                posts: new Map(created.posts.map((post) => [post.id, { title: 't', body: post.body }])),
              });
              break;
            }
            case 'updateSsn':
              if (!user || userId === undefined) break;
              await prisma.user.update({ where: { id: userId }, data: { ssn: step.ssn } });
              user.ssn = step.ssn;
              break;
            case 'updateEmail':
              if (!user || userId === undefined) break;
              user.email = `u${++serial}@x.io`;
              await prisma.user.update({ where: { id: userId }, data: { email: user.email } });
              break;
            case 'updateManyByName': {
              const { count } = await prisma.user.updateMany({
                where: { name: step.name },
                data: { ssn: step.ssn },
              });
              const matching = [...model.values()].filter((each) => each.name === step.name);
              expect(count).toBe(matching.length);
              for (const each of matching) each.ssn = step.ssn;
              break;
            }
            case 'upsert': {
              const id = step.exists && userId !== undefined ? userId : 10_000_000 + serial;
              const email = `u${++serial}@x.io`;
              const result = await prisma.user.upsert({
                where: { id },
                create: { id, email, ssn: step.ssn, name: 'red' },
                update: { ssn: step.ssn },
              });
              const existing = model.get(id);
              if (existing) existing.ssn = step.ssn;
              else model.set(result.id, { email, ssn: step.ssn, name: 'red', posts: new Map() });
              break;
            }
            case 'nestedPostUpdate': {
              const postId = user && nth(user.posts, step.post);
              if (!user || userId === undefined || postId === undefined) break;
              await prisma.user.update({
                where: { id: userId },
                data: { posts: { update: { where: { id: postId }, data: { body: step.body } } } },
              });
              (user.posts.get(postId) as ModelPost).body = step.body;
              break;
            }
            case 'nestedPostUpdateMany':
              if (!user || userId === undefined) break;
              await prisma.user.update({
                where: { id: userId },
                data: { posts: { updateMany: { where: { title: 't' }, data: { body: step.body } } } },
              });
              for (const post of user.posts.values()) post.body = step.body;
              break;
            case 'nestedPostCreate': {
              if (!user || userId === undefined) break;
              const updated = await prisma.user.update({
                where: { id: userId },
                data: { posts: { create: { title: 't', body: step.body } } },
                include: { posts: true },
              });
              const created = updated.posts.find((post) => !user.posts.has(post.id));
              user.posts.set(created?.id as number, { title: 't', body: step.body });
              break;
            }
            case 'deletePost': {
              const postId = user && nth(user.posts, step.post);
              if (!user || postId === undefined) break;
              expect((await prisma.post.delete({ where: { id: postId } })).body).toBe(
                user.posts.get(postId)?.body,
              );
              user.posts.delete(postId);
              break;
            }
            case 'lookup':
              if (!user) break;
              expect((await prisma.user.findFirst({ where: { email: user.email } }))?.id).toBe(userId);
              break;
          }
          // After every step: the database, read through the extension, equals the model...
          const users = await prisma.user.findMany({
            include: { posts: { orderBy: { id: 'asc' } } },
            orderBy: { id: 'asc' },
          });
          expect(
            users.map((each) => ({
              id: each.id,
              email: each.email,
              ssn: each.ssn,
              name: each.name,
              posts: each.posts.map((post) => [post.id, post.body]),
            })),
          ).toEqual(
            [...model]
              .sort(([a], [b]) => a - b)
              .map(([id, each]) => ({
                id,
                email: each.email,
                ssn: each.ssn,
                name: each.name,
                posts: [...each.posts].map(([postId, post]) => [postId, post.body]),
              })),
          );
          // ...and, read raw, holds only ciphertext that opens with each row's own data key.
          await expectRowInvariant(db, 'User');
          await expectRowInvariant(db, 'Post');
        }
      }),
      { numRuns: RUNS[dialect] ?? 5 },
    );
  }, 120_000);
});
