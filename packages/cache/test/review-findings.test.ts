/**
 * Findings 1–4 of the external security review (issue 19) that concern the cache: partitions by
 * context content, fresh blind-index keys, isolated event hooks, errors recognised by brand.
 */
import { inspect } from 'node:util';
import { BLIND_INDEX_CONTEXT, BlindIndex, type Keyring, KeyringError, parseDataKey } from '@fieldseal/core';
import { describe, expect, it } from 'vitest';
import { CachingKeyring } from '../src/index.js';
import { FakeClock, nextTurn, RecordingKeyring } from './helpers.js';

const differ = (a: Uint8Array, b: Uint8Array) => !Buffer.from(a).equals(Buffer.from(b));

describe('finding 1: the cache partitions by the context content, not the context object', () => {
  it('a context object changed after its first use gets the key of its new content, not the old one', async () => {
    const inner = new RecordingKeyring();
    const cache = new CachingKeyring(inner);
    const context: Record<string, string> = { 'fieldseal:table': 'A' };
    const forA = await cache.generateDataKey(context);
    context['fieldseal:table'] = 'B';
    const forB = await cache.generateDataKey(context);
    expect(inner.generated).toHaveLength(2);
    expect(differ(forA.plaintextKey, forB.plaintextKey)).toBe(true);
    // B's key is really bound to B; A's key does not open under B's context.
    await expect(inner.inner.decryptDataKey(forB.encryptedKey, { 'fieldseal:table': 'B' })).resolves.toEqual(
      Buffer.from(forB.plaintextKey),
    );
    await expect(cache.decryptDataKey(forA.encryptedKey, context)).rejects.toThrow(KeyringError);
  });

  it('two distinct objects with equal content share one partition', async () => {
    const inner = new RecordingKeyring();
    const cache = new CachingKeyring(inner);
    const a = await cache.generateDataKey({ 'fieldseal:table': 'T', app: 'x' });
    const b = await cache.generateDataKey({ app: 'x', 'fieldseal:table': 'T' });
    expect(b.encryptedKey).toBe(a.encryptedKey);
    expect(inner.generated).toHaveLength(1);
  });

  it('a wrapped-key array changed after a first read is unwrapped afresh, not served the old plaintext', async () => {
    const inner = new RecordingKeyring();
    const cache = new CachingKeyring(inner);
    const ctx = { 'fieldseal:table': 'T' };
    const one = await inner.inner.generateDataKey(ctx);
    const two = await inner.inner.generateDataKey(ctx);
    const wrapped = Uint8Array.from(one.encryptedKey);
    expect(Buffer.from(await cache.decryptDataKey(wrapped, ctx))).toEqual(Buffer.from(one.plaintextKey));
    wrapped.set(two.encryptedKey);
    expect(Buffer.from(await cache.decryptDataKey(wrapped, ctx))).toEqual(Buffer.from(two.plaintextKey));
    expect(inner.decrypts).toBe(2);
  });
});

describe('finding 2: long-lived keys are never served from or put in the cache', () => {
  it('BlindIndex.generateKey through a CachingKeyring returns a new key on every call', async () => {
    const inner = new RecordingKeyring();
    const cache = new CachingKeyring(inner);
    const first = await BlindIndex.generateKey(cache);
    const second = await BlindIndex.generateKey(cache);
    expect(first).not.toBe(second);
    const keys = [first, second].map((text) => parseDataKey(text, { table: 'x' }).encryptedKey);
    const plain = await Promise.all(keys.map((k) => inner.decryptDataKey(k, BLIND_INDEX_CONTEXT)));
    expect(differ(plain[0] as Uint8Array, plain[1] as Uint8Array)).toBe(true);
    expect(cache.stats()).toMatchObject({ bypasses: 2, size: { encrypt: 0, decrypt: 0 } });
  });

  it('without the hint (a caller built on an older core), the blind-index purpose alone bypasses the cache', async () => {
    const cache = new CachingKeyring(new RecordingKeyring());
    const a = await cache.generateDataKey(BLIND_INDEX_CONTEXT);
    const b = await cache.generateDataKey({ ...BLIND_INDEX_CONTEXT });
    expect(differ(a.plaintextKey, b.plaintextKey)).toBe(true);
    // Nor is a long-lived key ever wiped by the cache: it was never the cache's.
    await nextTurn();
    expect(a.plaintextKey.some((byte) => byte !== 0)).toBe(true);
  });

  it('the longLived hint bypasses for any context, and a data key for a row still comes from the cache', async () => {
    const inner = new RecordingKeyring();
    const cache = new CachingKeyring(inner);
    const ctx = { 'fieldseal:table': 'T' };
    const rowKey = await cache.generateDataKey(ctx);
    const longLived = await cache.generateDataKey(ctx, { longLived: true });
    expect(longLived.encryptedKey).not.toBe(rowKey.encryptedKey);
    expect((await cache.generateDataKey(ctx)).encryptedKey).toBe(rowKey.encryptedKey);
  });
});

