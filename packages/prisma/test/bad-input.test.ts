import {
  DecryptionError,
  EncryptionError,
  FieldsealError,
  type Keyring,
  KeyringError,
  LocalKeyring,
} from '@fieldseal/core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, openDatabase, type TestDatabase } from './helpers/databases.js';
import { type EncryptedClient, extendedClient } from './helpers/fixture.js';

const SECRET = 'ssn-999-88-7777';

describe.each(DIALECTS)('bad input on %s', (dialect) => {
  let db: TestDatabase;
  let prisma: EncryptedClient;
  let ids: number[];
  beforeAll(async () => {
    db = await openDatabase(dialect);
    prisma = extendedClient(db);
  });
  afterAll(async () => db?.drop());
  beforeEach(async () => {
    await db.execute(`DELETE FROM ${db.t('User')}`);
    const a = await prisma.user.create({ data: { email: 'a@x.io', ssn: SECRET } });
    const b = await prisma.user.create({ data: { email: 'b@x.io', ssn: 'other' } });
    ids = [a.id, b.id];
  });

  const readError = async (client: EncryptedClient = prisma): Promise<FieldsealError> => {
    const error = await client.user.findMany({ orderBy: { id: 'asc' } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FieldsealError);
    expect((error as Error).message).not.toContain(SECRET);
    expect((error as Error).message).not.toContain('a@x.io');
    return error as FieldsealError;
  };
  const setRaw = (column: string, sql: string, id: number) =>
    db.execute(`UPDATE ${db.t('User')} SET ${db.q(column)} = ${sql} WHERE ${db.q('id')} = ${id}`);

  it('a row whose data-key column was lost: missing-data-key, naming the row', async () => {
    await setRaw('dataKey', 'NULL', ids[0] as number);
    const error = await readError();
    expect(error).toBeInstanceOf(DecryptionError);
    expect((error as DecryptionError).code).toBe('missing-data-key');
    expect(error.location).toMatchObject({ table: 'User', rowId: ids[0] });
  });

  it('altered ciphertext: authentication-failed, naming table, column and row', async () => {
    const [row] = await db.rows('User');
    const stored = row?.ssn as string;
    const flipped = `${stored.slice(0, -2)}${stored.at(-2) === 'A' ? 'B' : 'A'}${stored.at(-1)}`;
    await setRaw('ssn', `'${flipped}'`, ids[0] as number);
    const error = await readError();
    expect((error as DecryptionError).code).toBe('authentication-failed');
    expect(error.location).toEqual({ table: 'User', column: 'ssn', rowId: ids[0] });
  });

  it('a value moved from another column of the same row fails authentication', async () => {
    const [row] = await db.rows('User');
    await setRaw('email', `'${row?.ssn}'`, ids[0] as number);
    const error = await readError();
    expect((error as DecryptionError).code).toBe('authentication-failed');
    expect(error.location).toMatchObject({ column: 'email', rowId: ids[0] });
  });

  it('a value moved from another row fails with wrong-data-key', async () => {
    const rows = await db.rows('User');
    await setRaw('ssn', `'${rows[1]?.ssn}'`, ids[0] as number);
    const error = await readError();
    expect((error as DecryptionError).code).toBe('wrong-data-key');
    expect(error.location).toMatchObject({ column: 'ssn', rowId: ids[0] });
  });

  it('a keyring without the master key: KeyringError naming the table and row', async () => {
    const stranger = extendedClient(db, {
      keyring: LocalKeyring.fromString(LocalKeyring.generateKeyText('other-key')),
      selfCheck: false, // the start-up check would stop it first (test/self-check.test.ts)
    });
    const error = await readError(stranger);
    expect(error).toBeInstanceOf(KeyringError);
    expect(error.location).toMatchObject({ table: 'User', rowId: ids[0] });
  });

  it('a failing keyring writes nothing, not even half a row', async () => {
    const failing: Keyring = {
      name: 'failing',
      generateDataKey: () => Promise.reject(new KeyringError('unavailable', 'KMS unreachable')),
      decryptDataKey: () => Promise.reject(new KeyringError('unavailable', 'KMS unreachable')),
    };
    const broken = extendedClient(db, {
      keyring: failing,
      blindIndexKey: undefined,
      metadata: withoutBlindIndexes(),
    });
    await expect(broken.user.create({ data: { email: 'c@x.io', ssn: SECRET } })).rejects.toThrow(
      KeyringError,
    );
    await expect(
      broken.user.update({ where: { id: ids[1] as number }, data: { email: 'z@x.io', ssn: SECRET } }),
    ).rejects.toThrow(KeyringError);
    const rows = await db.rows('User');
    expect(rows).toHaveLength(2);
    expect(
      rows.some((row) => JSON.stringify(row).includes(SECRET) || JSON.stringify(row).includes('z@x.io')),
    ).toBe(false);
  });

  it('createMany with one bad value writes none of the rows', async () => {
    const [row] = await db.rows('User');
    const error = await prisma.user
      .createMany({ data: [{ email: 'ok@x.io' }, { email: row?.email as string }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EncryptionError);
    expect((error as EncryptionError).code).toBe('already-encrypted');
    expect(await db.rows('User')).toHaveLength(2);
  });

  it('the data key cannot be read or written around the extension', async () => {
    await expect(
      prisma.user.update({ where: { id: ids[0] as number }, data: { dataKey: null } }),
    ).rejects.toThrow(/written by fieldseal/);
    expect((await prisma.user.findUniqueOrThrow({ where: { id: ids[0] as number } })).ssn).toBe(SECRET);
  });
});

function withoutBlindIndexes() {
  return {
    version: 1 as const,
    models: {
      User: {
        dataKey: 'dataKey',
        encrypted: { email: {}, ssn: {} },
        relations: {
          posts: { model: 'Post', list: true, name: 'PostToUser' },
          profile: { model: 'Profile', list: false, name: 'ProfileToUser' },
        },
      },
      Post: {
        dataKey: 'dataKey',
        encrypted: { body: {} },
        relations: {
          author: { model: 'User', list: false, name: 'PostToUser' },
          comments: { model: 'Comment', list: true, name: 'CommentToPost' },
        },
      },
      Comment: {
        dataKey: 'dataKey',
        encrypted: { text: {} },
        relations: { post: { model: 'Post', list: false, name: 'CommentToPost' } },
      },
      Profile: {
        dataKey: 'dataKey',
        encrypted: { bio: {}, avatar: { type: 'Bytes' as const } },
        relations: { user: { model: 'User', list: false, name: 'ProfileToUser' } },
      },
    },
  };
}
