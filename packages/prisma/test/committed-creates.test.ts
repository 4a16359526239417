import { BlindIndex, isCommittedWriteResultError, isDecryptionError, isKeyringError } from '@fieldseal/core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { WrittenValues } from '../src/query/written-values.js';
import { type BaseClient, DIALECTS, openDatabase, type TestDatabase } from './helpers/databases.js';
import { encrypted } from './helpers/fixture.js';
import { expectRowInvariant } from './helpers/invariant.js';
import { type LocalKms, startLocalKms } from './helpers/kms.js';

// No call reports failure for a write that committed (issue 13, item 3), for writes that create
// rows: the new rows are returned from the plaintext just encrypted (no keyring call after the
// INSERT, on a keyring without a cache); anything else in the result (an existing related row) is
// decrypted in a transaction with the write; a batch $transaction([...]), which commits before any
// result comes back, runs such a write, and a result it then cannot decrypt fails with
// CommittedWriteResultError (code write-committed): the error says the write is in the database.
describe.each(DIALECTS)('no error for a committed create on %s', (dialect) => {
  let db: TestDatabase;
  let kms: LocalKms;
  let base: BaseClient;
  let blindIndexKey: string;
  const log: string[] = [];
  let n = 0;
  let authorId: number;
  beforeAll(async () => {
    db = await openDatabase(dialect);
    kms = await startLocalKms();
    blindIndexKey = await BlindIndex.generateKey(kms.keyring);
    base = db.client({ log: [{ emit: 'event', level: 'query' }] });
    (base as unknown as { $on(event: 'query', f: (e: { query: string }) => void): void }).$on('query', (e) =>
      log.push(e.query),
    );
  });
  afterAll(async () => {
    await db?.drop();
    await kms?.close();
  });
  const client = () => encrypted(base, { keyring: kms.keyring, blindIndexKey });
  /** A client whose KMS fails right after each write statement of these models returns (before fieldseal sees the result). */
  const failingAfterWrite = () =>
    client().$extends({
      query: {
        $allModels: {
          async $allOperations({ operation, args, query }) {
            const result = await query(args);
            if (/^(create|upsert|update|delete)/.test(operation)) kms.outage();
            return result;
          },
        },
      },
    });
  beforeEach(async () => {
    kms.recover();
    authorId = (await client().user.create({ data: { email: `author${++n}@x.io`, ssn: 'a-ssn' } })).id;
  });
  const rows = async (table: string) => db.rows(table);
  const damage = async (table: string, column: string, id: number) => {
    const value = String((await rows(table)).find((row) => row.id === id)?.[column]);
    const flipped = `${value.slice(0, -3)}${value.at(-3) === 'A' ? 'B' : 'A'}${value.slice(-2)}`;
    await db.execute(`UPDATE ${db.t(table)} SET ${db.q(column)} = '${flipped}' WHERE ${db.q('id')} = ${id}`);
  };
  const caught = (promise: Promise<unknown>) => promise.catch((e: unknown) => e).finally(() => kms.recover());
  const kinds = async (run: () => Promise<unknown>) => {
    log.length = 0;
    await run();
    return log.map((sql) =>
      sql.startsWith('-- Implicit "COMMIT"') ? 'COMMIT' : (/^\s*(\w+)/.exec(sql)?.[1] ?? sql).toUpperCase(),
    );
  };

  it('KMS down right after the INSERT: create (plain, nested create with include, bytes) returns exact plaintext', async () => {
    const avatar = new Uint8Array([0, 1, 2, 250, 255]);
    const user = await caught(failingAfterWrite().user.create({ data: { email: `c${n}@x.io`, ssn: 's1' } }));
    expect(user).toMatchObject({ email: `c${n}@x.io`, ssn: 's1', name: null });
    const withPosts = await caught(
      failingAfterWrite().user.create({
        data: {
          email: `p${n}@x.io`,
          posts: {
            create: [
              { title: 't1', body: 'b1' },
              { title: 't2', body: 'b2' },
            ],
          },
        },
        include: { posts: { orderBy: { id: 'asc' } } },
      }),
    );
    expect(withPosts).toMatchObject({ email: `p${n}@x.io`, posts: [{ body: 'b1' }, { body: 'b2' }] });
    const profile = await caught(
      failingAfterWrite().profile.create({ data: { bio: 'bio', avatar, userId: authorId } }),
    );
    expect(profile).toMatchObject({ bio: 'bio', avatar });
    // What a later read returns, field for field and type for type (no fieldseal column leaks).
    const prisma = client();
    expect(await prisma.user.findUnique({ where: { id: (user as { id: number }).id } })).toEqual(user);
    expect(
      await prisma.user.findUnique({
        where: { id: (withPosts as { id: number }).id },
        include: { posts: { orderBy: { id: 'asc' } } },
      }),
    ).toEqual(withPosts);
    expect(await prisma.profile.findUnique({ where: { id: (profile as { id: number }).id } })).toEqual(
      profile,
    );
    // An update returns written bytes as a read does too (a plain Uint8Array, not a Buffer).
    const next = new Uint8Array([9, 8, 7]);
    const updated = await prisma.profile.update({
      where: { id: (profile as { id: number }).id },
      data: { avatar: next },
    });
    expect(updated).toEqual(await prisma.profile.findUnique({ where: { id: updated.id } }));
    await expectRowInvariant(db, 'Post', kms.keyring);
  });

  it('KMS down right after the INSERT: nested createMany and connectOrCreate return each new row its own plaintext', async () => {
    const bodies = Array.from({ length: 5 }, (_, i) => ({ title: `cm${n}-${i}`, body: `body ${n}-${i}` }));
    const made = (await caught(
      failingAfterWrite().user.create({
        data: { email: `cm${n}@x.io`, ssn: 'cm-ssn', posts: { createMany: { data: bodies } } },
        include: { posts: { orderBy: { id: 'asc' } } },
      }),
    )) as { id: number; posts: { title: string; body: string }[] };
    // Each post carries its own body (matched by the ciphertext written for that row), none swapped.
    expect(made.posts?.map((post) => [post.title, post.body])).toEqual(bodies.map((b) => [b.title, b.body]));
    const linked = (await caught(
      failingAfterWrite().post.create({
        data: {
          title: `coc${n}`,
          body: 'coc body',
          author: {
            connectOrCreate: {
              where: { id: 2_000_000 + n },
              create: { email: `coc${n}@x.io`, ssn: 'coc-ssn' },
            },
          },
        },
        include: { author: true },
      }),
    )) as { body: string; author: { email: string; ssn: string } };
    expect(linked).toMatchObject({ body: 'coc body', author: { email: `coc${n}@x.io`, ssn: 'coc-ssn' } });
    // What a later read returns, exactly.
    const prisma = client();
    expect(
      await prisma.user.findUnique({
        where: { id: made.id },
        include: { posts: { orderBy: { id: 'asc' } } },
      }),
    ).toEqual(made);
    await expectRowInvariant(db, 'Post', kms.keyring);
  });

  it('KMS down right after the write: upsert (create branch) and a batch of creates return exact plaintext', async () => {
    const upserted = await caught(
      failingAfterWrite().user.upsert({
        where: { id: 1_000_000 + n },
        create: { email: `u${n}@x.io`, ssn: 'u-ssn' },
        update: { name: 'never' },
      }),
    );
    expect(upserted).toMatchObject({ email: `u${n}@x.io`, ssn: 'u-ssn', name: null });
    const prisma = failingAfterWrite();
    const batch = await caught(
      prisma.$transaction([
        prisma.user.create({ data: { email: `b${n}@x.io`, ssn: 'b-ssn' } }),
        prisma.post.create({ data: { title: 'bt', body: 'b-body', authorId } }),
      ]),
    );
    expect(batch).toMatchObject([
      { email: `b${n}@x.io`, ssn: 'b-ssn' },
      { title: 'bt', body: 'b-body' },
    ]);
    const after = await expectRowInvariant(db, 'User', kms.keyring);
    expect(after.filter((row) => row.email === `u${n}@x.io` || row.email === `b${n}@x.io`)).toHaveLength(2);
  });

  it('KMS down right after the INSERT: createManyAndReturn (where Prisma has it) and createMany', async () => {
    if (dialect !== 'mysql') {
      const created = await caught(
        failingAfterWrite().post.createManyAndReturn({
          data: [
            { title: 'm1', body: 'mb1', authorId },
            { title: 'm2', body: 'mb2', authorId },
          ],
        }),
      );
      expect(created).toMatchObject([
        { title: 'm1', body: 'mb1' },
        { title: 'm2', body: 'mb2' },
      ]);
      const [first] = created as { id: number }[];
      expect(await client().post.findUnique({ where: { id: first?.id as number } })).toEqual(
        (created as unknown[])[0],
      );
    }
    const count = await caught(
      failingAfterWrite().post.createMany({ data: [{ title: 'm3', body: 'mb3', authorId }] }),
    );
    expect(count).toEqual({ count: 1 });
    expect((await client().post.findFirst({ where: { title: 'm3' } }))?.body).toBe('mb3');
  });

  it('an existing related row in the result that cannot be opened: the create throws and nothing is written', async () => {
    await damage('User', 'ssn', authorId);
    const prisma = client();
    const posts = async () => (await rows('Post')).filter((row) => row.title === `inc${n}`).length;
    const damaged = await caught(
      prisma.post.create({ data: { title: `inc${n}`, body: 'x', authorId }, include: { author: true } }),
    );
    expect(isDecryptionError(damaged), String(damaged)).toBe(true);
    expect(await posts()).toBe(0);
    if (dialect !== 'mysql') {
      const many = await caught(
        prisma.post.createManyAndReturn({
          data: [{ title: `inc${n}`, body: 'x', authorId }],
          include: { author: true },
        }),
      );
      expect(isDecryptionError(many), String(many)).toBe(true);
      expect(await posts()).toBe(0);
    }
    // KMS down right after the INSERT, the related row intact: same outcome, a KeyringError.
    const other = (await client().user.create({ data: { email: `ok${n}@x.io`, ssn: 'ok' } })).id;
    const down = await caught(
      failingAfterWrite().post.create({
        data: { title: `inc${n}`, body: 'x', author: { connect: { id: other } } },
        include: { author: true },
      }),
    );
    expect(isKeyringError(down), String(down)).toBe(true);
    expect(await posts()).toBe(0);
    // Selecting no encrypted field of the relation: nothing to decrypt but the new row.
    const fine = await prisma.post.create({
      data: { title: `inc${n}`, body: 'x', authorId },
      include: { author: { select: { id: true, name: true } } },
    });
    expect(fine).toMatchObject({ body: 'x', author: { id: authorId } });
  });

  it('a batch $transaction runs writes returning encrypted values; a result it cannot decrypt after the commit fails CommittedWriteResultError, the write in place', async () => {
    const prisma = client();
    const audits = async () => (await rows('Audit')).filter((row) => row.action === `batch${n}`).length;
    // Ordinary ORM code keeps working: the whole row comes back in plaintext.
    const [, updated] = await prisma.$transaction([
      prisma.audit.create({ data: { action: `batch${n}` } }),
      prisma.user.update({ where: { id: authorId }, data: { name: 'B' } }),
    ]);
    expect(updated).toMatchObject({ id: authorId, name: 'B', ssn: 'a-ssn' });
    await damage('User', 'ssn', authorId);
    const writes: [string, () => Promise<unknown>][] = [
      ['update', () => prisma.user.update({ where: { id: authorId }, data: { name: 'C' } })],
      [
        'create with include',
        () =>
          prisma.post.create({ data: { title: `bt${n}`, body: 'b', authorId }, include: { author: true } }),
      ],
    ];
    if (dialect !== 'mysql')
      writes.push([
        'updateManyAndReturn',
        () => prisma.user.updateManyAndReturn({ where: { id: authorId }, data: { name: 'D' } }),
      ]);
    let batches = 1;
    for (const [what, write] of writes) {
      const error = await caught(
        prisma.$transaction([prisma.audit.create({ data: { action: `batch${n}` } }), write() as never]),
      );
      batches++;
      expect(isCommittedWriteResultError(error), `${what}: ${String(error)}`).toBe(true);
      expect((error as { code?: unknown }).code).toBe('write-committed');
      expect(isDecryptionError((error as { cause?: unknown }).cause)).toBe(true);
      expect(String(error)).toContain('The write is in the database');
      expect(String(error)).not.toContain('a-ssn');
      // Committed, as the error says: the batch's other write and this one are both there.
      expect(await audits(), what).toBe(batches);
    }
    const author = (await rows('User')).find((row) => row.id === authorId);
    expect(author?.name).toBe(dialect === 'mysql' ? 'C' : 'D');
    expect((await rows('Post')).filter((row) => row.title === `bt${n}`)).toHaveLength(1);
  });

  it('updateManyAndReturn (where Prisma has it) and update of plain fields: a damaged value rolls them back', async () => {
    await damage('User', 'ssn', authorId);
    const prisma = client();
    const writes = [() => prisma.user.update({ where: { id: authorId }, data: { name: 'M' } })];
    if (dialect !== 'mysql')
      writes.push(
        () => prisma.user.updateManyAndReturn({ where: { id: authorId }, data: { name: 'M' } }) as never,
      );
    for (const write of writes) {
      const error = await caught(write());
      expect(isDecryptionError(error), String(error)).toBe(true);
      expect((await rows('User')).find((row) => row.id === authorId)).toMatchObject({ name: null });
    }
  });

  it('statements: a create without include is Prisma’s own; with an encrypted relation included, in one transaction', async () => {
    const prisma = client();
    const plain = await kinds(() => prisma.user.create({ data: { email: `k${n}@x.io`, ssn: 'k' } }));
    expect(plain).toEqual(dialect === 'mysql' ? ['INSERT', 'SELECT', 'COMMIT'] : ['INSERT']);
    // With a relation included, Prisma runs its statements in a transaction of its own anyway:
    // fieldseal's transaction replaces it (same statements as before this change).
    const included = await kinds(() =>
      prisma.post.create({ data: { title: 'k', body: 'k', authorId }, include: { author: true } }),
    );
    expect(included).toEqual(['INSERT', 'SELECT', 'SELECT', 'COMMIT']);
  });
});

