import { isDecryptionError, isUnsupportedOperationError } from '@fieldseal/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ADVERSARIAL_ENTITIES, Member, Noted, seen } from './support/adversarial-entities.js';
import { brokenAtRest, SqlCapture } from './support/at-rest.js';
import { DIALECTS } from './support/databases.js';
import { ENTITIES, Post, User } from './support/entities.js';
import { type EncryptedDatabase, encryptedDatabase } from './support/setup.js';

// Issue 12, "also found" and the paths nobody designed for. Same checks after each test as
// write-paths.test.ts: nothing plaintext at rest or on the wire, every value under its row key.
describe.each(DIALECTS)('also-found paths on %s', (dialect) => {
  let db: EncryptedDatabase;
  let capture: SqlCapture;
  let plaintexts: string[] = [];
  const secret = (label: string) => {
    const text = `secret-${label}-${dialect}`;
    plaintexts.push(text);
    return text;
  };
  beforeAll(async () => {
    db = await encryptedDatabase(dialect, { entities: [...ENTITIES, ...ADVERSARIAL_ENTITIES] });
    capture = new SqlCapture();
    db.dataSource.logger = capture;
  });
  afterAll(async () => {
    await db?.drop();
  });
  afterEach(async () => {
    expect(await brokenAtRest(db, db.keyring, plaintexts)).toEqual([]);
    expect(capture.leaking(plaintexts)).toEqual([]);
    plaintexts = [];
    capture.sent.length = 0;
  });
  const repo = <T extends object>(target: new () => T) => db.dataSource.getRepository(target);

  it('a failed cascaded save leaves the caller holding plaintext, and the retry succeeds', async () => {
    const user = repo(User).create({ email: secret('cascade'), ssn: secret('cascade-ssn') });
    user.posts = [repo(Post).create({ title: null as unknown as string, body: secret('cascade-body') })];
    await expect(repo(User).save(user)).rejects.toThrow();
    expect(user.email).toBe(`secret-cascade-${dialect}`);
    expect(user.posts[0]?.body).toBe(`secret-cascade-body-${dialect}`);
    (user.posts[0] as Post).title = 'fixed';
    await repo(User).save(user);
    const loaded = await repo(User).findOneOrFail({ where: { id: user.id }, relations: { posts: true } });
    expect(loaded.posts.map((p) => p.body)).toEqual([`secret-cascade-body-${dialect}`]);
  });

  it('retry after a rolled-back transaction, re-save after remove(), and saving a copy work as in plain TypeORM', async () => {
    const user = repo(User).create({ email: secret('rollback') });
    await expect(
      db.dataSource.transaction(async (manager) => {
        await manager.save(user);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    await repo(User).save(user);
    expect((await repo(User).findOneByOrFail({ email: user.email })).email).toBe(user.email);
    const removed = await repo(User).remove(await repo(User).findOneByOrFail({ email: user.email }));
    await repo(User).save(removed);
    const loaded = await repo(User).findOneByOrFail({ email: user.email });
    const { id: _id, ...withoutId } = loaded;
    const copy = repo(User).create({ ...withoutId, email: secret('copy') });
    await repo(User).save(copy);
    expect((await repo(User).findOneByOrFail({ email: copy.email })).id).not.toBe(loaded.id);
  });

  it('@AfterInsert, @AfterUpdate and @AfterLoad entity listeners see plaintext', async () => {
    for (const list of Object.values(seen)) list.length = 0;
    const noted = await repo(Noted).save(repo(Noted).create({ label: 'l', secret: secret('listen') }));
    noted.secret = secret('listen2');
    await repo(Noted).save(noted);
    await repo(Noted).findOneByOrFail({ id: noted.id });
    plaintexts.push('inserted-l', 'updated-l');
    expect(seen.afterInsert).toEqual([`secret-listen-${dialect}`]);
    expect(seen.afterUpdate).toEqual([`secret-listen2-${dialect}`]);
    expect(seen.afterLoad?.at(-1)).toBe(`secret-listen2-${dialect}`);
  });

  it('QueryBuilder: orderBy an encrypted column is refused; where({ email }) goes through the blind index', async () => {
    const user = await repo(User).save(repo(User).create({ name: 'qb', email: secret('qb') }));
    const error = await repo(User)
      .createQueryBuilder('u')
      .orderBy('u.email')
      .getMany()
      .catch((e: unknown) => e);
    expect(isUnsupportedOperationError(error) && error.code).toBe('unsupported-ordering');
    const found = await repo(User).createQueryBuilder('u').where({ email: user.email }).getMany();
    expect(found.map((u) => u.id)).toEqual([user.id]);
    const unlistened = await repo(User)
      .createQueryBuilder('u')
      .where({ id: user.id })
      .callListeners(false)
      .getOne();
    expect(unlistened?.email).toBe(user.email);
  });

  it('upsert() conflicting on the blind index updates the encrypted value', async () => {
    await repo(Member).upsert({ email: secret('Upsert'), score: 1 }, ['emailIndex']);
    await repo(Member).upsert({ email: secret('Upsert'), score: 2 }, ['email']);
    const rows = await repo(Member).findBy({ email: `secret-Upsert-${dialect}` });
    expect(rows.map((r) => r.score)).toEqual([2]);
  });

  it('a QueryRunner transaction writes encrypted and its rollback leaves nothing', async () => {
    const runner = db.dataSource.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    const user = await runner.manager.save(runner.manager.create(User, { email: secret('qr') }));
    await runner.manager.update(User, user.id, { ssn: secret('qr-ssn') });
    await runner.commitTransaction();
    await runner.startTransaction();
    await runner.manager.save(runner.manager.create(User, { email: secret('qr-rolled') }));
    await runner.rollbackTransaction();
    await runner.release();
    expect((await repo(User).findOneByOrFail({ id: user.id })).ssn).toBe(`secret-qr-ssn-${dialect}`);
    expect(await repo(User).findOneBy({ email: `secret-qr-rolled-${dialect}` })).toBeNull();
  });

  it('a bulk update of N rows is one key read, then N guarded statements in one transaction', async () => {
    const users = await repo(User).save(
      [1, 2, 3].map((i) => repo(User).create({ name: 'bulk', email: secret(`bulk${i}`) })),
    );
    capture.sent.length = 0;
    const result = await repo(User).update({ name: 'bulk' }, { ssn: secret('bulk-ssn') });
    expect(result.affected).toBe(users.length);
    const statements = capture.sent.map((s) => s.split(' ')[0]?.toUpperCase());
    expect(statements[0]).toBe('SELECT');
    expect(statements[1]).toMatch(/^(BEGIN|START)$/);
    expect(statements.filter((s) => s === 'UPDATE').length).toBe(3);
    expect(statements.at(-1)).toBe('COMMIT');
  });

  it('raw SQL (manager.query) bypasses fieldseal: the plaintext it stores fails loudly on read', async () => {
    await db.dataSource.query(
      `INSERT INTO ${db.t('member')} (${db.q('email')}) VALUES (${dialect === 'postgres' ? '$1' : '?'})`,
      ['raw-bypass@example.com'],
    );
    const error = await repo(Member)
      .find()
      .catch((e: unknown) => e);
    expect(isDecryptionError(error) && error.code).toBe('plaintext-in-strict-mode');
    await db.dataSource.query(`DELETE FROM ${db.t('member')}`);
  });

  it('a blind-index collision is dropped by the re-check after decryption', async () => {
    const [a, b] = await repo(Member).save([
      repo(Member).create({ email: secret('collide-a') }),
      repo(Member).create({ email: secret('collide-b') }),
    ]);
    // Force a collision at rest: b's index becomes a's.
    await db.dataSource.query(
      `UPDATE ${db.t('member')} SET ${db.q('emailIndex')} = (SELECT x.i FROM (SELECT ${db.q('emailIndex')} AS i FROM ${db.t('member')} WHERE ${db.q('id')} = ${a?.id}) x) WHERE ${db.q('id')} = ${b?.id}`,
    );
    expect((await repo(Member).findBy({ email: a?.email as string })).map((m) => m.id)).toEqual([a?.id]);
    expect((await repo(Member).findOneBy({ email: a?.email as string }))?.id).toBe(a?.id);
    const qb = await repo(Member).createQueryBuilder('m').where({ email: a?.email }).getMany();
    expect(qb.map((m) => m.id)).toEqual([a?.id]);
    await repo(Member).delete({ id: b?.id as number });
  });

  it('a statement built by the QueryBuilder but not executed by it (getQueryAndParameters) is refused at SQL build', async () => {
    const insert = repo(User).createQueryBuilder().insert().values({ email: 'built@example.com' });
    expect(() => insert.getQueryAndParameters()).toThrow(/fieldseal did not encrypt/);
    const update = repo(User).createQueryBuilder().update().set({ ssn: 'built-ssn' }).where('id = 1');
    expect(() => update.getQuery()).toThrow(/fieldseal did not encrypt/);
    // Plain columns build as usual.
    expect(() =>
      repo(User).createQueryBuilder().update().set({ name: 'x' }).where('id = 1').getQuery(),
    ).not.toThrow();
  });
});
