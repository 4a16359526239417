import { ConfigError, KeyringError } from '@fieldseal/core';
import { describe, expect, it } from 'vitest';
import { type CacheEvent, CachingKeyring } from '../src/index.js';
import { FakeClock, nextTurn, RecordingKeyring } from './helpers.js';

const ctx = { 'fieldseal:table': 'User' };
const down = () => new KeyringError('unavailable', 'KMS endpoint unreachable (ECONNREFUSED)');

/** A cache over a recording keyring with a fake clock, and one data key already unwrapped into it. */
async function warmCache(options: { decryptMaxAge?: number; decryptGracePeriod?: number } = {}) {
  const clock = new FakeClock();
  const inner = new RecordingKeyring(clock.now);
  const events: CacheEvent[] = [];
  const cache = new CachingKeyring(inner, { ...options, now: clock.now, onEvent: (e) => events.push(e) });
  const material = await inner.inner.generateDataKey(ctx);
  const first = Buffer.from(await cache.decryptDataKey(material.encryptedKey, ctx));
  expect(inner.decrypts).toBe(1);
  return { clock, inner, cache, events, material, first };
}

const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error as KeyringError,
  );

describe('decryptGracePeriod option', () => {
  it('is off (0) by default', () => {
    expect(new CachingKeyring(new RecordingKeyring()).options.decryptGracePeriod).toBe(0);
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY, '5' as unknown as number])(
    'rejects %s with a ConfigError naming decryptGracePeriod',
    (value) => {
      expect(() => new CachingKeyring(new RecordingKeyring(), { decryptGracePeriod: value })).toThrow(
        expect.objectContaining({ name: 'ConfigError', option: 'decryptGracePeriod' }),
      );
      expect(() => new CachingKeyring(new RecordingKeyring(), { decryptGracePeriod: value })).toThrow(
        ConfigError,
      );
    },
  );
});

describe('grace period off (the default): a read after decryptMaxAge needs the keyring', () => {
  it('fails with the keyring error once the cached key is past decryptMaxAge and the keyring is down', async () => {
    const { clock, inner, cache, material } = await warmCache({ decryptMaxAge: 1_000 });
    inner.failWith = down();
    clock.advance(999);
    await expect(cache.decryptDataKey(material.encryptedKey, ctx)).resolves.toBeInstanceOf(Uint8Array);
    clock.advance(1);
    const error = await rejection(cache.decryptDataKey(material.encryptedKey, ctx));
    expect(error).toBeInstanceOf(KeyringError);
    expect(error.code).toBe('unavailable');
    expect(cache.stats()).toMatchObject({ staleServed: 0, size: { decrypt: 0 } });
  });
});

