import 'reflect-metadata';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  guardInstallSql,
  guardPlaces,
  guardViolationOf,
  isGuardViolationError,
  runSqliteRebuild,
  type SqlExecutor,
  sqliteRebuild,
  sqliteSchemaOf,
  tableGuards,
} from '@fieldseal/core';
import { Column, DataSource, type DataSourceOptions, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BlindIndex,
  DataKeyColumn,
  Encrypted,
  fieldEncryption,
  sqlExecutor,
  storedTables,
} from '../src/index.js';
import { DIALECTS } from './support/databases.js';
import { type Post, type Profile, User } from './support/entities.js';
import { type EncryptedDatabase, encryptedDatabase, plaintextAtRest, rawRows } from './support/setup.js';

/** The `user` table as an app release that predates `@Encrypted` on `ssn` maps it. */
@Entity('user')
class StaleUser {
  @PrimaryGeneratedColumn() id!: number;
  @Encrypted() @Column({ type: 'text' }) email!: string;
  @BlindIndex('email', { normalize: ['trim', 'lowercase'] })
  @Column({ type: 'varchar', length: 64, nullable: true })
  emailIndex!: string | null;
  @Column({ type: 'text', nullable: true }) ssn!: string | null;
  @DataKeyColumn() dataKey!: string | null;
}

/** Installs every guard of the data source's encrypted tables with core's SQL (what `fieldseal guard install` runs). */
async function installAll(executor: SqlExecutor, dataSource: DataSource): Promise<number> {
  let installed = 0;
  for (const table of storedTables(dataSource)) {
    const tg = tableGuards(table, executor.dialect);
    if (tg.dialect === 'sqlite') {
      await runSqliteRebuild(
        executor,
        sqliteRebuild(tg, await sqliteSchemaOf(executor, tg), { add: tg.guards }),
      );
    } else {
      const sql = guardInstallSql(tg);
      for (const statement of [...sql.add, ...sql.validate]) await executor.execute(statement);
    }
    installed += tg.guards.length;
  }
  return installed;
}

