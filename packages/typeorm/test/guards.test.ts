import { isEncryptedValue } from '@fieldseal/core';
import { Equal, ILike, In, IsNull, Like, MoreThan, Not } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnsupportedOperationError } from '../src/index.js';
import { DIALECTS } from './support/databases.js';
import { Post, User } from './support/entities.js';
import { type EncryptedDatabase, encryptedDatabase, plaintextAtRest, rawRows } from './support/setup.js';
import { rowsBreakingInvariant } from './support/verify.js';

/** Runs `action`, expects an UnsupportedOperationError with `code`, and returns it. */
async function refused(action: () => Promise<unknown>, code: string): Promise<UnsupportedOperationError> {
  const error = await action().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UnsupportedOperationError);
  expect((error as UnsupportedOperationError).code).toBe(code);
  return error as UnsupportedOperationError;
}

describe.each(DIALECTS)('blind-index lookups and refused operations on %s', (dialect) => {
  let db: EncryptedDatabase;
  let ada: User;
  beforeAll(async () => {
    db = await encryptedDatabase(dialect);
    ada = await db.dataSource
      .getRepository(User)
      .save({ email: 'Ada@Example.com', ssn: '078-05-1120', name: 'ada' } as User);
  });
  afterAll(async () => {
    await db?.drop();
  });
  const users = () => db.dataSource.getRepository(User);

  it('equality lookups go through the normalized blind index: value, Equal(), In(), nested relation', async () => {
    expect((await users().findOneBy({ email: ' ada@example.COM ' }))?.id).toBe(ada.id);
    expect((await users().findOneBy({ email: Equal('ada@example.com') }))?.id).toBe(ada.id);
    expect(
      (await users().findBy({ email: In(['nobody@example.com', 'ADA@example.com']) })).map((u) => u.id),
    ).toEqual([ada.id]);
    await db.dataSource.getRepository(Post).save({ title: 'p', body: 'post body', author: ada } as Post);
    const posts = await db.dataSource
      .getRepository(Post)
      .find({ where: { author: { email: 'ada@example.com' } }, relations: { author: true } });
    expect(posts.map((p) => p.author.email)).toEqual(['Ada@Example.com']);
  });

  it('IsNull() and Not(IsNull()) on an encrypted property stay as they are', async () => {
    await users().save({ email: 'null-ssn@example.com', ssn: null } as User);
    expect((await users().findBy({ ssn: IsNull() })).map((u) => u.email)).toContain('null-ssn@example.com');
    expect((await users().findBy({ ssn: Not(IsNull()) })).map((u) => u.email)).toContain('Ada@Example.com');
  });

  it('Like, ILike, MoreThan and Not(value) on an encrypted property are refused before any query', async () => {
    for (const condition of [Like('%ada%'), ILike('%ada%'), MoreThan('a'), Not('x')]) {
      const error = await refused(() => users().findBy({ email: condition }), 'unsupported-filter');
      expect(error.message).toContain('entity User, property email');
    }
  });

  it('a condition on an encrypted property without a blind index is refused', async () => {
    const error = await refused(() => users().findOneBy({ ssn: '078-05-1120' }), 'unsupported-filter');
    expect(error.message).not.toContain('078-05-1120');
    expect(error.location).toMatchObject({ table: 'user', column: 'ssn' });
  });

  it('ordering by an encrypted property is refused', async () => {
    await refused(() => users().find({ order: { email: 'ASC' } }), 'unsupported-ordering');
  });

  it('writing a blind-index or data-key column directly is refused by update(); inserts and saves write their own', async () => {
    await refused(() => users().update(ada.id, { emailIndex: 'f'.repeat(32) }), 'forbidden-write');
    await refused(() => users().update(ada.id, { dataKey: null }), 'forbidden-write');
    await refused(
      () =>
        users()
          .createQueryBuilder()
          .update()
          .set({ emailIndex: 'x' })
          .where('id = :id', { id: ada.id })
          .execute(),
      'forbidden-write',
    );
    // A new row's managed columns are fieldseal's: what the object carried is replaced.
    await users().insert({ email: 'x@example.com', emailIndex: 'f'.repeat(32) });
    expect(await users().findOneBy({ email: 'x@example.com' })).not.toBeNull();
    expect((await rawRows(db, 'user')).some((r) => r.emailIndex === 'f'.repeat(32))).toBe(false);
    // save() of a loaded entity never writes a managed column it carries: the row keeps its own.
    const loaded = await users().findOneByOrFail({ id: ada.id });
    loaded.emailIndex = 'f'.repeat(32);
    loaded.dataKey = null;
    await users().save(loaded);
    const row = (await rawRows(db, 'user')).find((r) => r.id === ada.id);
    expect(row?.emailIndex).toBe(ada.emailIndex);
    expect(row?.dataKey).toBe(ada.dataKey);
  });

  it('a QueryBuilder update().set() of an encrypted value is encrypted per row under each row key', async () => {
    const other = await users().save({ email: 'qb-set@example.com', ssn: 'before' } as User);
    const result = await users()
      .createQueryBuilder()
      .update()
      .set({ ssn: 'plaintext-ssn' })
      .where('id = :id', { id: other.id })
      .execute();
    expect(result.affected).toBe(1);
    expect(await plaintextAtRest(db, 'user', ['plaintext-ssn'])).toEqual([]);
    expect((await users().findOneByOrFail({ id: other.id })).ssn).toBe('plaintext-ssn');
    expect(await rowsBreakingInvariant(db, db.keyring, 'user', ['email', 'ssn'])).toEqual([]);
  });

  it('a QueryBuilder update().set() of null clears the value and its blind index', async () => {
    const other = await users().save({ email: 'cleared@example.com', ssn: 'to-clear' } as User);
    await users()
      .createQueryBuilder()
      .update()
      .set({ email: null as unknown as string })
      .where('id = :id', { id: other.id })
      .execute()
      .catch(() => undefined);
    await users()
      .createQueryBuilder()
      .update()
      .set({ ssn: null })
      .where('id = :id', { id: other.id })
      .execute();
    expect((await users().findOneByOrFail({ id: other.id })).ssn).toBeNull();
  });

  it('raw SQL values, increment() and aggregates of encrypted columns are refused', async () => {
    await refused(() => users().update(ada.id, { ssn: () => "'raw'" }), 'unsupported-update');
    await refused(() => users().increment({ id: ada.id }, 'ssn', 1), 'unsupported-update');
    await refused(() => users().sum('ssn' as never), 'unsupported-aggregate');
  });

  it('a QueryBuilder INSERT … orUpdate() on an encrypted table is refused; repository.upsert() is the way', async () => {
    await refused(
      () =>
        users()
          .createQueryBuilder()
          .insert()
          .values({ email: 'Ada@Example.com', ssn: 'other' })
          .orUpdate(['ssn'], ['emailIndex'])
          .execute(),
      'unsupported-operation',
    );
    expect((await users().findOneByOrFail({ id: ada.id })).ssn).toBe('078-05-1120');
  });

  it('a QueryBuilder insert encrypts like repository.insert()', async () => {
    await users()
      .createQueryBuilder()
      .insert()
      .values({ email: 'qb-insert@example.com', ssn: 'qb-ssn' })
      .execute();
    const row = (await rawRows(db, 'user')).find(
      (r) =>
        isEncryptedValue(r.ssn) && r.emailIndex === db.fe.indexValue(User, 'email', 'qb-insert@example.com'),
    );
    expect(row).toBeDefined();
    expect((await users().findOneByOrFail({ email: 'qb-insert@example.com' })).ssn).toBe('qb-ssn');
  });
});
