import { describe, expect, it } from 'vitest';
import { rejection, setup } from './helpers.js';

describe('AwsKmsKeyring.scheduleKeyDeletion (kms-local, real SDK)', () => {
  it('schedules the key (30 days unless told) and the key then refuses Decrypt with key-pending-deletion', async () => {
    const { server, key, keyring } = await setup();
    const ring = keyring();
    const material = await ring.generateDataKey({ purpose: 'test' });
    const before = Date.now();
    const scheduled = await ring.scheduleKeyDeletion(key.arn);
    expect(scheduled.keyId).toBe(key.arn);
    expect(scheduled.pendingWindowInDays).toBe(30);
    expect(scheduled.deletionDate?.getTime()).toBeGreaterThanOrEqual(before + 30 * 86_400_000 - 1_000);
    const error = await rejection(ring.decryptDataKey(material.encryptedKey, { purpose: 'test' }));
    expect(error.code).toBe('key-pending-deletion');
    expect(server.stats().requests.ScheduleKeyDeletion).toBe(1);
  });

  it('rejects a pending window outside 7–30 days with ConfigError, before calling KMS', async () => {
    const { server, key, keyring } = await setup();
    for (const days of [6, 31, 7.5])
      expect(
        await rejection(keyring().scheduleKeyDeletion(key.arn, { pendingWindowInDays: days })),
      ).toMatchObject({ option: 'pendingWindowInDays' });
    expect(server.stats().requests.ScheduleKeyDeletion ?? 0).toBe(0);
  });

  it('a key already pending deletion is refused as key-pending-deletion', async () => {
    const { key, keyring } = await setup();
    await keyring().scheduleKeyDeletion(key.arn, { pendingWindowInDays: 7 });
    expect((await rejection(keyring().scheduleKeyDeletion(key.arn))).code).toBe('key-pending-deletion');
  });
});