describe('finding 3: a throwing onEvent hook does not touch the key lifecycle', () => {
  it('evicted keys are still wiped, later writes and reads work, and the errors are counted', async () => {
    const clock = new FakeClock();
    const inner = new RecordingKeyring(clock.now);
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const cache = new CachingKeyring(inner, {
        maxUses: 1,
        now: clock.now,
        onEvent: () => {
          throw new Error('metrics backend down');
        },
      });
      const ctx = { 'fieldseal:table': 'T' };
      const materials = [];
      for (let i = 0; i < 5; i++) materials.push(await cache.generateDataKey(ctx));
      expect(new Set(materials.map((m) => m.encryptedKey)).size).toBe(5);
      const last = materials[4];
      expect(Buffer.from(await cache.decryptDataKey(last?.encryptedKey as Uint8Array, ctx))).toEqual(
        Buffer.from(last?.plaintextKey as Uint8Array),
      );
      cache.clear();
      await nextTurn();
      for (const m of materials) expect(m.plaintextKey.every((byte) => byte === 0)).toBe(true);
      expect(cache.stats().hookErrors).toBeGreaterThan(10);
      await cache.generateDataKey(ctx);
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(warnings.filter((w) => w.includes('onEvent threw'))).toHaveLength(1);
    } finally {
      process.off('warning', onWarning);
    }
  });
});

describe('finding 4: materials and errors', () => {
  it('a material served by the cache does not show its plaintext key to inspect or JSON.stringify, even from a keyring returning a plain object', async () => {
    const local = new RecordingKeyring().inner;
    const plainObjects: Keyring = {
      name: 'plain',
      generateDataKey: async (context) => ({ ...(await local.generateDataKey(context)) }),
      decryptDataKey: (key, context) => local.decryptDataKey(key, context),
    };
    const cache = new CachingKeyring(plainObjects);
    const material = await cache.generateDataKey({ 'fieldseal:table': 'T' });
    const hex = Buffer.from(material.plaintextKey).toString('hex');
    const base64 = Buffer.from(material.plaintextKey).toString('base64');
    for (const text of [
      inspect(material, { showHidden: true }),
      JSON.stringify(material),
      inspect([material]),
    ]) {
      expect(text).not.toContain(hex.slice(0, 12));
      expect(text).not.toContain(base64.slice(0, 12));
      expect(text.replace(/\s+/g, ' ')).not.toMatch(/plaintextKey: (Buffer|Uint8Array)|"plaintextKey":\{/);
    }
  });

  it('a keyring error from another installed copy of core (same brand, another class) is recognised: an outage serves the stale key', async () => {
    const clock = new FakeClock();
    const inner = new RecordingKeyring(clock.now);
    const cache = new CachingKeyring(inner, {
      decryptMaxAge: 1_000,
      decryptGracePeriod: 60_000,
      now: clock.now,
    });
    const ctx = { 'fieldseal:table': 'T' };
    const material = await inner.inner.generateDataKey(ctx);
    await cache.decryptDataKey(material.encryptedKey, ctx);
    const foreign = Object.assign(new Error('KMS endpoint unreachable'), {
      name: 'KeyringError',
      code: 'unavailable',
      [Symbol.for('fieldseal.error')]: true,
    });
    expect(foreign).not.toBeInstanceOf(KeyringError);
    inner.failWith = foreign;
    clock.advance(2_000);
    expect(Buffer.from(await cache.decryptDataKey(material.encryptedKey, ctx))).toEqual(
      Buffer.from(material.plaintextKey),
    );
    expect(cache.stats().staleServed).toBe(1);
  });
});
