import { CreateKeyCommand, DisableKeyCommand, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import { KeyringError } from '@fieldseal/core';
import { describe, expect, it } from 'vitest';
import { AwsKmsKeyring } from '../src/index.js';
import { toKeyringError } from '../src/kms-errors.js';
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

describe('only known temporary failures are unavailable (the code a cache may serve stale keys on)', () => {
  it('an error KMS or the SDK may send that fieldseal does not know is unknown-error, not unavailable', async () => {
    const error = toKeyringError(
      Object.assign(new Error('new thing'), {
        name: 'BrandNewException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
      }),
      'Decrypt',
      'k',
    );
    expect(error.code).toBe('unknown-error');
    expect(error.message).toContain('BrandNewException');
    expect(error.message).toContain('not treated as a temporary outage');
    expect(toKeyringError(new TypeError('x'), 'Decrypt', 'k').code).toBe('unknown-error');
  });

  it.each([
    ['InternalFailure', {}],
    ['ServiceUnavailableException', {}],
    ['TimeoutError', {}],
    ['SomethingServerSide', { $fault: 'server' }],
    ['SomethingWith503', { $metadata: { httpStatusCode: 503 } }],
    ['Error', { code: 'ETIMEDOUT' }],
  ])('%s is unavailable (a known temporary failure)', (name, extra) => {
    expect(toKeyringError(Object.assign(new Error('x'), { name, ...extra }), 'Decrypt', 'k').code).toBe(
      'unavailable',
    );
  });

  it.each([
    'XksProxyUriUnreachableException',
    'XksProxyInvalidResponseException',
    'CustomKeyStoreInvalidStateException',
    'KeyUnavailableException',
  ])(
    'a disconnected or refusing key store (%s), even answered as a server fault, is key-disabled',
    (name) => {
      const error = toKeyringError(
        Object.assign(new Error('x'), { name, $fault: 'server', $metadata: { httpStatusCode: 500 } }),
        'Decrypt',
        'k',
      );
      expect(error.code).toBe('key-disabled');
    },
  );

  it('through the real SDK and kms-local: an XKS disconnect is key-disabled, a KMSInvalidStateException other than deletion too', async () => {
    const { server, keyring } = await setup();
    server.setFaults({ failNext: { count: 1, errorType: 'XksProxyUriUnreachableException' } });
    expect((await rejection(keyring().generateDataKey(tableContext))).code).toBe('key-disabled');
    server.setFaults({ failNext: { count: 1, errorType: 'KMSInvalidStateException' } });
    expect((await rejection(keyring().generateDataKey(tableContext))).code).toBe('key-disabled');
  });

  it('a keyring error from another installed copy of core passes through unchanged (recognised by brand)', () => {
    const foreign = Object.assign(new Error('x'), {
      name: 'KeyringError',
      code: 'access-denied',
      [Symbol.for('fieldseal.error')]: true,
    });
    expect(toKeyringError(foreign, 'Decrypt', 'k')).toBe(foreign);
  });

  it('a throwing onEvent does not fail the KMS call it reports', async () => {
    const server = await startServer();
    const client = clientFor(server);
    const { KeyMetadata } = await client.send(new CreateKeyCommand({}));
    const keyring = new AwsKmsKeyring({
      keyId: KeyMetadata?.Arn as string,
      client,
      onEvent: () => {
        throw new Error('metrics down');
      },
    });
    const material = await keyring.generateDataKey(tableContext);
    expect(await keyring.decryptDataKey(material.encryptedKey, tableContext)).toEqual(material.plaintextKey);
    expect(keyring.stats().calls.GenerateDataKey).toBe(1);
  });
});