describe.each(DIALECTS)('TypeORM with database guards on %s', (dialect) => {
  const file = join(tmpdir(), `fs_typeorm_guards_${process.pid}_${dialect}.db`);
  let db: EncryptedDatabase;
  const users = () => db.dataSource.getRepository(User);
  beforeAll(async () => {
    // SQLite in a file, so a second data source (the stale app release) sees the same tables.
    db = await encryptedDatabase(dialect, dialect === 'sqlite' ? { extra: { database: file } } : {});
    expect(await installAll(sqlExecutor(db.dataSource), db.dataSource)).toBeGreaterThan(0);
  });
  afterAll(async () => {
    await db?.drop();
    for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${file}${suffix}`, { force: true });
  });

  it('save with cascades, find with relations, blind-index lookup, change, softDelete and delete all work', async () => {
    const user = users().create({
      name: 'Ada',
      email: 'ada@example.com',
      ssn: '078-05-1120',
      posts: [{ title: 'one', body: 'secret body' } as Post],
      profile: {
        age: 36,
        verified: true,
        birthday: new Date('1815-12-10'),
        prefs: { theme: 'dark', tags: [] },
        avatar: Buffer.from([1, 2]),
      } as unknown as Profile,
    });
    await users().save(user);
    const found = await users().findOne({
      where: { email: ' ADA@example.com ' },
      relations: { posts: true },
    });
    expect(found).toMatchObject({
      id: user.id,
      ssn: '078-05-1120',
      posts: [{ body: 'secret body' }],
      profile: { age: 36 },
    });
    found!.ssn = '111-22-3333';
    found!.posts.push({ title: 'two', body: 'second body' } as Post);
    await users().save(found!);
    expect(
      (await users().findOneOrFail({ where: { id: user.id }, relations: { posts: true } })).posts,
    ).toHaveLength(2);
    expect(await plaintextAtRest(db, 'user', ['078-05-1120', '111-22-3333', 'ada@example.com'])).toEqual([]);
    await users().softDelete(user.id);
    await users().restore(user.id);
    await users().delete(user.id);
    expect(await users().findOneBy({ id: user.id })).toBeNull();
  });

  it('repository.insert, update(criteria, partial), upsert and QueryBuilder insert work', async () => {
    await users().insert({ name: 'Bob', email: 'bob@example.com', ssn: '222-33-4444' });
    await users().update({ email: 'bob@example.com' }, { ssn: '999-88-7777' });
    const bob = await users().findOneByOrFail({ email: 'bob@example.com' });
    expect(bob.ssn).toBe('999-88-7777');
    await users().upsert([{ id: bob.id, name: 'Bob', email: 'bob2@example.com', ssn: null }], ['id']);
    expect(await users().findOneBy({ email: 'bob2@example.com' })).toMatchObject({ id: bob.id, ssn: null });
    await db.dataSource
      .createQueryBuilder()
      .insert()
      .into(User)
      .values({ name: 'Cy', email: 'cy@example.com', ssn: '1' })
      .execute();
    expect(await users().findOneBy({ email: 'cy@example.com' })).toMatchObject({ ssn: '1' });
    await db.dataSource.transaction(async (manager) => {
      await manager.save(manager.create(User, { name: 'Tx', email: 'tx@example.com', ssn: 'in-tx' }));
    });
    expect(await users().findOneBy({ email: 'tx@example.com' })).toMatchObject({ ssn: 'in-tx' });
  });

  it('bulk insert, QueryBuilder update(), updateAll, softRemove, recover and remove work', async () => {
    await users().insert([
      { name: 'bulk', email: 'd1@example.com', ssn: 'ssn-d1' },
      { name: 'bulk', email: 'd2@example.com', ssn: null },
    ]);
    const d1 = await users().findOneByOrFail({ email: 'd1@example.com' });
    await db.dataSource
      .createQueryBuilder()
      .update(User)
      .set({ ssn: 'ssn-built' })
      .where('id = :id', { id: d1.id })
      .execute();
    expect(await users().findOneByOrFail({ id: d1.id })).toMatchObject({ ssn: 'ssn-built' });
    await users().updateAll({ name: 'everyone' });
    const d2 = await users().findOneByOrFail({ email: 'd2@example.com' });
    expect(d2).toMatchObject({ name: 'everyone', ssn: null });
    d2.ssn = 'ssn-d2';
    await users().save(d2);
    await users().softRemove(d2);
    await users().recover(d2);
    expect(await users().findOneByOrFail({ id: d2.id })).toMatchObject({ ssn: 'ssn-d2' });
    const removedId = d2.id; // remove() clears the entity's id
    await users().remove(d2);
    expect(await users().findOneBy({ id: removedId })).toBeNull();
    expect(await plaintextAtRest(db, 'user', ['ssn-d1', 'ssn-built', 'ssn-d2', 'd1@example.com'])).toEqual(
      [],
    );
  });

  it('raw SQL writing plaintext is refused, and the error names table and column', async () => {
    const [row] = await rawRows(db, 'user');
    const error = await db.dataSource
      .query(`UPDATE ${db.t('user')} SET ${db.q('ssn')} = 'plain' WHERE ${db.q('id')} = ${Number(row?.id)}`)
      .catch((e: unknown) => e);
    expect(guardViolationOf(error, guardPlaces(storedTables(db.dataSource)))).toMatchObject({
      table: 'user',
      column: 'ssn',
    });
  });

  it("a write the app's (older) entity leaves in plaintext is refused with a GuardViolationError naming table and column", async () => {
    const stale = new DataSource({
      ...(db.dataSource.options as DataSourceOptions),
      entities: [StaleUser],
      synchronize: false,
    });
    await fieldEncryption(stale, { keyring: db.keyring, blindIndexKey: db.blindIndexKey });
    try {
      const before = (await rawRows(db, 'user')).length;
      const error = await stale
        .getRepository(StaleUser)
        .save({ email: 'old@example.com', ssn: '555-66-7777' })
        .catch((e: unknown) => e);
      expect(isGuardViolationError(error)).toBe(true);
      expect(error).toMatchObject({
        code: 'guard-violation',
        table: 'user',
        column: 'ssn',
        constraint: 'fieldseal_guard_user_ssn',
      });
      expect((error as Error).message).not.toContain('555-66-7777');
      // Nowhere in the error, however deep (PostgreSQL's driver error names the failing row's values).
      const seen = new Set<unknown>();
      const deep = (v: unknown): string => {
        if (typeof v === 'string') return v;
        if (v === null || typeof v !== 'object' || seen.has(v)) return '';
        seen.add(v);
        return Object.getOwnPropertyNames(v)
          .map((k) => deep((v as Record<string, unknown>)[k]))
          .join('\n');
      };
      expect(deep(error)).not.toContain('555-66-7777');
      expect((await rawRows(db, 'user')).length).toBe(before);
    } finally {
      await stale.destroy();
    }
  });
});
