import { isWriteConflictError } from '@fieldseal/core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, openDatabase, type TestDatabase } from './helpers/databases.js';
import { type EncryptedClient, extendedClient } from './helpers/fixture.js';
import { expectRowInvariant } from './helpers/invariant.js';
import { type KeyRead, keyRace } from './helpers/key-race.js';

// Nested writes into existing child rows race a key change (rotation's re-wrap: same key, new
// column text; or a delete) between fieldseal's read of the child rows' keys and the write
// (helpers/key-race.ts): from another connection on PostgreSQL and MariaDB (in a transaction
// fieldseal opens unless said otherwise), through the app's own interactive transaction on SQLite
// (which lets one writer at a time in). Every check is on the stored rows, with raw SQL.

describe.each(DIALECTS)('nested writes racing a key change on %s', (dialect) => {
  let db: TestDatabase;
  let prisma: EncryptedClient;
  let race: ReturnType<typeof keyRace>;
  beforeAll(async () => {
    db = await openDatabase(dialect);
    prisma = extendedClient(db);
    race = keyRace(db, prisma);
  });
  afterAll(async () => db?.drop());
  beforeEach(async () => {
    for (const table of ['Comment', 'Post', 'Profile', 'User'])
      await db.execute(`DELETE FROM ${db.t(table)}`);
  });
  const execute = (sql: string) => race.execute(sql);
  const rewrap = (table: string, row: KeyRead) => race.rewrap(table, row);
  const racing: ReturnType<typeof keyRace>['racing'] = (...args) => race.racing(...args);
  const run: ReturnType<typeof keyRace>['run'] = (...args) => race.run(...args);

  const author = async () =>
    prisma.user.create({
      data: {
        email: 'a@x.io',
        posts: {
          create: [
            { title: 'x', body: 'old1' },
            { title: 'x', body: 'old2' },
            { title: 'x', body: 'old3' },
            { title: 'y', body: 'other' },
          ],
        },
      },
      include: { posts: { orderBy: { id: 'asc' } } },
    });
  const posts = async () =>
    (await expectRowInvariant(db, 'Post')) as (KeyRead & { body: string; title: string })[];

  it('nested updateMany over 3 child rows re-wrapped after the key read writes all 3', async () => {
    const user = await author();
    const rotated = new Map<number, string>();
    const client = racing(
      'Post',
      async (rows) => {
        for (const row of rows) rotated.set(Number(row.id), await rewrap('Post', row));
      },
      { times: 1 },
    );
    const updated = await run(client, (c) =>
      c.user.update({
        where: { id: user.id },
        data: {
          name: 'N',
          posts: { updateMany: { where: { title: 'x' }, data: { body: 'new', title: 'x2' } } },
        },
        include: { posts: { orderBy: { id: 'asc' } } },
      }),
    );
    expect(rotated.size).toBe(3);
    expect(updated.name).toBe('N');
    expect(updated.posts.map((post) => [post.title, post.body])).toEqual([
      ['x2', 'new'],
      ['x2', 'new'],
      ['x2', 'new'],
      ['y', 'other'],
    ]);
    // At rest: each value opens under its own row's key column, which is the rotated text.
    const stored = await posts();
    expect(stored.map((post) => post.body)).toEqual(['new', 'new', 'new', 'other']);
    for (const [id, text] of rotated) expect(stored.find((post) => post.id === id)?.dataKey).toBe(text);
  });

  // In the app's own interactive transaction fieldseal cannot retry the transaction: PostgreSQL's
  // re-read (READ COMMITTED) sees the rotation and the retry lands; MariaDB's re-reads see the
  // transaction's first snapshot, so the call ends in WriteConflictError and the app retries.
  if (dialect !== 'sqlite')
    it("in the app's transaction, a rotation from another connection: all 3 written, or WriteConflictError", async () => {
      const user = await author();
      const client = racing('Post', async (rows) => Promise.all(rows.map((row) => rewrap('Post', row))), {
        times: 1,
      });
      const outcome = await run(
        client,
        (c) =>
          c.user.update({
            where: { id: user.id },
            data: { name: 'N', posts: { updateMany: { where: { title: 'x' }, data: { body: 'new' } } } },
          }),
        true,
      ).catch((e: unknown) => e);
      const stored = await posts();
      if (dialect === 'postgresql') {
        expect(outcome).toMatchObject({ name: 'N' });
        expect(stored.map((post) => post.body)).toEqual(['new', 'new', 'new', 'other']);
      } else {
        expect(isWriteConflictError(outcome), String(outcome)).toBe(true);
        expect(stored.map((post) => post.body)).toEqual(['old1', 'old2', 'old3', 'other']);
        expect((await db.rows('User'))[0]?.name).toBeNull();
      }
    });

  it('nested update and to-one update of rows re-wrapped after the key read succeed', async () => {
    const user = await author();
    await prisma.profile.create({ data: { bio: 'b0', user: { connect: { id: user.id } } } });
    const [first] = user.posts;
    const rotated = new Map<string, string>();
    const change = (table: string) => async (rows: KeyRead[]) => {
      for (const row of rows) rotated.set(`${table}:${row.id}`, await rewrap(table, row));
    };
    const updated = await run(racing('Post', change('Post'), { times: 1 }), (c) =>
      c.user.update({
        where: { id: user.id },
        data: { posts: { update: { where: { id: first?.id as number }, data: { body: 'edited' } } } },
        include: { posts: { orderBy: { id: 'asc' } } },
      }),
    );
    expect(updated.posts[0]?.body).toBe('edited');
    const profiled = await run(racing('Profile', change('Profile'), { times: 1 }), (c) =>
      c.user.update({
        where: { id: user.id },
        data: { profile: { update: { bio: 'b1', avatar: new Uint8Array([7]) } } },
        include: { profile: true },
      }),
    );
    expect(profiled.profile).toMatchObject({ bio: 'b1', avatar: new Uint8Array([7]) });
    expect(rotated.size).toBe(2);
    const stored = await posts();
    expect(stored.find((post) => post.id === first?.id)).toMatchObject({
      body: 'edited',
      dataKey: rotated.get(`Post:${first?.id}`),
    });
    const [profile] = await expectRowInvariant(db, 'Profile');
    expect(profile).toMatchObject({ bio: 'b1', dataKey: [...rotated.values()][1] });
  });

  it('nested upsert: the update branch lands under the re-wrapped key; a row deleted after the read is created', async () => {
    const user = await author();
    const [first, second] = user.posts;
    let rotated: string | undefined;
    const updated = await run(
      racing(
        'Post',
        async ([row]) => {
          rotated = await rewrap('Post', row as KeyRead);
        },
        { times: 1 },
      ),
      (c) =>
        c.user.update({
          where: { id: user.id },
          data: {
            posts: {
              upsert: {
                where: { id: first?.id as number },
                create: { title: 'never', body: 'never' },
                update: { body: 'upserted' },
              },
            },
          },
          include: { posts: { orderBy: { id: 'asc' } } },
        }),
    );
    expect(updated.posts.map((post) => post.body)).toEqual(['upserted', 'old2', 'old3', 'other']);
    expect((await posts()).find((post) => post.id === first?.id)?.dataKey).toBe(rotated);
    const deleted = async ([row]: KeyRead[]) =>
      execute(`DELETE FROM ${db.t('Post')} WHERE ${db.q('id')} = ${(row as KeyRead).id}`);
    const created = await run(racing('Post', deleted, { times: 1 }), (c) =>
      c.user.update({
        where: { id: user.id },
        data: {
          posts: {
            upsert: {
              where: { id: second?.id as number },
              create: { title: 'fresh', body: 'created' },
              update: { body: 'never' },
            },
          },
        },
        include: { posts: { orderBy: { id: 'asc' } } },
      }),
    );
    expect(created.posts.map((post) => post.body)).toEqual(['upserted', 'old3', 'other', 'created']);
    const stored = await posts();
    expect(stored.map((post) => post.body)).toEqual(['upserted', 'old3', 'other', 'created']);
    expect(stored.some((post) => post.id === second?.id)).toBe(false);
  });

  it("an upsert's update branch: its nested updateMany over re-wrapped rows writes all 3", async () => {
    const user = await author();
    let count = 0;
    const client = racing(
      'Post',
      async (rows) => {
        for (const row of rows) await rewrap('Post', row);
        count += rows.length;
      },
      { times: 1 },
    );
    await run(client, (c) =>
      c.user.upsert({
        where: { id: user.id },
        create: { email: 'never@x.io' },
        update: { ssn: 's', posts: { updateMany: { where: { title: 'x' }, data: { body: 'up' } } } },
      }),
    );
    expect(count).toBe(3);
    expect((await posts()).map((post) => post.body)).toEqual(['up', 'up', 'up', 'other']);
    expect((await expectRowInvariant(db, 'User'))[0]).toMatchObject({ ssn: 's', email: 'a@x.io' });
  });

  it('a nested update of a row deleted after the key read fails with record-not-found and writes nothing', async () => {
    const user = await author();
    const [first] = user.posts;
    const deleted = async ([row]: KeyRead[]) =>
      execute(`DELETE FROM ${db.t('Post')} WHERE ${db.q('id')} = ${(row as KeyRead).id}`);
    const error = await run(racing('Post', deleted, { times: 1 }), (c) =>
      c.user.update({
        where: { id: user.id },
        data: {
          name: 'never',
          posts: { update: { where: { id: first?.id as number }, data: { body: 'x' } } },
        },
      }),
    ).catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe('P2025');
    expect((await db.rows('User'))[0]?.name).toBeNull();
    expect((await posts()).map((post) => post.body)).not.toContain('x');
    // A nested updateMany leaves the deleted row out and writes the others whole.
    const before = await posts();
    const matched = before.filter((post) => post.title === 'x').length;
    await run(
      racing('Post', async ([row]) => deleted([row as KeyRead]), { times: 1 }),
      (c) =>
        c.user.update({
          where: { id: user.id },
          data: { posts: { updateMany: { where: { title: 'x' }, data: { title: 'z', body: 'new' } } } },
        }),
    );
    const after = await posts();
    expect(after).toHaveLength(before.length - 1);
    expect(after.filter((post) => post.title !== 'y').map((post) => [post.title, post.body])).toEqual(
      Array.from({ length: matched - 1 }, () => ['z', 'new']),
    );
  });

  it('a nested updateMany leaves out a row that stopped matching after the key read', async () => {
    const user = await author();
    const retitle = async ([row]: KeyRead[]) =>
      execute(`UPDATE ${db.t('Post')} SET ${db.q('title')} = 'q' WHERE ${db.q('id')} = ${row?.id}`);
    await run(racing('Post', retitle, { times: 1 }), (c) =>
      c.user.update({
        where: { id: user.id },
        data: { posts: { updateMany: { where: { title: 'x' }, data: { title: 'z', body: 'new' } } } },
      }),
    );
    const stored = (await posts()).map((post) => [post.title, post.body]);
    expect(stored).toEqual([
      ['q', 'old1'],
      ['z', 'new'],
      ['z', 'new'],
      ['y', 'other'],
    ]);
  });

  it('child keys that change before every write end in WriteConflictError, with nothing written', async () => {
    const user = await author();
    const client = racing(
      'Post',
      async (rows) => {
        for (const row of rows) await rewrap('Post', row);
      },
      { times: 100, reReads: true },
    );
    const error = await run(client, (c) =>
      c.user.update({
        where: { id: user.id },
        data: { name: 'never', posts: { updateMany: { where: { title: 'x' }, data: { body: 'never' } } } },
      }),
    ).catch((e: unknown) => e);
    expect(isWriteConflictError(error), String(error)).toBe(true);
    expect(String(error)).toContain('Post');
    expect((await db.rows('User'))[0]?.name).toBeNull();
    expect((await posts()).map((post) => post.body)).toEqual(['old1', 'old2', 'old3', 'other']);
  });
});
