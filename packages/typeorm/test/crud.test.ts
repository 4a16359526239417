import { isEncryptedValue } from '@fieldseal/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from './support/databases.js';
import { Post, Profile, Tag, User } from './support/entities.js';
import { type EncryptedDatabase, encryptedDatabase, plaintextAtRest, rawRows } from './support/setup.js';

describe.each(DIALECTS)('CRUD on %s', (dialect) => {
  let db: EncryptedDatabase;
  beforeAll(async () => {
    db = await encryptedDatabase(dialect);
  });
  afterAll(async () => {
    await db?.drop();
  });

  const users = () => db.dataSource.getRepository(User);
  let seq = 0;
  const email = (label: string) => `${label}-${++seq}@example.com`;

  it('save() of a new entity stores ciphertext and a data key, and leaves the object holding plaintext', async () => {
    const address = email('ada');
    const user = users().create({ name: 'Ada', email: address, ssn: '078-05-1120' });
    const saved = await users().save(user);
    expect(saved).toBe(user);
    expect(user.email).toBe(address);
    expect(user.ssn).toBe('078-05-1120');
    expect(user.dataKey).toMatch(/^fsk2:/);
    expect(user.emailIndex).toMatch(/^[0-9a-f]{32}$/);
    const [row] = (await rawRows(db, 'user')).filter((r) => r.id === user.id);
    expect(isEncryptedValue(row?.email)).toBe(true);
    expect(isEncryptedValue(row?.ssn)).toBe(true);
    expect(row?.dataKey).toBe(user.dataKey);
    expect(await plaintextAtRest(db, 'user', [address, '078-05-1120'])).toEqual([]);
    const loaded = await users().findOneByOrFail({ id: user.id });
    expect(loaded).toMatchObject({ name: 'Ada', email: address, ssn: '078-05-1120' });
  });

  it('save() of a changed entity rewrites only the changed encrypted column, under the row key', async () => {
    const user = await users().save(
      users().create({ name: 'Grace', email: email('grace'), ssn: '111-11-1111' }),
    );
    const before = (await rawRows(db, 'user')).find((r) => r.id === user.id);
    const loaded = await users().findOneByOrFail({ id: user.id });
    loaded.ssn = '222-22-2222';
    await users().save(loaded);
    expect(loaded.ssn).toBe('222-22-2222');
    const after = (await rawRows(db, 'user')).find((r) => r.id === user.id);
    expect(after?.email).toBe(before?.email);
    expect(after?.ssn).not.toBe(before?.ssn);
    expect(after?.dataKey).toBe(before?.dataKey);
    expect(await users().findOneByOrFail({ id: user.id })).toMatchObject({
      email: user.email,
      ssn: '222-22-2222',
    });
  });

  it('save() with cascades encrypts related entities, each under its own row key', async () => {
    const user = users().create({
      email: email('cascade'),
      ssn: null,
      posts: [
        Object.assign(new Post(), { title: 'one', body: 'secret body one' }),
        Object.assign(new Post(), { title: 'two', body: 'secret body two' }),
      ],
      profile: Object.assign(new Profile(), {
        age: 36,
        verified: true,
        birthday: new Date('1815-12-10T00:00:00.000Z'),
        prefs: { theme: 'dark', tags: ['a'] },
        avatar: Buffer.from([1, 2, 3]),
      }),
    });
    await users().save(user);
    expect(user.posts.map((p) => p.body)).toEqual(['secret body one', 'secret body two']);
    expect(await plaintextAtRest(db, 'post', ['secret body one', 'secret body two'])).toEqual([]);
    const posts = await rawRows(db, 'post');
    expect(posts.every((p) => isEncryptedValue(p.body) && String(p.dataKey).startsWith('fsk2:'))).toBe(true);
    const loaded = await users().findOneOrFail({ where: { id: user.id }, relations: { posts: true } });
    expect(loaded.posts.map((p) => p.body).sort()).toEqual(['secret body one', 'secret body two']);
    expect(loaded.profile).toMatchObject({ age: 36, verified: true, prefs: { theme: 'dark', tags: ['a'] } });
    expect(loaded.profile?.birthday?.toISOString()).toBe('1815-12-10T00:00:00.000Z');
    expect(Buffer.compare(loaded.profile?.avatar as Buffer, Buffer.from([1, 2, 3]))).toBe(0);
  });

  it('repository.insert() encrypts single and bulk inserts and hands the objects back in plaintext', async () => {
    const one = { email: email('insert'), ssn: '333-33-3333' };
    const many = [{ email: email('bulk') }, { email: email('bulk'), ssn: '444-44-4444' }];
    await users().insert(one);
    await users().insert(many);
    expect(one.email).toMatch(/^insert-/);
    expect(many[1]?.ssn).toBe('444-44-4444');
    expect(
      await plaintextAtRest(db, 'user', [
        one.email,
        '333-33-3333',
        ...many.map((m) => m.email),
        '444-44-4444',
      ]),
    ).toEqual([]);
    const found = await users().findBy({ email: one.email });
    expect(found.map((u) => u.ssn)).toEqual(['333-33-3333']);
  });

  it('update(criteria, partial) encrypts per row, by id and by blind-indexed email', async () => {
    const a = await users().save(users().create({ email: email('upd'), ssn: '555-55-5555' }));
    const result = await users().update(a.id, { ssn: '666-66-6666', name: 'renamed' });
    expect(result.affected).toBe(1);
    const newEmail = email('upd-new');
    await users().update({ email: a.email }, { email: newEmail });
    const loaded = await users().findOneByOrFail({ email: newEmail });
    expect(loaded).toMatchObject({ id: a.id, name: 'renamed', ssn: '666-66-6666', dataKey: a.dataKey });
    expect(await users().findOneBy({ email: a.email })).toBeNull();
    expect(await plaintextAtRest(db, 'user', ['666-66-6666', newEmail])).toEqual([]);
  });

  it('update() of many rows keeps every row readable under its own data key', async () => {
    const name = `bulk-${seq}`;
    const rows = await users().save(
      Array.from({ length: 12 }, (_, i) =>
        users().create({ name, email: email(`many${i}`), ssn: `ssn-${i}` }),
      ),
    );
    const result = await users().update({ name }, { ssn: 'same-for-all' });
    expect(result.affected).toBe(12);
    const loaded = await users().findBy({ name });
    expect(loaded).toHaveLength(12);
    expect(loaded.every((u) => u.ssn === 'same-for-all')).toBe(true);
    expect(loaded.map((u) => u.email).sort()).toEqual(rows.map((u) => u.email).sort());
    expect(await plaintextAtRest(db, 'user', ['same-for-all'])).toEqual([]);
  });

  it('upsert() inserts, then updates the existing row under its own key', async () => {
    const address = email('upsert');
    await users().upsert({ email: address, ssn: '777-77-7777', name: 'first' }, ['email']);
    const first = await users().findOneByOrFail({ email: address });
    await users().upsert({ email: address, name: 'second' }, ['email']);
    const second = await users().findOneByOrFail({ email: address });
    expect(second).toMatchObject({
      id: first.id,
      name: 'second',
      ssn: '777-77-7777',
      dataKey: first.dataKey,
    });
    await users().upsert(
      [
        { email: address, ssn: '888-88-8888' },
        { email: email('upsert-new'), ssn: null },
      ],
      { conflictPaths: ['email'] },
    );
    expect((await users().findOneByOrFail({ email: address })).ssn).toBe('888-88-8888');
    expect(await plaintextAtRest(db, 'user', [address, '777-77-7777', '888-88-8888'])).toEqual([]);
  });

  it('remove() and delete() by blind-indexed criteria', async () => {
    const a = await users().save(users().create({ email: email('del') }));
    const b = await users().save(users().create({ email: email('del') }));
    await users().delete({ email: a.email });
    expect(await users().findOneBy({ id: a.id })).toBeNull();
    await users().remove(b);
    expect(await users().findOneBy({ email: b.email })).toBeNull();
  });

  it('softDelete(), restore() and softRemove() by blind-indexed criteria', async () => {
    const a = await users().save(users().create({ email: email('soft'), ssn: 'soft-ssn' }));
    await users().softDelete({ email: a.email });
    expect(await users().findOneBy({ email: a.email })).toBeNull();
    expect((await users().findOne({ where: { email: a.email }, withDeleted: true }))?.ssn).toBe('soft-ssn');
    await users().restore({ email: a.email });
    const restored = await users().findOneByOrFail({ email: a.email });
    await users().softRemove(restored);
    expect(await users().existsBy({ email: a.email })).toBe(false);
    await users().recover(restored);
    expect((await users().findOneByOrFail({ email: a.email })).ssn).toBe('soft-ssn');
  });

  it('find, findOne, findBy, findAndCount, In() and relations all read plaintext', async () => {
    const name = `finders-${seq}`;
    const saved = await users().save([
      users().create({ name, email: email('f') }),
      users().create({ name, email: email('f') }),
    ]);
    const emails = saved.map((u) => u.email);
    expect((await users().find({ where: { name }, order: { id: 'ASC' } })).map((u) => u.email)).toEqual(
      emails,
    );
    expect((await users().findOne({ where: { email: emails[1] as string } }))?.id).toBe(saved[1]?.id);
    expect((await users().findBy({ email: emails[0]?.toUpperCase() as string })).map((u) => u.id)).toEqual([
      saved[0]?.id,
    ]);
    const [found, count] = await users().findAndCount({ where: { email: In(emails) } });
    expect(count).toBe(2);
    expect(found.map((u) => u.email).sort()).toEqual([...emails].sort());
    expect(await users().countBy({ email: emails[0] as string })).toBe(1);
    expect(await users().existsBy({ email: `absent-${seq}@example.com` })).toBe(false);
  });

  it('QueryBuilder getMany/getOne with joins decrypt; getRawMany returns what is stored', async () => {
    const user = await users().save(
      users().create({
        email: email('qb'),
        posts: [Object.assign(new Post(), { title: 't', body: 'qb body' })],
      }),
    );
    const one = await users()
      .createQueryBuilder('u')
      .leftJoinAndSelect('u.posts', 'p')
      .where('u.id = :id', { id: user.id })
      .getOne();
    expect(one?.email).toBe(user.email);
    expect(one?.posts[0]?.body).toBe('qb body');
    const many = await db.dataSource
      .getRepository(Post)
      .createQueryBuilder('p')
      .innerJoinAndSelect('p.author', 'a')
      .where('a.id = :id', { id: user.id })
      .getMany();
    expect(many.map((p) => [p.body, p.author.email])).toEqual([['qb body', user.email]]);
    const raw = await users().createQueryBuilder('u').where('u.id = :id', { id: user.id }).getRawMany();
    expect(isEncryptedValue(raw[0]?.u_email)).toBe(true);
    const filtered = await users()
      .createQueryBuilder('u')
      .where('u.emailIndex = :h', { h: db.fe.indexValue(User, 'email', user.email) })
      .getOne();
    expect(filtered?.id).toBe(user.id);
  });

  it('a partial select still decrypts: the data key is added or fetched', async () => {
    const user = await users().save(users().create({ email: email('sel'), ssn: '999-99-9999' }));
    const viaFind = await users().findOneOrFail({ where: { id: user.id }, select: { email: true } });
    expect(viaFind.email).toBe(user.email);
    const viaQb = await users()
      .createQueryBuilder('u')
      .select(['u.id', 'u.ssn'])
      .where('u.id = :id', { id: user.id })
      .getOneOrFail();
    expect(viaQb.ssn).toBe('999-99-9999');
  });

  it('transactions: dataSource.transaction and a QueryRunner both encrypt, decrypt and roll back', async () => {
    const address = email('tx');
    await db.dataSource.transaction(async (manager) => {
      const user = await manager.save(manager.create(User, { email: address, ssn: 'tx-ssn-1' }));
      await manager.update(User, { email: address }, { ssn: 'tx-ssn-2' });
      expect((await manager.findOneByOrFail(User, { id: user.id })).ssn).toBe('tx-ssn-2');
    });
    expect((await users().findOneByOrFail({ email: address })).ssn).toBe('tx-ssn-2');

    const runner = db.dataSource.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    const rolledBack = email('rollback');
    await runner.manager.save(runner.manager.create(User, { email: rolledBack }));
    expect(await runner.manager.existsBy(User, { email: rolledBack })).toBe(true);
    await runner.rollbackTransaction();
    await runner.release();
    expect(await users().existsBy({ email: rolledBack })).toBe(false);
  });

  it('leaves entities without encrypted columns alone', async () => {
    const tags = db.dataSource.getRepository(Tag);
    await tags.save({ label: 'plain label' });
    expect((await tags.findOneByOrFail({ label: 'plain label' })).label).toBe('plain label');
    const [row] = await rawRows(db, 'tag');
    expect(row?.label).toBe('plain label');
  });
});

import { In } from 'typeorm';
