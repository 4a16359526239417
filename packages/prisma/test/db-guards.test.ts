import {
  guardInstallSql,
  guardViolationsSql,
  runSqliteRebuild,
  type SqlDialect,
  sqliteRebuild,
  sqliteSchemaOf,
  type TableGuards,
  tableGuards,
} from '@fieldseal/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlExecutor, storedTables } from '../src/index.js';
import { DIALECTS, openDatabase, type TestDatabase } from './helpers/databases.js';
import { type EncryptedClient, extendedClient, metadata } from './helpers/fixture.js';

// The nested writes of the adapter's docs, with every guard of every encrypted table installed
// (as `fieldseal guard install` does): none may be refused, and no stored row may break a guard.
describe.each(DIALECTS)('nested writes with database guards on %s', (name) => {
  const dialect: SqlDialect = name === 'postgresql' ? 'postgres' : name === 'mysql' ? 'mysql' : 'sqlite';
  let db: TestDatabase;
  let prisma: EncryptedClient;
  let guards: TableGuards[];
  const executor = () => sqlExecutor(db.raw, { dialect });

  beforeAll(async () => {
    db = await openDatabase(name);
    prisma = extendedClient(db);
    const schema = dialect === 'postgres' ? /^"([^"]+)"\./.exec(db.t('User'))?.[1] : undefined;
    guards = storedTables(metadata, schema ? { schema } : {})
      .filter((table) => table.model !== 'BenchRow') // the benchmark's table is not created here
      .map((table) => tableGuards(table, dialect));
    for (const tg of guards) {
      if (dialect === 'sqlite') {
        const rebuild = sqliteRebuild(tg, await sqliteSchemaOf(executor(), tg), { add: tg.guards });
        await runSqliteRebuild(executor(), rebuild);
      } else
        for (const statement of Object.values(guardInstallSql(tg)).flat())
          await executor().execute(statement);
    }
  });
  afterAll(async () => db?.drop());

  const noViolations = async () => {
    for (const tg of guards)
      for (const guard of tg.guards) {
        const [count] = await executor().query<{ n: unknown }>(guardViolationsSql(tg, guard, 1).count);
        expect(Number(count?.n), guard.name).toBe(0);
      }
  };

  it('guards are in place: a raw plaintext write is refused', async () => {
    const user = await prisma.user.create({ data: { email: 'guarded@x.io' } });
    await expect(
      db.execute(`UPDATE ${db.t('User')} SET ${db.q('ssn')} = 'plain' WHERE ${db.q('id')} = ${user.id}`),
    ).rejects.toThrow(/fieldseal_guard_User_ssn/);
  });

  it('create with nested create, createMany and connectOrCreate; include reads them back', async () => {
    const user = await prisma.user.create({
      data: {
        email: 'a@x.io',
        ssn: 'ssn-a',
        profile: { create: { bio: 'bio', avatar: new Uint8Array([1, 2, 3]) } },
        posts: {
          create: [{ title: 't1', body: 'b1', comments: { create: [{ text: 'c1' }, { text: 'c2' }] } }],
          createMany: { data: [{ title: 't2', body: 'b2' }] },
        },
      },
      include: { posts: { include: { comments: true }, orderBy: { id: 'asc' } }, profile: true },
    });
    expect(user.posts.map((p) => p.body)).toEqual(['b1', 'b2']);
    expect(user.posts[0]?.comments.map((c) => c.text).sort()).toEqual(['c1', 'c2']);
    expect(user.profile?.bio).toBe('bio');
    const post = await prisma.post.create({
      data: {
        title: 't3',
        body: 'b3',
        author: { connectOrCreate: { where: { id: user.id }, create: { email: 'x@x.io' } } },
      },
      include: { author: true },
    });
    expect(post.author.email).toBe('a@x.io');
    await noViolations();
  });

  it('update with nested update, updateMany, upsert, create and deleteMany; interactive transaction; delete', async () => {
    const user = await prisma.user.findFirstOrThrow({ where: { email: 'a@x.io' }, include: { posts: true } });
    await prisma.user.update({
      where: { id: user.id },
      data: {
        ssn: 'ssn-changed',
        profile: {
          upsert: { create: { bio: 'new' }, update: { bio: 'bio-changed', avatar: new Uint8Array([9]) } },
        },
        posts: {
          update: {
            where: { id: user.posts[0]!.id },
            data: { body: 'b1-changed', comments: { create: { text: 'c3' } } },
          },
          updateMany: { where: { title: 't2' }, data: { body: 'b2-changed' } },
          create: { title: 't4', body: 'b4' },
          deleteMany: { title: 't3' },
        },
      },
    });
    await prisma.$transaction(async (tx) => {
      await tx.user.create({ data: { email: 'tx@x.io', posts: { create: { title: 'tx', body: 'in-tx' } } } });
      await tx.post.updateMany({ where: { title: 't4' }, data: { body: 'b4-changed' } });
    });
    const after = await prisma.user.findFirstOrThrow({
      where: { email: 'a@x.io' },
      include: { posts: { orderBy: { id: 'asc' } }, profile: true },
    });
    expect(after).toMatchObject({
      ssn: 'ssn-changed',
      profile: { bio: 'bio-changed', avatar: new Uint8Array([9]) },
    });
    expect(after.posts.map((p) => p.body)).toEqual(['b1-changed', 'b2-changed', 'b4-changed']);
    await noViolations();
    await prisma.comment.deleteMany({});
    await prisma.post.deleteMany({ where: { authorId: after.id } });
    await prisma.profile.delete({ where: { userId: after.id } });
    await prisma.user.delete({ where: { id: after.id } });
    expect(await prisma.user.findFirst({ where: { email: 'a@x.io' } })).toBeNull();
  });

  it('top-level upsert, createManyAndReturn and updateManyAndReturn (where Prisma has them), batch $transaction of creates', async () => {
    const up = await prisma.user.upsert({
      where: { id: -1 },
      create: { email: 'up@x.io', ssn: 'ssn-up' },
      update: {},
    });
    await prisma.user.upsert({
      where: { id: up.id },
      create: { email: 'never@x.io' },
      update: { ssn: 'ssn-up2' },
    });
    const [b1, b2] = await prisma.$transaction([
      prisma.user.create({ data: { email: 'batch1@x.io', ssn: 'ssn-b1' } }),
      prisma.post.create({
        data: { title: 'batch', body: 'batch body', author: { connect: { id: up.id } } },
      }),
    ]);
    expect([b1.ssn, b2.body]).toEqual(['ssn-b1', 'batch body']);
    if (dialect !== 'mysql') {
      // Prisma offers the *AndReturn operations on PostgreSQL and SQLite only (MySQL has no RETURNING).
      const made = await prisma.user.createManyAndReturn({
        data: [
          { email: 'r1@x.io', ssn: 'ssn-r1', name: 'ret' },
          { email: 'r2@x.io', name: 'ret' },
        ],
        select: { id: true, email: true, ssn: true },
      });
      expect(made.map((row) => [row.email, row.ssn])).toEqual([
        ['r1@x.io', 'ssn-r1'],
        ['r2@x.io', null],
      ]);
      const changed = await prisma.user.updateManyAndReturn({
        where: { name: 'ret' },
        data: { ssn: 'ssn-returned' },
        select: { email: true, ssn: true },
      });
      expect(changed.map((row) => [row.email, row.ssn]).sort()).toEqual([
        ['r1@x.io', 'ssn-returned'],
        ['r2@x.io', 'ssn-returned'],
      ]);
    }
    expect(await prisma.user.findUniqueOrThrow({ where: { id: up.id } })).toMatchObject({
      email: 'up@x.io',
      ssn: 'ssn-up2',
    });
    await noViolations();
  });
});
