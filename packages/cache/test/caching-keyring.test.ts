import { inspect } from 'node:util';
import { ConfigError, deriveDataKey, KeyringError, RowEnvelope } from '@fieldseal/core';
import { describe, expect, it } from 'vitest';
import { type CacheEvent, CachingKeyring, GCM_ENCRYPTION_LIMIT } from '../src/index.js';
import { FakeClock, nextTurn, RecordingKeyring } from './helpers.js';

const ctx = { 'fieldseal:table': 'User' };

describe('CachingKeyring options', () => {
  it('rejects maxUses above 2^32 at construction, naming the GCM limit', () => {
    const error = (() => {
      try {
        new CachingKeyring(new RecordingKeyring(), { maxUses: GCM_ENCRYPTION_LIMIT + 1 });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).option).toBe('maxUses');
    expect((error as Error).message).toMatch(/2\^32.*NIST SP 800-38D/);
  });

  it.each([
    ['maxAge', 0],
    ['maxAge', -5],
    ['maxUses', 1.5],
    ['maxBytes', Number.NaN],
    ['capacity', 0],
    // Values that cannot even be turned into text (found by the reliability fuzz).
    ['maxUses', { toString: null }],
    ['maxAge', Object.create(null)],
    ['decryptGracePeriod', { valueOf: null, toString: null }],
    ['capacity', Symbol('x')],
  ])('rejects %s = %s with a ConfigError naming the option', (option, value) => {
    expect(() => new CachingKeyring(new RecordingKeyring(), { [option]: value })).toThrow(
      expect.objectContaining({ name: 'ConfigError', option }),
    );
  });

  it('rejects a non-object options value and non-function onEvent/now with a ConfigError (found by the reliability fuzz)', () => {
    for (const [options, option] of [
      [null, 'options'],
      [[], 'options'],
      [{ onEvent: 5 }, 'onEvent'],
      [{ now: 'soon' }, 'now'],
    ] as const) {
      expect(() => new CachingKeyring(new RecordingKeyring(), options as never)).toThrow(
        expect.objectContaining({ name: 'ConfigError', option }),
      );
    }
  });

  it('applies documented defaults', () => {
    const cache = new CachingKeyring(new RecordingKeyring());
    expect(cache.options).toMatchObject({
      maxAge: 300_000,
      maxUses: 10_000,
      maxBytes: 2 ** 40,
      capacity: 1_000,
      decryptMaxAge: 300_000,
    });
  });
});

describe('CachingKeyring encrypt side', () => {
  it('coalesces 1,000 parallel misses into one generateDataKey call', async () => {
    const inner = new RecordingKeyring();
    inner.delayMs = 5;
    const cache = new CachingKeyring(inner, { maxUses: 10_000 });
    const results = await Promise.all(Array.from({ length: 1000 }, () => cache.generateDataKey(ctx)));
    expect(inner.generated).toHaveLength(1);
    expect(new Set(results.map((r) => r.plaintextKey)).size).toBe(1);
    expect(cache.stats()).toMatchObject({
      misses: 1,
      hits: 0,
      coalesced: 999,
      keyringCalls: { generate: 1 },
    });
  });

  it('coalesces parallel misses even when one key cannot serve them all (maxUses 10, 100 callers → 10 calls)', async () => {
    const inner = new RecordingKeyring();
    inner.delayMs = 2;
    const cache = new CachingKeyring(inner, { maxUses: 10 });
    const results = await Promise.all(Array.from({ length: 100 }, () => cache.generateDataKey(ctx)));
    expect(inner.generated).toHaveLength(10);
    const uses = new Map<Uint8Array, number>();
    for (const r of results) uses.set(r.encryptedKey, (uses.get(r.encryptedKey) ?? 0) + 1);
    expect([...uses.values()].every((n) => n === 10)).toBe(true);
  });

  it('gives every waiter the error of a failed coalesced call, with one call to the keyring', async () => {
    const inner = new RecordingKeyring();
    inner.delayMs = 5;
    inner.failWith = new KeyringError('unavailable', 'KMS is down');
    const cache = new CachingKeyring(inner);
    const outcomes = await Promise.allSettled(Array.from({ length: 50 }, () => cache.generateDataKey(ctx)));
    expect(
      outcomes.every((o) => o.status === 'rejected' && (o.reason as KeyringError).code === 'unavailable'),
    ).toBe(true);
    expect(cache.stats().keyringCalls.generate).toBe(1);
  });

  it('keeps tables (contexts) apart: two contexts never share a data key', async () => {
    const cache = new CachingKeyring(new RecordingKeyring());
    const a = await cache.generateDataKey({ 'fieldseal:table': 'User' });
    const b = await cache.generateDataKey({ 'fieldseal:table': 'Post' });
    const a2 = await cache.generateDataKey({ 'fieldseal:table': 'User' });
    expect(a.encryptedKey).not.toBe(b.encryptedKey);
    expect(a2.encryptedKey).toBe(a.encryptedKey);
  });

  it('makes a new key once maxAge has passed', async () => {
    const clock = new FakeClock();
    const inner = new RecordingKeyring(clock.now);
    const cache = new CachingKeyring(inner, { maxAge: 1000, now: clock.now });
    const first = await cache.generateDataKey(ctx);
    clock.advance(999);
    expect((await cache.generateDataKey(ctx)).encryptedKey).toBe(first.encryptedKey);
    clock.advance(1);
    expect((await cache.generateDataKey(ctx)).encryptedKey).not.toBe(first.encryptedKey);
    expect(cache.stats().evictions.maxAge).toBe(1);
  });

  it('does not use a key at exactly maxAge milliseconds old (the bound is exclusive)', async () => {
    const clock = new FakeClock();
    const cache = new CachingKeyring(new RecordingKeyring(clock.now), { maxAge: 2, now: clock.now });
    const first = await cache.generateDataKey(ctx);
    clock.advance(2);
    expect((await cache.generateDataKey(ctx)).encryptedKey).not.toBe(first.encryptedKey);
  });

  it('counts plaintext bytes from the hint against maxBytes, and serves an oversized request with a key used once', async () => {
    const inner = new RecordingKeyring();
    const cache = new CachingKeyring(inner, { maxBytes: 100 });
    const a = await cache.generateDataKey(ctx, { plaintextBytes: 60 });
    const b = await cache.generateDataKey(ctx, { plaintextBytes: 40 });
    expect(b.encryptedKey).toBe(a.encryptedKey);
    const c = await cache.generateDataKey(ctx, { plaintextBytes: 1 });
    expect(c.encryptedKey).not.toBe(a.encryptedKey);
    const big = await cache.generateDataKey(ctx, { plaintextBytes: 101 });
    expect(big.encryptedKey).not.toBe(c.encryptedKey);
    expect(cache.stats().bypasses).toBe(1);
    expect((await cache.generateDataKey(ctx, { plaintextBytes: 1 })).encryptedKey).toBe(c.encryptedKey);
  });

  it('never lets one key exceed 2^32 AES-GCM encryptions, whatever maxUses says', async () => {
    const cache = new CachingKeyring(new RecordingKeyring(), {
      maxUses: GCM_ENCRYPTION_LIMIT,
      maxBytes: Number.MAX_SAFE_INTEGER,
    });
    const half = GCM_ENCRYPTION_LIMIT / 2;
    const a = await cache.generateDataKey(ctx, { encryptions: half });
    const b = await cache.generateDataKey(ctx, { encryptions: half });
    const c = await cache.generateDataKey(ctx, { encryptions: 1 });
    expect(b.encryptedKey).toBe(a.encryptedKey);
    expect(c.encryptedKey).not.toBe(a.encryptedKey);
    expect(cache.stats().evictions.gcmLimit).toBe(1);
  });

  it('zero-fills a retired key on the next turn, and refuses to derive from it afterwards', async () => {
    const cache = new CachingKeyring(new RecordingKeyring(), { maxUses: 1 });
    const material = await cache.generateDataKey(ctx);
    const copy = Uint8Array.from(material.plaintextKey);
    expect(deriveDataKey(material.plaintextKey).encryptionKey.length).toBe(32); // usable in this turn
    await nextTurn();
    expect(material.plaintextKey.every((b) => b === 0)).toBe(true);
    expect(copy.some((b) => b !== 0)).toBe(true);
    expect(() => deriveDataKey(material.plaintextKey)).toThrow(KeyringError);
  });
});

describe('CachingKeyring decrypt side', () => {
  it('serves repeated unwraps of one data key with one keyring call, until decryptMaxAge', async () => {
    const clock = new FakeClock();
    const inner = new RecordingKeyring(clock.now);
    const material = await inner.inner.generateDataKey(ctx);
    const cache = new CachingKeyring(inner, { decryptMaxAge: 500, now: clock.now });
    const keys = await Promise.all(
      Array.from({ length: 20 }, () => cache.decryptDataKey(material.encryptedKey, ctx)),
    );
    expect(inner.decrypts).toBe(1);
    expect(Buffer.from(keys[0] as Uint8Array).equals(Buffer.from(material.plaintextKey))).toBe(true);
    clock.advance(500);
    await cache.decryptDataKey(material.encryptedKey, ctx);
    expect(inner.decrypts).toBe(2);
  });

  it('never answers a different context from the cache', async () => {
    const inner = new RecordingKeyring();
    const cache = new CachingKeyring(inner);
    const material = await cache.generateDataKey(ctx);
    await expect(
      cache.decryptDataKey(material.encryptedKey, { 'fieldseal:table': 'Post' }),
    ).rejects.toMatchObject({ code: 'unwrap-failed' });
  });

  it('lets reads of a key it just generated skip the keyring', async () => {
    const inner = new RecordingKeyring();
    const cache = new CachingKeyring(inner);
    const material = await cache.generateDataKey(ctx);
    await cache.decryptDataKey(material.encryptedKey, ctx);
    expect(inner.decrypts).toBe(0);
  });

  it('evicts least recently used keys beyond capacity and zero-fills them', async () => {
    const inner = new RecordingKeyring();
    const cache = new CachingKeyring(inner, { capacity: 2 });
    const wrapped = await Promise.all([1, 2, 3].map(() => inner.inner.generateDataKey(ctx)));
    const first = await cache.decryptDataKey(wrapped[0]!.encryptedKey, ctx);
    await cache.decryptDataKey(wrapped[1]!.encryptedKey, ctx);
    await cache.decryptDataKey(wrapped[2]!.encryptedKey, ctx);
    expect(cache.stats().evictions.capacity).toBe(1);
    await nextTurn();
    expect(first.every((b) => b === 0)).toBe(true);
  });
});

describe('CachingKeyring expiry without traffic', () => {
  it('purgeExpired drops and zero-fills keys past their age on both sides', async () => {
    const clock = new FakeClock();
    const cache = new CachingKeyring(new RecordingKeyring(clock.now), { maxAge: 100, now: clock.now });
    const material = await cache.generateDataKey(ctx);
    const unwrapped = await cache.decryptDataKey(material.encryptedKey, ctx);
    expect(cache.stats().size).toEqual({ encrypt: 1, decrypt: 1 });
    clock.advance(100);
    cache.purgeExpired();
    expect(cache.stats().size).toEqual({ encrypt: 0, decrypt: 0 });
    expect(cache.stats().evictions.maxAge).toBe(2);
    await nextTurn();
    expect(material.plaintextKey.every((b) => b === 0) && unwrapped.every((b) => b === 0)).toBe(true);
  });

  it('close() wipes every key and the cache keeps working afterwards', async () => {
    const inner = new RecordingKeyring();
    const cache = new CachingKeyring(inner, { maxAge: 50 });
    const first = await cache.generateDataKey(ctx);
    cache.close();
    await nextTurn();
    expect(first.plaintextKey.every((b) => b === 0)).toBe(true);
    const second = await cache.generateDataKey(ctx);
    expect(second.encryptedKey).not.toBe(first.encryptedKey);
    expect(cache.stats().evictions.cleared).toBe(2);
  });
});

describe('CachingKeyring observability and hygiene', () => {
  it('reports hits, misses, keyring calls with durations and evictions to onEvent', async () => {
    const events: CacheEvent[] = [];
    const cache = new CachingKeyring(new RecordingKeyring(), { maxUses: 2, onEvent: (e) => events.push(e) });
    await cache.generateDataKey(ctx);
    await cache.generateDataKey(ctx);
    expect(events.map((e) => e.type)).toEqual(['miss', 'keyring-call', 'hit', 'eviction']);
    const call = events.find((e) => e.type === 'keyring-call');
    expect(call).toMatchObject({ side: 'encrypt', ok: true });
    expect(events.at(-1)).toMatchObject({ type: 'eviction', reason: 'maxUses' });
  });

  it('counts every request once: hits + misses + coalesced = requests, on both sides', async () => {
    const inner = new RecordingKeyring();
    inner.delayMs = 2;
    const counted = new Map<string, number>();
    const cache = new CachingKeyring(inner, {
      maxUses: 7,
      onEvent: (e) => counted.set(e.type, (counted.get(e.type) ?? 0) + 1),
    });
    let requests = 0;
    for (let round = 0; round < 5; round++) {
      const batch = await Promise.all(Array.from({ length: 20 }, () => cache.generateDataKey(ctx)));
      requests += batch.length;
      await Promise.all(batch.map((m) => cache.decryptDataKey(m.encryptedKey, ctx)));
      requests += batch.length;
    }
    cache.clear();
    const keys = await Promise.all(Array.from({ length: 10 }, () => cache.generateDataKey(ctx)));
    requests += keys.length;
    const fresh = new CachingKeyring(inner);
    await Promise.all(keys.map((m) => fresh.decryptDataKey(m.encryptedKey, ctx)));
    const a = cache.stats();
    const b = fresh.stats();
    expect(a.hits + a.misses + a.coalesced).toBe(requests);
    // The events tell the same story as the counters.
    expect([counted.get('hit'), counted.get('miss'), counted.get('coalesced') ?? 0]).toEqual([
      a.hits,
      a.misses,
      a.coalesced,
    ]);
    expect(b.hits + b.misses + b.coalesced).toBe(keys.length);
    expect(b.misses).toBe(b.keyringCalls.decrypt);
  });

  it('every event names the encryption context of its key, so metrics can be split per table', async () => {
    const events: CacheEvent[] = [];
    const cache = new CachingKeyring(new RecordingKeyring(), { maxUses: 1, onEvent: (e) => events.push(e) });
    const post = { 'fieldseal:table': 'Post' };
    const a = await cache.generateDataKey(ctx);
    await cache.generateDataKey(post);
    await cache.decryptDataKey(a.encryptedKey, ctx);
    cache.clear();
    expect(events.length).toBeGreaterThan(6);
    for (const event of events) expect([ctx, post]).toContainEqual(event.context);
    const tables = new Set(events.map((e) => `${e.type}:${e.context['fieldseal:table']}`));
    for (const expected of [
      'miss:User',
      'keyring-call:User',
      'miss:Post',
      'hit:User',
      'eviction:User',
      'eviction:Post',
    ])
      expect(tables).toContain(expected);
  });

  it('never shows key bytes in inspect or JSON', async () => {
    const cache = new CachingKeyring(new RecordingKeyring());
    const material = await cache.generateDataKey(ctx);
    const secretB64 = Buffer.from(material.plaintextKey).toString('base64');
    const secretHex = Buffer.from(material.plaintextKey).toString('hex');
    for (const text of [inspect(cache, { depth: 10, showHidden: true }), JSON.stringify(cache)]) {
      expect(text).not.toContain(secretB64);
      expect(text).not.toContain(secretHex);
      expect(text).toContain('CachingKeyring');
    }
  });

  it('works under a RowEnvelope: 1,000 rows, one data key, all decrypt', async () => {
    const inner = new RecordingKeyring();
    const envelope = new RowEnvelope({ keyring: new CachingKeyring(inner) });
    const rows = await Promise.all(
      Array.from({ length: 1000 }, (_, i) =>
        envelope.encryptRow({ table: 'User', values: { email: `u${i}@example.com` } }),
      ),
    );
    expect(inner.generated).toHaveLength(1);
    const back = await Promise.all(
      rows.map((r) => envelope.decryptRow({ table: 'User', values: r.values, dataKey: r.dataKey })),
    );
    expect(back.map((r) => r.email)).toEqual(rows.map((_, i) => `u${i}@example.com`));
  });
});