describe('values filled from the plaintext a create just encrypted', () => {
  const written = new WrittenValues();
  const bytes = new Uint8Array([1, 2, 3]);
  written.record(
    'User',
    'key-1',
    { ssn: 'plain', avatar: bytes },
    { ssn: 'fs2:made', avatar: Buffer.from('fs2:b') },
  );

  it('only the very ciphertext written, in its table and column, under its data key, is filled', () => {
    expect(written.plaintextOf('User', 'ssn', 'key-1', 'fs2:made')).toBe('plain');
    expect(written.plaintextOf('User', 'ssn', 'key-1', 'fs2:other')).toBeUndefined();
    expect(written.plaintextOf('User', 'ssn', 'key-2', 'fs2:made')).toBeUndefined();
    expect(written.plaintextOf('User', 'name', 'key-1', 'fs2:made')).toBeUndefined();
    expect(written.plaintextOf('Post', 'ssn', 'key-1', 'fs2:made')).toBeUndefined();
    expect(written.plaintextOf('User', 'ssn', null, 'fs2:made')).toBeUndefined();
    expect(written.plaintextOf('User', 'ssn', 'key-1', null)).toBeNull();
  });

  it('bytes come back as a fresh Uint8Array (as a decryption returns them), unaffected by later changes to the input', () => {
    bytes[0] = 9;
    const value = written.plaintextOf('User', 'avatar', 'key-1', new Uint8Array(Buffer.from('fs2:b')));
    expect(value).toEqual(new Uint8Array([1, 2, 3]));
    expect(Buffer.isBuffer(value)).toBe(false);
  });
});