describe('grace period on', () => {
  it('serves the cached key within the grace period while the keyring is unavailable, and fails after it', async () => {
    const { clock, inner, cache, events, material, first } = await warmCache({
      decryptMaxAge: 1_000,
      decryptGracePeriod: 5_000,
    });
    inner.failWith = down();
    clock.advance(1_000);
    const stale = await cache.decryptDataKey(material.encryptedKey, ctx);
    expect(Buffer.from(stale).equals(first)).toBe(true);
    expect(inner.decrypts).toBe(2); // it asked the keyring first
    expect(cache.stats().staleServed).toBe(1);
    expect(events.at(-1)).toEqual({
      type: 'stale',
      side: 'decrypt',
      ageMs: 1_000,
      reason: 'unavailable',
      context: ctx,
    });

    clock.advance(4_999); // age 5,999 ms < 1,000 + 5,000
    expect(Buffer.from(await cache.decryptDataKey(material.encryptedKey, ctx)).equals(first)).toBe(true);
    clock.advance(1); // age 6,000 ms: grace over
    const error = await rejection(cache.decryptDataKey(material.encryptedKey, ctx));
    expect(error.code).toBe('unavailable');
    expect(cache.stats().size.decrypt).toBe(0);
    await nextTurn();
    expect(stale.every((b) => b === 0)).toBe(true); // evicted keys are still zero-filled
  });

  it('serves stale keys on throttling too, and pauses refresh attempts instead of calling KMS on every read', async () => {
    const { clock, inner, cache, material } = await warmCache({
      decryptMaxAge: 10_000,
      decryptGracePeriod: 60_000,
    });
    inner.failWith = new KeyringError('throttled', 'kms:Decrypt was throttled');
    clock.advance(10_000);
    for (let i = 0; i < 10; i++) await cache.decryptDataKey(material.encryptedKey, ctx);
    expect(inner.decrypts).toBe(2); // one refresh attempt, then 1 s of stale reads without calls
    clock.advance(1_000);
    await cache.decryptDataKey(material.encryptedKey, ctx);
    expect(inner.decrypts).toBe(3);
    expect(cache.stats().staleServed).toBe(11);
  });

  it('coalesces the refresh of concurrent readers into one keyring call, and all get the stale key', async () => {
    const { clock, inner, cache, material, first } = await warmCache({
      decryptMaxAge: 100,
      decryptGracePeriod: 1_000,
    });
    inner.failWith = down();
    inner.delayMs = 5;
    clock.advance(100);
    const keys = await Promise.all(
      Array.from({ length: 20 }, () => cache.decryptDataKey(material.encryptedKey, ctx)),
    );
    expect(keys.every((k) => Buffer.from(k).equals(first))).toBe(true);
    expect(inner.decrypts).toBe(2);
    expect(cache.stats()).toMatchObject({ staleServed: 20, keyringCalls: { decrypt: 2 } });
  });

  it('refreshes from the keyring as soon as it is back, and stops serving stale', async () => {
    const { clock, inner, cache, material, first } = await warmCache({
      decryptMaxAge: 100,
      decryptGracePeriod: 1_000,
    });
    inner.failWith = down();
    clock.advance(150);
    await cache.decryptDataKey(material.encryptedKey, ctx);
    inner.failWith = undefined;
    clock.advance(100); // past the retry pause (min(1 s, decryptMaxAge))
    const fresh = await cache.decryptDataKey(material.encryptedKey, ctx);
    expect(Buffer.from(fresh).equals(first)).toBe(true);
    expect(inner.decrypts).toBe(3);
    expect(cache.stats().staleServed).toBe(1);
    clock.advance(99);
    await cache.decryptDataKey(material.encryptedKey, ctx); // a plain hit on the refreshed entry
    expect(inner.decrypts).toBe(3);
  });

  it.each(['access-denied', 'invalid-ciphertext', 'key-disabled', 'unwrap-failed'] as const)(
    'never serves a stale key when the keyring refuses (%s): the key is evicted and the read fails',
    async (code) => {
      const { clock, inner, cache, material } = await warmCache({
        decryptMaxAge: 100,
        decryptGracePeriod: 10_000,
      });
      inner.failWith = new KeyringError(code, 'refused');
      clock.advance(100);
      expect((await rejection(cache.decryptDataKey(material.encryptedKey, ctx))).code).toBe(code);
      expect(cache.stats()).toMatchObject({ staleServed: 0, size: { decrypt: 0 } });
      // Even if the keyring then becomes unreachable, the refused key is gone for good.
      inner.failWith = down();
      expect((await rejection(cache.decryptDataKey(material.encryptedKey, ctx))).code).toBe('unavailable');
    },
  );

  it('never applies to encrypt-side keys: a new write needs the keyring after maxAge', async () => {
    const clock = new FakeClock();
    const inner = new RecordingKeyring(clock.now);
    const cache = new CachingKeyring(inner, { maxAge: 100, decryptGracePeriod: 60_000, now: clock.now });
    const made = await cache.generateDataKey(ctx);
    inner.failWith = down();
    clock.advance(100);
    expect((await rejection(cache.generateDataKey(ctx))).code).toBe('unavailable');
    // The decrypt-side copy of that key is still served stale for reads.
    const read = await cache.decryptDataKey(made.encryptedKey, ctx);
    expect(read.length).toBe(32);
    expect(cache.stats().staleServed).toBe(1);
  });

  it('purgeExpired keeps decrypt-side keys through the grace period and drops them after it', async () => {
    const { clock, cache } = await warmCache({ decryptMaxAge: 100, decryptGracePeriod: 400 });
    clock.advance(499);
    cache.purgeExpired();
    expect(cache.stats().size.decrypt).toBe(1);
    clock.advance(1);
    cache.purgeExpired();
    expect(cache.stats().size.decrypt).toBe(0);
  });

  it('a key never unwrapped before is not helped by the grace period', async () => {
    const { inner, cache } = await warmCache({ decryptGracePeriod: 60_000 });
    const other = await inner.inner.generateDataKey(ctx);
    inner.failWith = down();
    expect((await rejection(cache.decryptDataKey(other.encryptedKey, ctx))).code).toBe('unavailable');
  });
});
