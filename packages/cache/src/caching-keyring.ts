import { inspect } from 'node:util';
import {
  BLIND_INDEX_CONTEXT,
  canonicalContext,
  type DataKeyHint,
  type DataKeyMaterial,
  dataKeyMaterial,
  type EncryptionContext,
  isKeyringError,
  type Keyring,
  KeyringError,
  wipeDataKey,
} from '@fieldseal/core';
import { LRUCache } from 'lru-cache';
import {
  type CacheEvent,
  type CacheSide,
  type CacheStats,
  type EvictionReason,
  StatsCounter,
} from './events.js';
import {
  type CachingKeyringOptions,
  GCM_ENCRYPTION_LIMIT,
  type ResolvedOptions,
  resolveOptions,
} from './options.js';

interface EncryptEntry {
  readonly material: DataKeyMaterial;
  readonly context: EncryptionContext;
  readonly createdAt: number;
  uses: number;
  bytes: number;
  encryptions: number;
}

interface DecryptEntry {
  readonly plaintextKey: Uint8Array;
  readonly context: EncryptionContext;
  readonly createdAt: number;
  /** Within the grace period: no new keyring call for this key before this time (ms). */
  retryAt: number;
  /** Why the last refresh failed, while the entry is being served stale. */
  failure: 'unavailable' | 'throttled';
}

/** Pause between refresh attempts of a key served stale (capped by `decryptMaxAge`). */
const STALE_RETRY_MS = 1_000;

/** The context key that marks a long-lived key's purpose (`BlindIndex` sets `blind-index`). */
const PURPOSE_KEY = Object.keys(BLIND_INDEX_CONTEXT)[0] as string;

/**
 * The availability code of a keyring failure, or undefined when it is any other failure.
 * Recognised by core's brand, so a keyring built on another installed copy of core counts too.
 */
function availabilityFailure(error: unknown): 'unavailable' | 'throttled' | undefined {
  if (!isKeyringError(error)) return undefined;
  return error.code === 'unavailable' || error.code === 'throttled' ? error.code : undefined;
}

/**
 * A `Keyring` in front of another one (KMS, local) that reuses data keys within bounds, so
 * the master-key service is called rarely without one data key protecting too much.
 *
 * - Encrypt side: one data key per partition (wrapped keyring × encryption context), reused
 *   until it reaches `maxAge`, `maxUses` rows, `maxBytes` plaintext bytes or 2^32 AES-GCM
 *   encryptions — whichever comes first. The bound is checked *before* each use, so no key
 *   ever exceeds one.
 * - Decrypt side: wrapped key → plaintext key, for `decryptMaxAge`, at most `capacity` entries;
 *   optionally (`decryptGracePeriod`) served stale a while longer when the keyring is unreachable.
 * - Concurrent misses for the same entry make one call to the wrapped keyring.
 * - Keys leaving the cache are zero-filled (on the next turn of the event loop, so a caller
 *   that just received one can still use it synchronously).
 *
 * @example
 * const keyring = new CachingKeyring(new AwsKmsKeyring({ keyId }), { maxAge: 60_000, maxUses: 10_000 });
 */
export class CachingKeyring implements Keyring {
  readonly name: string;
  /** The wrapped keyring. */
  readonly inner: Keyring;
  /** The options in force, defaults applied. */
  readonly options: Readonly<Omit<ResolvedOptions, 'onEvent' | 'now'>>;
  readonly #opts: ResolvedOptions;
  readonly #stats = new StatsCounter();
  readonly #encrypt: LRUCache<string, EncryptEntry>;
  readonly #decrypt: LRUCache<string, DecryptEntry>;
  readonly #pending = new Map<string, Promise<unknown>>();
  #evicting: EvictionReason = 'capacity';
  readonly #purgeTimer: NodeJS.Timeout | undefined;

