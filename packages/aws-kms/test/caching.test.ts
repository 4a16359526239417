import { CachingKeyring } from '@fieldseal/cache';
import { describe, expect, it } from 'vitest';
import { onCleanup, rejection, setup, tableContext } from './helpers.js';

describe('AwsKmsKeyring behind CachingKeyring', () => {
  it('makes one GenerateDataKey call for many rows, counted by the server', async () => {
    const { server, keyring } = await setup();
    const cached = new CachingKeyring(keyring(), { maxAge: 60_000, maxUses: 1_000 });
    onCleanup(() => cached.close());
    const keys = new Set<string>();
    for (let row = 0; row < 100; row++) {
      keys.add(Buffer.from((await cached.generateDataKey(tableContext)).encryptedKey).toString('base64'));
    }
    expect(keys.size).toBe(1);
    expect(server.stats().requests.GenerateDataKey).toBe(1);
  });

  it('makes one Decrypt call for many reads of rows sharing a data key', async () => {
    const { server, keyring } = await setup();
    const { encryptedKey } = await keyring().generateDataKey(tableContext);
    const cached = new CachingKeyring(keyring(), { maxAge: 60_000 });
    onCleanup(() => cached.close());
    server.reset();
    await Promise.all(Array.from({ length: 50 }, () => cached.decryptDataKey(encryptedKey, tableContext)));
    for (let read = 0; read < 50; read++) await cached.decryptDataKey(encryptedKey, tableContext);
    expect(server.stats().requests).toEqual({ Decrypt: 1 });
  });

  it('still calls KMS once per maxUses rows, so no data key protects more than that', async () => {
    const { server, keyring } = await setup();
    const cached = new CachingKeyring(keyring(), { maxUses: 10 });
    onCleanup(() => cached.close());
    for (let row = 0; row < 100; row++) await cached.generateDataKey(tableContext);
    expect(server.stats().requests.GenerateDataKey).toBe(10);
  });

  it('partitions by context: another table gets its own data key, and a wrong context still fails in KMS', async () => {
    const { server, keyring } = await setup();
    const cached = new CachingKeyring(keyring(), { maxAge: 60_000 });
    onCleanup(() => cached.close());
    const users = await cached.generateDataKey(tableContext);
    await cached.generateDataKey({ 'fieldseal:table': 'orders' });
    expect(server.stats().requests.GenerateDataKey).toBe(2);
    const error = await rejection(cached.decryptDataKey(users.encryptedKey, { 'fieldseal:table': 'orders' }));
    expect(error.code).toBe('invalid-ciphertext');
  });
});
