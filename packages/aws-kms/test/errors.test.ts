import { DisableKeyCommand, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import { KeyringError } from '@fieldseal/core';
import { describe, expect, it } from 'vitest';
import { AwsKmsKeyring } from '../src/index.js';
import { clientFor, fastRetries, rejection, setup, startServer, tableContext } from './helpers.js';

describe('KMS failures become KeyringErrors that say what to do', () => {
  it('an unknown key is key-not-found, naming the key and the region to check', async () => {
    const server = await startServer();
    const keyring = new AwsKmsKeyring({ keyId: 'alias/missing', client: clientFor(server) });
    const error = await rejection(keyring.generateDataKey(tableContext));
    expect(error).toBeInstanceOf(KeyringError);
    expect([error.code, error.keyId]).toEqual(['key-not-found', 'alias/missing']);
    expect(error.message).toContain('"alias/missing"');
    expect(error.message).toContain('region');
  });

  it('a disabled key is key-disabled and says how to enable it', async () => {
    const { client, key, keyring } = await setup();
    const { encryptedKey } = await keyring().generateDataKey(tableContext);
    await client.send(new DisableKeyCommand({ KeyId: key.keyId }));
    for (const attempt of [
      keyring().generateDataKey(tableContext),
      keyring().decryptDataKey(encryptedKey, tableContext),
    ]) {
      const error = await rejection(attempt);
      expect(error.code).toBe('key-disabled');
      expect(error.message).toContain('enable-key');
    }
  });

  it('a key pending deletion is key-pending-deletion and says to cancel the deletion', async () => {
    const { client, key, keyring } = await setup();
    const { encryptedKey } = await keyring().generateDataKey(tableContext);
    await client.send(new ScheduleKeyDeletionCommand({ KeyId: key.keyId, PendingWindowInDays: 7 }));
    const error = await rejection(keyring().decryptDataKey(encryptedKey, tableContext));
    expect(error.code).toBe('key-pending-deletion');
    expect(error.message).toContain('cancel-key-deletion');
  });

  it('access denied is access-denied and names the IAM action needed', async () => {
    const { server, keyring } = await setup();
    server.setFaults({ failNext: { count: 1, errorType: 'AccessDeniedException' } });
    const error = await rejection(keyring().generateDataKey(tableContext));
    expect(error.code).toBe('access-denied');
    expect(error.message).toContain('kms:GenerateDataKey');
  });

  it('throttling the SDK recovers from by retrying is invisible', async () => {
    const { server, keyring } = await setup({}, { retryStrategy: fastRetries(3) });
    server.setFaults({
      failNext: { count: 2, errorType: 'ThrottlingException', operations: ['GenerateDataKey'] },
    });
    const material = await keyring().generateDataKey(tableContext);
    expect(material.plaintextKey).toHaveLength(32);
    expect(server.stats().requests.GenerateDataKey).toBe(3);
  });

  it("throttling that outlasts the SDK's retries is throttled, with the attempt count and the advice to cache", async () => {
    const { server, keyring } = await setup({}, { retryStrategy: fastRetries(3) });
    server.setFaults({ failNext: { count: 3, errorType: 'ThrottlingException' } });
    const error = await rejection(keyring().generateDataKey(tableContext));
    expect(error.code).toBe('throttled');
    expect(error.message).toContain('after 3 attempts');
    expect(error.message).toContain('CachingKeyring');
  });

  it("the server's rate limit is throttled once retries run out", async () => {
    const now = Date.now();
    const { server, keyring } = await setup(
      { faults: { rateLimit: 1 }, now: () => now },
      { retryStrategy: fastRetries(2) },
    );
    await keyring().generateDataKey(tableContext);
    expect((await rejection(keyring().generateDataKey(tableContext))).code).toBe('throttled');
    expect(server.stats().throttled.GenerateDataKey).toBe(2);
  });

  it('KMS internal errors and an unreachable endpoint are unavailable', async () => {
    const { server, key, keyring } = await setup();
    server.setFaults({ failNext: { count: 1, errorType: 'KMSInternalException' } });
    expect((await rejection(keyring().generateDataKey(tableContext))).code).toBe('unavailable');
    const closed = await startServer();
    const unreachable = new AwsKmsKeyring({ keyId: key.arn, client: clientFor(closed) });
    await closed.close();
    const error = await rejection(unreachable.generateDataKey(tableContext));
    expect(error.code).toBe('unavailable');
    expect(error.message).toContain('ECONNREFUSED');
  });

  it('keeps the SDK error as cause and never puts key bytes in a message', async () => {
    const { keyring } = await setup();
    const { encryptedKey, plaintextKey } = await keyring().generateDataKey(tableContext);
    const error = await rejection(keyring().decryptDataKey(encryptedKey, { other: 'context' }));
    expect((error.cause as Error).name).toBe('InvalidCiphertextException');
    for (const encoding of ['base64', 'hex'] as const) {
      expect(error.message).not.toContain(Buffer.from(plaintextKey).toString(encoding));
      expect(error.message).not.toContain(Buffer.from(encryptedKey).toString(encoding));
    }
  });
});
