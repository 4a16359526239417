import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userByEmail } from './generated/sqlite/fieldseal/unique.js';
import { DIALECTS, openDatabase, type TestDatabase } from './helpers/databases.js';
import { type EncryptedClient, extendedClient, onlyCiphertext } from './helpers/fixture.js';
import * as app from './unique-where/app.js';

const dir = join(import.meta.dirname, 'unique-where');

describe('generated unique-where helpers: no casts for unique-key access by an encrypted field', () => {
  it('the app compiles with tsc, holds no cast, and the same lookups without the helper do not compile', () => {
    const source = readFileSync(join(dir, 'app.ts'), 'utf8');
    expect(source).not.toMatch(/\sas\s/);
    expect(source).not.toMatch(/@ts-|:\s*any\b|<any>/);
    // without-helper.ts marks each line with @ts-expect-error: tsc fails if one of them compiles.
    expect(readFileSync(join(dir, 'without-helper.ts'), 'utf8').match(/@ts-expect-error/g)).toHaveLength(2);
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    const run = () =>
      execFileSync(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], { stdio: 'pipe' }).toString();
    expect(run).not.toThrow();
  }, 120_000);
});

describe.each(DIALECTS)('the helpers at run time on %s', (dialect) => {
  let db: TestDatabase;
  let prisma: EncryptedClient;
  beforeAll(async () => {
    db = await openDatabase(dialect);
    prisma = extendedClient(db);
  });
  afterAll(async () => db?.drop());

  it('upsert, findUnique, update, connect, connectOrCreate and delete find the row by its encrypted email', async () => {
    const ana = await app.signUp(prisma, 'ana@x.io', 'Ana');
    // The second sign-up updates the same row (normalized lookup: trim, lowercase), no duplicate.
    expect((await app.signUp(prisma, '  ANA@x.io ', 'Ana B')).id).toBe(ana.id);
    await app.signUp(prisma, 'bo@x.io', 'Bo');
    expect(await prisma.user.count()).toBe(2);
    expect((await app.profileOrThrow(prisma, 'ana@x.io')).name).toBe('Ana B');
    expect(await app.profile(prisma, 'nobody@x.io')).toBeNull();
    expect((await app.setSsn(prisma, 'Ana@X.io', '123-45')).ssn).toBe('123-45');

    const post = await app.publish(prisma, 'ana@x.io', 't1', 'secret body');
    expect(post.author.id).toBe(ana.id);
    const guest = await app.guestPost(prisma, 'cy@x.io', 't2', 'b2');
    expect(guest.author).toMatchObject({ email: 'cy@x.io' });
    expect((await app.guestPost(prisma, 'ana@x.io', 't3', 'b3')).author.id).toBe(ana.id);
    expect((await app.reassign(prisma, post.id, 'bo@x.io')).author.email).toBe('bo@x.io');
    expect((await app.profile(prisma, 'bo@x.io'))?.posts.map((p) => p.title)).toEqual(['t1']);

    expect((await app.closeAccount(prisma, 'bo@x.io')).name).toBe('Bo');
    expect(await app.profile(prisma, 'bo@x.io')).toBeNull();
    expect(await prisma.user.count()).toBe(2);

    // At rest: ciphertext in the encrypted columns, no plaintext address in any column.
    const rows = await db.rows('User');
    expect(onlyCiphertext(rows, ['email', 'ssn'])).toBe(true);
    expect(JSON.stringify(rows)).not.toMatch(/ana@x\.io|cy@x\.io|123-45/i);
  });

  it('a lookup for a missing email fails as Prisma does: update, delete and connect throw, nothing changes', async () => {
    const before = await db.rows('User');
    await expect(app.setSsn(prisma, 'ghost@x.io', 'x')).rejects.toThrow();
    await expect(app.closeAccount(prisma, 'ghost@x.io')).rejects.toThrow();
    await expect(app.publish(prisma, 'ghost@x.io', 't', 'b')).rejects.toThrow();
    expect(await db.rows('User')).toEqual(before);
  });

  it('without the extension the helper is refused by Prisma, never matched against ciphertext', async () => {
    await expect(db.raw.user.findUnique({ where: userByEmail('ana@x.io') })).rejects.toThrow(/emailIndex|id/);
  });
});