  constructor(inner: Keyring, options: CachingKeyringOptions = {}) {
    if (!inner || typeof inner.generateDataKey !== 'function' || typeof inner.decryptDataKey !== 'function') {
      throw new KeyringError('not-allowed', 'CachingKeyring needs a Keyring to wrap');
    }
    this.#opts = resolveOptions(options);
    const { now: _now, onEvent: _onEvent, ...visible } = this.#opts;
    this.options = Object.freeze(visible);
    this.inner = inner;
    this.name = inner.name;
    this.#encrypt = new LRUCache({
      max: this.#opts.capacity,
      dispose: (entry) => this.#retire('encrypt', entry.material.plaintextKey, entry.context),
    });
    this.#decrypt = new LRUCache({
      max: this.#opts.capacity,
      dispose: (entry) => this.#retire('decrypt', entry.plaintextKey, entry.context),
    });
    // Expired keys would otherwise stay in memory until looked up again. Unref'd: never keeps
    // the process alive. Not started with an injected clock (tests purge explicitly).
    if (options.now === undefined) {
      const every = Math.max(1_000, Math.min(this.#opts.maxAge, this.#opts.decryptMaxAge, 60_000));
      this.#purgeTimer = setInterval(() => this.purgeExpired(), every).unref();
    }
  }

  /** Stops the background purge and wipes every cached key. The cache stays usable. */
  close(): void {
    if (this.#purgeTimer) clearInterval(this.#purgeTimer);
    this.clear();
  }

  async generateDataKey(context: EncryptionContext, hint: DataKeyHint = {}): Promise<DataKeyMaterial> {
    const bytes = hint.plaintextBytes ?? 0;
    const encryptions = hint.encryptions ?? 1;
    if (!(bytes >= 0) || !(encryptions >= 1) || !Number.isInteger(bytes) || !Number.isInteger(encryptions)) {
      throw new KeyringError('not-allowed', 'Data-key hint must hold non-negative whole numbers');
    }
    const reason = bypassReason(
      context,
      hint,
      bytes > this.#opts.maxBytes,
      encryptions > GCM_ENCRYPTION_LIMIT,
    );
    if (reason) {
      // No cached key could take this request without exceeding a bound, or the key is meant
      // to live on (a blind-index key) and must be new: make a key used once, never cached.
      this.#stats.bypasses++;
      this.#emit({ type: 'bypass', side: 'encrypt', reason, context });
      return this.#call('encrypt', context, () => this.inner.generateDataKey(context, hint)).then(
        dataKeyMaterial,
      );
    }
    const partition = this.#partition(context);
    let waited = false;
    for (;;) {
      const entry = this.#encrypt.get(partition);
      if (entry && this.#admit(partition, entry, bytes, encryptions)) {
        // A request counts once: as a hit only when served on first look (else it was a miss or coalesced).
        if (!waited) {
          this.#stats.hits++;
          this.#emit({ type: 'hit', side: 'encrypt', context });
        }
        // A key with no use left is dropped at once rather than kept until the next request.
        if (entry.uses >= this.#opts.maxUses) this.#evict(this.#encrypt, partition, 'maxUses');
        return entry.material;
      }
      await this.#fetchOnce(partition, 'encrypt', context, waited, () =>
        this.#call('encrypt', context, () => this.inner.generateDataKey(context, hint)).then((material) => {
          checkKey(material.plaintextKey);
          this.#encrypt.set(partition, {
            material: dataKeyMaterial(material),
            context,
            createdAt: this.#opts.now(),
            uses: 0,
            bytes: 0,
            encryptions: 0,
          });
          // Rows written now are often read soon: let reads of this key skip the keyring too.
          this.#decrypt.set(this.#decryptKey(partition, material.encryptedKey), {
            plaintextKey: Uint8Array.from(material.plaintextKey),
            context,
            createdAt: this.#opts.now(),
            retryAt: 0,
            failure: 'unavailable',
          });
        }),
      );
      waited = true;
    }
  }

  async decryptDataKey(encryptedKey: Uint8Array, context: EncryptionContext): Promise<Uint8Array> {
    const key = this.#decryptKey(this.#partition(context), encryptedKey);
    const { decryptMaxAge, decryptGracePeriod } = this.#opts;
    let waited = false;
    for (;;) {
      const entry = this.#decrypt.get(key);
      let stale: DecryptEntry | undefined;
      if (entry) {
        const age = this.#opts.now() - entry.createdAt;
        if (age < decryptMaxAge) {
          if (!waited) {
            this.#stats.hits++;
            this.#emit({ type: 'hit', side: 'decrypt', context });
          }
          return entry.plaintextKey;
        }
        if (age < decryptMaxAge + decryptGracePeriod) stale = entry;
        else this.#evict(this.#decrypt, key, 'maxAge');
      }
      // Within the grace period a recent failed refresh is not retried at once, so an unavailable
      // or throttled KMS is not called again on every read.
      if (stale && stale.retryAt > this.#opts.now()) return this.#serveStale(stale, stale.failure);
      try {
        await this.#fetchOnce(key, 'decrypt', context, waited, () =>
          this.#call('decrypt', context, () => this.inner.decryptDataKey(encryptedKey, context)).then(
            (plaintextKey) => {
              checkKey(plaintextKey);
              if (this.#decrypt.has(key)) this.#evict(this.#decrypt, key, 'maxAge');
              this.#decrypt.set(key, {
                plaintextKey,
                context,
                createdAt: this.#opts.now(),
                retryAt: 0,
                failure: 'unavailable',
              });
            },
            (error: unknown) => {
              this.#afterFailedRefresh(key, error);
              throw error;
            },
          ),
        );
        waited = true;
      } catch (error) {
        const current = this.#decrypt.get(key);
        const reason = availabilityFailure(error);
        if (!current || !reason) throw error;
        const age = this.#opts.now() - current.createdAt;
        if (age < decryptMaxAge) continue; // refreshed by another caller meanwhile
        if (age >= decryptMaxAge + decryptGracePeriod) throw error;
        return this.#serveStale(current, reason);
      }
    }
  }

  /**
   * After the keyring failed to unwrap a key the cache holds past `decryptMaxAge`: an availability
   * failure keeps it for the grace period (and pauses refreshes briefly); any other failure
   * (access denied, invalid ciphertext, disabled key) evicts it, so a revoked key stops working.
   */
  #afterFailedRefresh(key: string, error: unknown): void {
    const entry = this.#decrypt.get(key);
    if (!entry || this.#opts.now() - entry.createdAt < this.#opts.decryptMaxAge) return;
    const reason = availabilityFailure(error);
    if (reason && this.#opts.decryptGracePeriod > 0) {
      entry.failure = reason;
      entry.retryAt = this.#opts.now() + Math.min(STALE_RETRY_MS, this.#opts.decryptMaxAge);
    } else this.#evict(this.#decrypt, key, 'maxAge');
  }

  #serveStale(entry: DecryptEntry, reason: 'unavailable' | 'throttled'): Uint8Array {
    this.#stats.staleServed++;
    this.#emit({
      type: 'stale',
      side: 'decrypt',
      ageMs: this.#opts.now() - entry.createdAt,
      reason,
      context: entry.context,
    });
    return entry.plaintextKey;
  }

  /** Forwards to the wrapped keyring (see `Keyring.keyIdOf`). */
  keyIdOf(encryptedKey: Uint8Array): string | undefined {
    return this.inner.keyIdOf?.(encryptedKey);
  }

  /** Counters since construction. */
  stats(): CacheStats {
    return this.#stats.snapshot({ encrypt: this.#encrypt.size, decrypt: this.#decrypt.size });
  }

  /**
   * Drops entries past `maxAge` (decrypt side: `decryptMaxAge` plus `decryptGracePeriod`) now;
   * they are otherwise dropped when next looked up.
   */
  purgeExpired(): void {
    const now = this.#opts.now();
    for (const [key, entry] of this.#encrypt.entries()) {
      if (now - entry.createdAt >= this.#opts.maxAge) this.#evict(this.#encrypt, key, 'maxAge');
    }
    // Decrypt-side keys are kept through the grace period (0 unless configured).
    const keep = this.#opts.decryptMaxAge + this.#opts.decryptGracePeriod;
    for (const [key, entry] of this.#decrypt.entries()) {
      if (now - entry.createdAt >= keep) this.#evict(this.#decrypt, key, 'maxAge');
    }
  }

  /** Empties the cache, zero-filling every key. */
  clear(): void {
    for (const key of [...this.#encrypt.keys()]) this.#evict(this.#encrypt, key, 'cleared');
    for (const key of [...this.#decrypt.keys()]) this.#evict(this.#decrypt, key, 'cleared');
  }

  /** Takes one use of `entry` if that keeps it within every bound; otherwise evicts it. */
  #admit(partition: string, entry: EncryptEntry, bytes: number, encryptions: number): boolean {
    const o = this.#opts;
    let reason: EvictionReason | undefined;
    if (o.now() - entry.createdAt >= o.maxAge) reason = 'maxAge';
    else if (entry.uses + 1 > o.maxUses) reason = 'maxUses';
    else if (entry.bytes + bytes > o.maxBytes) reason = 'maxBytes';
    else if (entry.encryptions + encryptions > GCM_ENCRYPTION_LIMIT) reason = 'gcmLimit';
    if (reason) {
      this.#evict(this.#encrypt, partition, reason);
      return false;
    }
    entry.uses++;
    entry.bytes += bytes;
    entry.encryptions += encryptions;
    return true;
  }

  #evict(
    cache: LRUCache<string, EncryptEntry> | LRUCache<string, DecryptEntry>,
    key: string,
    reason: EvictionReason,
  ): void {
    this.#evicting = reason;
    try {
      cache.delete(key);
    } finally {
      this.#evicting = 'capacity';
    }
  }

  /** Called by the LRU for every entry leaving it; `#evicting` says why (LRU pressure otherwise). */
  #retire(side: CacheSide, plaintextKey: Uint8Array, context: EncryptionContext): void {
    // Deferred: a caller may have received this key in the current turn and not used it yet.
    // Scheduled before anything else runs, so nothing can skip the wipe.
    setImmediate(() => wipeDataKey(plaintextKey)).unref();
    const reason = this.#evicting;
    this.#stats.evictions[reason]++;
    this.#emit({ type: 'eviction', side, reason, context });
  }

  /**
   * After a miss on `key`: waits for the keyring call already under way for it, or makes one
   * (`load` calls the keyring and stores the result). Waiters share the outcome, failure
   * included: a failing KMS gets one call, not one per waiter. Either way the caller looks the
   * key up again. `retry` is true when the request was here before (a key it waited for was used
   * up meanwhile): each request counts once, as a hit, a miss or coalesced.
   */
  async #fetchOnce(
    key: string,
    side: CacheSide,
    context: EncryptionContext,
    retry: boolean,
    load: () => Promise<void>,
  ): Promise<void> {
    const pending = this.#pending.get(key);
    if (pending) {
      if (!retry) {
        this.#stats.coalesced++;
        this.#emit({ type: 'coalesced', side, context });
      }
      await pending;
      return;
    }
    if (!retry) {
      this.#stats.misses++;
      this.#emit({ type: 'miss', side, context });
    }
    const fetch = load();
    const settled = fetch.finally(() => this.#pending.delete(key));
    settled.catch(() => undefined); // observed by the waiters; never an unhandled rejection
    this.#pending.set(key, settled);
    await fetch;
  }

  async #call<T>(side: CacheSide, context: EncryptionContext, call: () => Promise<T>): Promise<T> {
    if (side === 'encrypt') this.#stats.generate++;
    else this.#stats.decrypt++;
    const started = performance.now();
    try {
      const result = await call();
      this.#emit({ type: 'keyring-call', side, durationMs: performance.now() - started, ok: true, context });
      return result;
    } catch (error) {
      this.#emit({ type: 'keyring-call', side, durationMs: performance.now() - started, ok: false, context });
      throw error;
    }
  }

  /**
   * From the context's content on every call, never memoised by object identity: a context
   * object changed after a first use must not find the key of what it held before.
   */
  #partition(context: EncryptionContext): string {
    return `${this.inner.name}\u0000${canonicalContext(context)}`;
  }

  /** From the wrapped key's bytes on every call (same reason as {@link #partition}). */
  #decryptKey(partition: string, encryptedKey: Uint8Array): string {
    const encoded = Buffer.from(
      encryptedKey.buffer,
      encryptedKey.byteOffset,
      encryptedKey.byteLength,
    ).toString('base64');
    return `${partition}\u0000${encoded}`;
  }

  /**
   * Delivers an event to `onEvent`, isolated from the key lifecycle: a hook that throws is
   * counted (`stats().hookErrors`) and reported once as a process warning; the cache carries on.
   */
  #emit(event: CacheEvent): void {
    const hook = this.#opts.onEvent;
    if (!hook) return;
    try {
      hook(event);
    } catch (error) {
      if (this.#stats.hookErrors++ === 0) {
        process.emitWarning(
          `CachingKeyring onEvent threw (${error instanceof Error ? error.name : typeof error}); its errors are ignored and counted in stats().hookErrors`,
          { code: 'FIELDSEAL_CACHE_HOOK_ERROR' },
        );
      }
    }
  }

  /** Never prints key bytes. */
  toJSON(): object {
    return { type: 'CachingKeyring', inner: this.inner.name, options: this.options, stats: this.stats() };
  }

  [inspect.custom](): string {
    return `CachingKeyring ${inspect({ inner: this.inner.name, options: this.options, stats: this.stats() }, { depth: 3 })}`;
  }
}

/** Why a request must not use a cached key, or undefined when it may. */
function bypassReason(
  context: EncryptionContext,
  hint: DataKeyHint,
  overBytes: boolean,
  overGcm: boolean,
): 'longLived' | 'maxBytes' | 'gcmLimit' | undefined {
  // The purpose check also covers callers built on an older core that sends no hint.
  if (hint.longLived === true || context[PURPOSE_KEY] !== undefined) return 'longLived';
  if (overBytes) return 'maxBytes';
  return overGcm ? 'gcmLimit' : undefined;
}

function checkKey(key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.length !== 32) {
    throw new KeyringError(
      'invalid-key-material',
      'Wrapped keyring returned a data key that is not 32 bytes',
    );
  }
}
