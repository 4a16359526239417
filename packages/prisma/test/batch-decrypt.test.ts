import { CachingKeyring } from '@fieldseal/cache';
import type { EncryptionContext, Keyring } from '@fieldseal/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type TestDatabase } from './helpers/databases.js';
import { extendedClient, keyring } from './helpers/fixture.js';

/** Counts unwraps reaching the master keyring. */
class CountingKeyring implements Keyring {
  readonly name = 'counting';
  unwraps = 0;
  constructor(readonly inner: Keyring) {}
  generateDataKey(context: EncryptionContext) {
    return this.inner.generateDataKey(context);
  }
  decryptDataKey(encryptedKey: Uint8Array, context: EncryptionContext) {
    this.unwraps++;
    return this.inner.decryptDataKey(encryptedKey, context);
  }
}

describe('a query result is decrypted as one batch', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await openDatabase('sqlite');
  });
  afterAll(async () => db?.drop());

  it('unwraps each distinct data key once per query, across rows and included relations', async () => {
    const writer = extendedClient(db, { keyring: new CachingKeyring(keyring, { maxUses: 15 }) });
    for (let i = 0; i < 20; i++) {
      await writer.user.create({
        data: {
          email: `user${i}@example.com`,
          posts: {
            create: [
              { title: 'a', body: `body a ${i}` },
              { title: 'b', body: `body b ${i}` },
            ],
          },
        },
      });
    }
    // Format v2: each row has its own salt (`fsk2:<salt>.`); rows sharing a data key share the rest.
    const raw = async (table: string) =>
      Number(
        (
          (await db
            .client()
            .$queryRawUnsafe(`SELECT COUNT(DISTINCT substr(dataKey, 29)) AS n FROM ${table}`)) as {
            n: unknown;
          }[]
        )[0]?.n,
      );
    const distinct = (await raw('User')) + (await raw('Post'));
    expect(distinct).toBeLessThan(10); // 20 users and 40 posts at 15 uses per key

    const counting = new CountingKeyring(keyring);
    const reader = extendedClient(db, { keyring: counting, selfCheck: false }); // counts this query's unwraps only
    const users = await reader.user.findMany({ include: { posts: true }, orderBy: { id: 'asc' } });
    expect(users).toHaveLength(20);
    expect(users[11]?.email).toBe('user11@example.com');
    expect(users[11]?.posts.map((post) => post.body).sort()).toEqual(['body a 11', 'body b 11']);
    expect(counting.unwraps).toBe(distinct);
  });
});
