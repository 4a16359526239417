import type { EncryptionContext, Keyring } from '@fieldseal/core';
import { BlindIndex, isKeyringError, LocalKeyring } from '@fieldseal/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, openDatabase, type TestDatabase } from './helpers/databases.js';
import { encrypted, keyring, onlyCiphertext } from './helpers/fixture.js';
import { startLocalKms } from './helpers/kms.js';

/** Counts data keys made through the keyring. */
class CountingKeyring implements Keyring {
  readonly name = 'counting';
  made = 0;
  constructor(readonly inner: Keyring) {}
  generateDataKey(context: EncryptionContext) {
    this.made++;
    return this.inner.generateDataKey(context);
  }
  decryptDataKey(encryptedKey: Uint8Array, context: EncryptionContext) {
    return this.inner.decryptDataKey(encryptedKey, context);
  }
}

describe.each(DIALECTS)('start-up self-check and already-encrypted check on %s', (dialect) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await openDatabase(dialect);
  });
  afterAll(async () => db?.drop());

  it('a keyring with the wrong master key fails before the first write, naming the blind-index key and model', async () => {
    const wrong = LocalKeyring.fromString(LocalKeyring.generateKeyText('test-key'));
    const prisma = encrypted(db.client(), { keyring: wrong });
    // A write that never touches the indexed field is stopped too: the check runs first.
    const error = await prisma.post.findMany().catch((e: unknown) => e);
    expect(isKeyringError(error), String(error)).toBe(true);
    expect(String((error as Error).message)).toMatch(
      /blind-index key \(option blindIndexKey, used by model User\)/,
    );
    const create = await prisma.user.create({ data: { email: 'w@x.io' } }).catch((e: unknown) => e);
    expect(isKeyringError(create)).toBe(true);
    expect(await db.rows('User')).toEqual([]);
  });

  it('the check round-trips one probe key, once; selfCheck: false skips it', async () => {
    const counting = new CountingKeyring(keyring);
    const prisma = encrypted(db.client(), { keyring: counting });
    await prisma.post.findMany();
    await prisma.post.findMany();
    expect(counting.made).toBe(1);
    const unchecked = new CountingKeyring(keyring);
    await encrypted(db.client(), { keyring: unchecked, selfCheck: false }).post.findMany();
    expect(unchecked.made).toBe(0);
  });

  it('a check failed by a KMS outage is not remembered: after recovery the next query runs', async () => {
    const kms = await startLocalKms();
    try {
      const blindIndexKey = await BlindIndex.generateKey(kms.keyring);
      const prisma = encrypted(db.client(), { keyring: kms.keyring, blindIndexKey });
      kms.outage();
      const error = await prisma.post.findMany().catch((e: unknown) => e);
      expect(isKeyringError(error), String(error)).toBe(true);
      kms.recover();
      const user = await prisma.user.create({ data: { email: 'back@x.io' } });
      expect(await prisma.user.findUniqueOrThrow({ where: { id: user.id } })).toMatchObject({
        email: 'back@x.io',
      });
    } finally {
      await kms.close();
    }
  });

  it('text that only starts like a ciphertext prefix ("fs2: fasting sugar") is encrypted, not refused', async () => {
    const prisma = encrypted(db.client());
    const user = await prisma.user.create({ data: { email: 'fs@x.io', ssn: 'fs2: fasting sugar 5.4' } });
    expect(await prisma.user.findUniqueOrThrow({ where: { id: user.id } })).toMatchObject({
      ssn: 'fs2: fasting sugar 5.4',
    });
    expect(onlyCiphertext(await db.rows('User'), ['email', 'ssn'])).toBe(true);
  });
});
