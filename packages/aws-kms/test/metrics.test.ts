import { KMS } from '@aws-sdk/client-kms';
import { CachingKeyring } from '@fieldseal/cache';
import { ConfigError, KeyringError } from '@fieldseal/core';
import { describe, expect, it } from 'vitest';
import { AwsKmsKeyring, type KmsEvent } from '../src/index.js';
import { createKey, fastRetries, onCleanup, rejection, setup, startServer, tableContext } from './helpers.js';

/** A keyring factory from `setup` plus the events its keyrings emit. */
function recorder() {
  const events: KmsEvent[] = [];
  return { events, onEvent: (event: KmsEvent) => events.push(event) };
}
const ofType = <T extends KmsEvent['type']>(events: KmsEvent[], type: T) =>
  events.filter((event): event is Extract<KmsEvent, { type: T }> => event.type === type);

describe('AwsKmsKeyring metrics hook (onEvent, stats)', () => {
  it('reports each KMS call with its operation, key, duration, outcome and attempts', async () => {
    const { key, keyring } = await setup({ faults: { latencyMs: 15 } });
    const { events, onEvent } = recorder();
    const kms = keyring({ onEvent });
    const { encryptedKey } = await kms.generateDataKey(tableContext);
    await kms.decryptDataKey(encryptedKey, tableContext);
    const calls = ofType(events, 'kms-call');
    expect(calls.map((call) => [call.operation, call.keyId, call.ok, call.attempts])).toEqual([
      ['GenerateDataKey', key.arn, true, 1],
      ['Decrypt', key.arn, true, 1],
    ]);
    for (const call of calls) expect(call.durationMs).toBeGreaterThanOrEqual(14);
    const stats = kms.stats();
    expect(stats.calls).toEqual({ GenerateDataKey: 1, Decrypt: 1, ReEncrypt: 0 });
    expect([stats.errors, stats.throttles, stats.retries]).toEqual([0, 0, 0]);
    expect(stats.totalDurationMs).toBeCloseTo(calls[0]!.durationMs + calls[1]!.durationMs, 6);
  });

  it('reports every throttled attempt and every retry the SDK makes, and the call that then succeeds', async () => {
    const { server, keyring } = await setup({}, { retryStrategy: fastRetries(3) });
    const { events, onEvent } = recorder();
    server.setFaults({
      failNext: { count: 2, errorType: 'ThrottlingException', operations: ['GenerateDataKey'] },
    });
    await keyring({ onEvent }).generateDataKey(tableContext);
    expect(events.map((event) => event.type)).toEqual(['throttle', 'retry', 'throttle', 'retry', 'kms-call']);
    expect(ofType(events, 'throttle').map((event) => event.attempt)).toEqual([1, 2]);
    expect(ofType(events, 'retry').map((event) => [event.attempt, event.errorCode])).toEqual([
      [2, 'ThrottlingException'],
      [3, 'ThrottlingException'],
    ]);
    expect(ofType(events, 'kms-call')[0]).toMatchObject({ ok: true, attempts: 3 });
    expect(server.stats().throttled).toEqual({});
    expect(server.stats().injectedFailures.GenerateDataKey).toBe(2);
  });

  it('reports throttling that outlasts the retries as a failed call with errorCode ThrottlingException', async () => {
    const { server, keyring } = await setup({}, { retryStrategy: fastRetries(2) });
    const { events, onEvent } = recorder();
    const kms = keyring({ onEvent });
    server.setFaults({ failNext: { count: 5, errorType: 'ThrottlingException' } });
    const error = await rejection(kms.generateDataKey(tableContext));
    expect(error).toBeInstanceOf(KeyringError);
    expect(error.code).toBe('throttled');
    expect(ofType(events, 'kms-call')).toEqual([
      expect.objectContaining({ ok: false, errorCode: 'ThrottlingException', attempts: 2 }),
    ]);
    expect(kms.stats()).toMatchObject({ errors: 1, throttles: 2, retries: 1 });
  });

  it("counts exactly the throttles of the server's request quota under concurrent load", async () => {
    const now = Date.now();
    const { server, keyring } = await setup(
      { faults: { rateLimit: 5 }, now: () => now },
      { retryStrategy: fastRetries(1) },
    );
    const kms = keyring();
    const outcomes = await Promise.allSettled(
      Array.from({ length: 20 }, () => kms.generateDataKey(tableContext)),
    );
    const failed = outcomes.filter((outcome) => outcome.status === 'rejected').length;
    expect(failed).toBe(15); // the bucket holds 5 and the fake clock never refills it
    expect(kms.stats().throttles).toBe(server.stats().throttled.GenerateDataKey);
    expect(kms.stats()).toMatchObject({ errors: 15, retries: 0, calls: { GenerateDataKey: 20 } });
  });

  it('reports other failures with their exception name and no throttle', async () => {
    const { server, keyring } = await setup();
    const { events, onEvent } = recorder();
    server.setFaults({ failNext: { count: 1, errorType: 'AccessDeniedException' } });
    await rejection(keyring({ onEvent }).generateDataKey(tableContext));
    expect(events).toEqual([
      expect.objectContaining({ type: 'kms-call', ok: false, errorCode: 'AccessDeniedException' }),
    ]);
  });

  it('names the key of each strict-mode Decrypt attempt', async () => {
    const { client, key, keyring } = await setup();
    const { encryptedKey } = await keyring().generateDataKey(tableContext);
    const newer = await createKey(client);
    const { events, onEvent } = recorder();
    await keyring({ onEvent, keyId: newer.arn, decryptKeyIds: [key.arn] }).decryptDataKey(
      encryptedKey,
      tableContext,
    );
    expect(ofType(events, 'kms-call').map((call) => [call.keyId, call.ok, call.errorCode])).toEqual([
      [newer.arn, false, 'IncorrectKeyException'],
      [key.arn, true, undefined],
    ]);
  });

  it('without an SDK client (the aggregated KMS client) it still reports calls and a final throttle', async () => {
    const server = await startServer();
    const aggregated = new KMS({ ...server.clientConfig, retryStrategy: fastRetries(2) });
    onCleanup(() => aggregated.destroy());
    const { KeyMetadata } = await aggregated.createKey({});
    const { events, onEvent } = recorder();
    const kms = new AwsKmsKeyring({ keyId: KeyMetadata!.Arn!, client: aggregated, onEvent });
    server.setFaults({ failNext: { count: 2, errorType: 'ThrottlingException' } });
    await rejection(kms.generateDataKey(tableContext));
    expect(events.map((event) => event.type)).toEqual(['throttle', 'kms-call']);
    expect(events[1]).toMatchObject({ ok: false, attempts: 2, errorCode: 'ThrottlingException' });
  });

  it('behind CachingKeyring, only cache misses reach KMS and show up as kms-call events', async () => {
    const { keyring } = await setup();
    const { events, onEvent } = recorder();
    const cached = new CachingKeyring(keyring({ onEvent }), { maxUses: 25 });
    onCleanup(() => cached.close());
    for (let row = 0; row < 100; row++) await cached.generateDataKey(tableContext);
    expect(ofType(events, 'kms-call')).toHaveLength(4);
    expect(cached.stats().keyringCalls.generate).toBe(4);
  });

  it('events carry no key bytes', async () => {
    const { keyring } = await setup();
    const { events, onEvent } = recorder();
    const kms = keyring({ onEvent });
    const { plaintextKey, encryptedKey } = await kms.generateDataKey(tableContext);
    const copy = Buffer.from(plaintextKey);
    await kms.decryptDataKey(encryptedKey, tableContext);
    const text = JSON.stringify(events);
    for (const bytes of [copy, Buffer.from(encryptedKey)])
      for (const encoding of ['base64', 'hex'] as const) expect(text).not.toContain(bytes.toString(encoding));
  });

  it('rejects an onEvent that is not a function, naming the option', () => {
    const build = () =>
      new AwsKmsKeyring({ keyId: 'alias/app', region: 'eu-west-1', onEvent: 'metrics' as never });
    expect(build).toThrow(ConfigError);
    expect(build).toThrow(/onEvent/);
  });
});
