import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, openDatabase, type TestDatabase } from './helpers/databases.js';
import { type EncryptedClient, extendedClient } from './helpers/fixture.js';
import { expectRowInvariant } from './helpers/invariant.js';

describe.each(DIALECTS)('writes on %s', (dialect) => {
  let db: TestDatabase;
  let prisma: EncryptedClient;
  beforeAll(async () => {
    db = await openDatabase(dialect);
    prisma = extendedClient(db);
  });
  afterAll(async () => db?.drop());
  beforeEach(async () => {
    await db.execute(`DELETE FROM ${db.t('Comment')}`);
    await db.execute(`DELETE FROM ${db.t('Post')}`);
    await db.execute(`DELETE FROM ${db.t('Profile')}`);
    await db.execute(`DELETE FROM ${db.t('User')}`);
  });

  it('createMany gives every row its own data key and blind index', async () => {
    const result = await prisma.user.createMany({
      data: [{ email: 'a@x.io' }, { email: 'b@x.io', ssn: '1' }],
    });
    expect(result.count).toBe(2);
    const rows = await expectRowInvariant(db, 'User');
    expect(rows.map((row) => row.email)).toEqual(['a@x.io', 'b@x.io']);
    expect(new Set(rows.map((row) => row.dataKey)).size).toBe(2);
    expect(rows.every((row) => typeof row.emailIndex === 'string')).toBe(true);
  });

  // Prisma offers the *AndReturn operations on PostgreSQL and SQLite only (MySQL has no RETURNING).
  if (dialect !== 'mysql') {
    it('createManyAndReturn returns plaintext', async () => {
      const rows = await prisma.user.createManyAndReturn({
        data: [{ email: 'a@x.io', ssn: 's1' }],
        select: { email: true, ssn: true },
      });
      expect(rows).toEqual([{ email: 'a@x.io', ssn: 's1' }]);
    });

    it('updateManyAndReturn returns plaintext for every group', async () => {
      await prisma.user.createMany({
        data: [
          { email: 'a@x.io', name: 'n' },
          { email: 'b@x.io', name: 'n' },
        ],
      });
      const rows = await prisma.user.updateManyAndReturn({
        where: { name: 'n' },
        data: { ssn: 'z' },
        select: { email: true, ssn: true },
      });
      expect(rows.map((row) => row.email).sort()).toEqual(['a@x.io', 'b@x.io']);
      expect(rows.every((row) => row.ssn === 'z')).toBe(true);
    });
  }

  it('updateMany over rows holding different data keys writes each group under its own key', async () => {
    await prisma.user.createMany({
      data: [
        { email: 'a@x.io', name: 'n' },
        { email: 'b@x.io', name: 'n' },
        { email: 'c@x.io', name: 'other' },
      ],
    });
    const result = await prisma.user.updateMany({ where: { name: 'n' }, data: { ssn: 'shared-ssn' } });
    expect(result.count).toBe(2);
    const rows = await expectRowInvariant(db, 'User');
    expect(rows.map((row) => row.ssn)).toEqual(['shared-ssn', 'shared-ssn', null]);
  });

  it('updateMany setting an encrypted field also updates its blind index', async () => {
    await prisma.user.create({ data: { email: 'old@x.io', name: 'n' } });
    await prisma.user.updateMany({ where: { name: 'n' }, data: { email: 'new@x.io' } });
    expect(await prisma.user.findFirst({ where: { email: 'old@x.io' } })).toBeNull();
    expect((await prisma.user.findFirstOrThrow({ where: { email: 'new@x.io' } })).name).toBe('n');
    await expectRowInvariant(db, 'User');
  });

  it('updateMany honours limit', async () => {
    await prisma.user.createMany({
      data: [
        { email: 'a@x.io', name: 'n' },
        { email: 'b@x.io', name: 'n' },
        { email: 'c@x.io', name: 'n' },
      ],
    });
    expect((await prisma.user.updateMany({ where: { name: 'n' }, data: { ssn: 'z' }, limit: 2 })).count).toBe(
      2,
    );
    const rows = await expectRowInvariant(db, 'User');
    expect(rows.filter((row) => row.ssn === 'z')).toHaveLength(2);
  });

  it('update to null clears the value and its blind index', async () => {
    const user = await prisma.user.create({ data: { email: 'a@x.io', ssn: 's' } });
    const updated = await prisma.user.update({ where: { id: user.id }, data: { ssn: { set: null } } });
    expect(updated.ssn).toBeNull();
    await expectRowInvariant(db, 'User');
  });

  it('upsert creates, then updates under the row key', async () => {
    const created = await prisma.user.upsert({
      where: { id: 1_000_000 },
      create: { email: 'u@x.io', ssn: 'c' },
      update: { ssn: 'u' },
    });
    expect(created.ssn).toBe('c');
    const updated = await prisma.user.upsert({
      where: { id: created.id },
      create: { email: 'u@x.io', ssn: 'c' },
      update: { ssn: 'u' },
    });
    expect(updated).toMatchObject({ id: created.id, email: 'u@x.io', ssn: 'u' });
    const [row] = await expectRowInvariant(db, 'User');
    expect(row?.ssn).toBe('u');
  });

  it('upsert by email (through the blind index) finds the existing row', async () => {
    await prisma.user.create({ data: { email: 'u@x.io', ssn: 'one' } });
    const where = { email: 'u@x.io' } as unknown as { id: number };
    const updated = await prisma.user.upsert({ where, create: { email: 'u@x.io' }, update: { ssn: 'two' } });
    expect(updated.ssn).toBe('two');
    expect(await prisma.user.count()).toBe(1);
  });

  it('delete and deleteMany return decrypted rows and counts', async () => {
    const user = await prisma.user.create({ data: { email: 'd@x.io', ssn: 'gone' } });
    await prisma.user.create({ data: { email: 'e@x.io' } });
    expect(await prisma.user.delete({ where: { id: user.id } })).toMatchObject({
      email: 'd@x.io',
      ssn: 'gone',
    });
    expect((await prisma.user.deleteMany({ where: { email: 'e@x.io' } })).count).toBe(1);
    expect(await prisma.user.count()).toBe(0);
  });

  it('writes to unencrypted models pass through unchanged', async () => {
    const audit = await prisma.audit.create({ data: { action: 'login' } });
    expect(audit.action).toBe('login');
    expect((await db.rows('Audit'))[0]?.action).toBe('login');
  });
});
