import {
  CreateKeyCommand,
  DecryptCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  KMSInternalException,
} from '@aws-sdk/client-kms';
import { describe, expect, it } from 'vitest';
import { KmsLocalConfigError } from '../src/index.js';
import { clientFor, createKey, fastRetries, rejection, startServer } from './helpers.js';

const encrypt = (keyId: string) => new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x') });

describe('fault and load knobs', () => {
  it('over the rate limit, cryptographic calls get ThrottlingException (status 400) and the SDK sees a throttling error', async () => {
    const now = Date.now();
    const server = await startServer({ faults: { rateLimit: 3 }, now: () => now });
    const kms = clientFor(server);
    const { keyId } = await createKey(kms);
    for (let i = 0; i < 3; i++) await kms.send(encrypt(keyId));
    const error = await rejection(kms.send(encrypt(keyId)));
    expect(error.name).toBe('ThrottlingException');
    expect(error.$metadata?.httpStatusCode).toBe(400);
    expect(server.stats().throttled).toEqual({ Encrypt: 1 });
  });

  it('management calls do not count against the rate limit (as in KMS, whose quota is for cryptographic calls)', async () => {
    const server = await startServer({ faults: { rateLimit: 1 } });
    const kms = clientFor(server);
    for (let i = 0; i < 5; i++) await kms.send(new CreateKeyCommand({}));
    expect(server.stats().requests.CreateKey).toBe(5);
  });

  it("the SDK's retries get through a rate limit once the bucket refills", async () => {
    let now = Date.now();
    const server = await startServer({ faults: { rateLimit: 2 }, now: () => now });
    // Each retry lets 600 ms of server time pass: enough for one more token at 2 requests/s.
    const kms = clientFor(server, { retryStrategy: fastRetries(3, 1, () => (now += 600)) });
    const { keyId } = await createKey(kms);
    await kms.send(encrypt(keyId));
    await kms.send(encrypt(keyId));
    const out = await kms.send(encrypt(keyId));
    expect(out.$metadata.attempts).toBe(2);
    expect(server.stats().throttled).toEqual({ Encrypt: 1 });
  });

  it('failNext fails exactly N matching calls with the given type, then lets calls through', async () => {
    const server = await startServer();
    const kms = clientFor(server);
    const { keyId } = await createKey(kms);
    const { CiphertextBlob } = await kms.send(encrypt(keyId));
    server.setFaults({ failNext: { count: 2, errorType: 'KMSInternalException', operations: ['Decrypt'] } });
    await kms.send(encrypt(keyId));
    for (let i = 0; i < 2; i++) {
      const error = await rejection(kms.send(new DecryptCommand({ CiphertextBlob })));
      expect(error).toBeInstanceOf(KMSInternalException);
      expect(error.$metadata?.httpStatusCode).toBe(500);
    }
    expect(server.faults().failNext).toBeNull();
    await kms.send(new DecryptCommand({ CiphertextBlob }));
    expect(server.stats().injectedFailures).toEqual({ Decrypt: 2 });
  });

  it('injected ThrottlingExceptions are retried by the SDK: recovered within maxAttempts, surfaced beyond', async () => {
    const server = await startServer();
    const kms = clientFor(server, { retryStrategy: fastRetries(3) });
    const { keyId } = await createKey(kms);
    server.setFaults({ failNext: { count: 2, errorType: 'ThrottlingException' } });
    const recovered = await kms.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256' }));
    expect(recovered.$metadata.attempts).toBe(3);
    server.setFaults({ failNext: { count: 3, errorType: 'ThrottlingException' } });
    const exhausted = await rejection(
      kms.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256' })),
    );
    expect(exhausted.name).toBe('ThrottlingException');
    expect(exhausted.$metadata?.attempts).toBe(3);
  });

  it('adds latency (fixed plus jitter) to each call', async () => {
    const server = await startServer({ faults: { latencyMs: 40, jitterMs: 20 } });
    const kms = clientFor(server);
    const started = performance.now();
    await kms.send(new CreateKeyCommand({}));
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(39);
    expect(elapsed).toBeLessThan(2_000);
  });

  it('rejects invalid fault settings with KmsLocalConfigError naming the option', async () => {
    const server = await startServer();
    expect(() => server.setFaults({ rateLimit: -1 })).toThrow(KmsLocalConfigError);
    expect(() => server.setFaults({ failNext: { count: 1.5 } })).toThrow(/failNext\.count/);
    await expect(startServer({ port: 70_000 })).rejects.toThrow(/"port"/);
  });

  it('serves stats, faults and reset over the admin HTTP API', async () => {
    const server = await startServer();
    const kms = clientFor(server);
    const { keyId } = await createKey(kms);
    await kms.send(encrypt(keyId));
    await kms.send(encrypt(keyId));
    const auth = { authorization: `Bearer ${server.token}` };
    const stats = await (await fetch(`${server.endpoint}/__admin/stats`, { headers: auth })).json();
    expect(stats).toMatchObject({ requests: { CreateKey: 1, Encrypt: 2 }, total: 3 });

    const set = await fetch(`${server.endpoint}/__admin/faults`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ latencyMs: 5, failNext: { count: 1, errorType: 'DependencyTimeoutException' } }),
    });
    expect(await set.json()).toMatchObject({
      latencyMs: 5,
      failNext: { count: 1, errorType: 'DependencyTimeoutException' },
    });
    const failed = await rejection(kms.send(encrypt(keyId)));
    expect([failed.name, failed.$metadata?.httpStatusCode]).toEqual(['DependencyTimeoutException', 503]);

    const bad = await fetch(`${server.endpoint}/__admin/faults`, {
      method: 'POST',
      headers: auth,
      body: '{"jitterMs":"lots"}',
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toContain('jitterMs');

    expect((await fetch(`${server.endpoint}/__admin/reset`, { method: 'POST', headers: auth })).status).toBe(
      200,
    );
    expect(server.stats().total).toBe(0);
    expect(server.faults().latencyMs).toBe(0);
    expect((await fetch(`${server.endpoint}/__admin/nothing`, { headers: auth })).status).toBe(404);
  });
});
