import type { EncryptionContext } from '@fieldseal/core';

/** Why a data key left the cache. */
export type EvictionReason = 'maxAge' | 'maxUses' | 'maxBytes' | 'gcmLimit' | 'capacity' | 'cleared';

/** Which side of the cache an event concerns. */
export type CacheSide = 'encrypt' | 'decrypt';

/**
 * One thing the cache did; delivered to `onEvent`. Never carries key bytes. `context` is the
 * encryption context of the key concerned (not secret: KMS logs it too), so metrics can be
 * split per table (`context['fieldseal:table']`) or per application.
 */
export type CacheEvent = (
  | { readonly type: 'hit'; readonly side: CacheSide }
  | { readonly type: 'miss'; readonly side: CacheSide }
  /** The request waited for another request's keyring call for the same key (no call of its own). */
  | { readonly type: 'coalesced'; readonly side: CacheSide }
  | {
      readonly type: 'keyring-call';
      readonly side: CacheSide;
      readonly durationMs: number;
      readonly ok: boolean;
    }
  | { readonly type: 'eviction'; readonly side: CacheSide; readonly reason: EvictionReason }
  /**
   * A key made for this request alone, never cached: the request was too large for any cached
   * key (`maxBytes`, `gcmLimit`), or asked for a long-lived key such as a blind-index key (`longLived`).
   */
  | {
      readonly type: 'bypass';
      readonly side: 'encrypt';
      readonly reason: 'maxBytes' | 'gcmLimit' | 'longLived';
    }
  | {
      readonly type: 'stale';
      readonly side: 'decrypt';
      readonly ageMs: number;
      readonly reason: 'unavailable' | 'throttled';
    }
) & { readonly context: EncryptionContext };

/** Counters since the cache was made. */
export interface CacheStats {
  /**
   * Requests served from the cache on first look. Every request counts once, as a hit, a miss
   * or coalesced, so `hits / (hits + misses + coalesced)` is the hit ratio.
   */
  readonly hits: number;
  /** Requests that found no usable key and made the keyring call. */
  readonly misses: number;
  /** Calls made to the wrapped keyring, per side. Coalesced misses count once. */
  readonly keyringCalls: { readonly generate: number; readonly decrypt: number };
  /** Requests that waited on another caller's keyring call instead of making their own. */
  readonly coalesced: number;
  /** Requests served by a key used once, never cached: too large for any cached key, or long-lived keys. */
  readonly bypasses: number;
  /** Times `onEvent` threw; each was ignored (reported once as a process warning). */
  readonly hookErrors: number;
  /** Reads served an expired decrypt-side key within `decryptGracePeriod` while the keyring was unreachable. */
  readonly staleServed: number;
  readonly evictions: Readonly<Record<EvictionReason, number>>;
  /** Entries held now, per side. */
  readonly size: { readonly encrypt: number; readonly decrypt: number };
}

/** Mutable counters behind {@link CacheStats}. */
export class StatsCounter {
  hits = 0;
  misses = 0;
  generate = 0;
  decrypt = 0;
  coalesced = 0;
  bypasses = 0;
  staleServed = 0;
  hookErrors = 0;
  readonly evictions: Record<EvictionReason, number> = {
    maxAge: 0,
    maxUses: 0,
    maxBytes: 0,
    gcmLimit: 0,
    capacity: 0,
    cleared: 0,
  };

  snapshot(size: { encrypt: number; decrypt: number }): CacheStats {
    return {
      hits: this.hits,
      misses: this.misses,
      keyringCalls: { generate: this.generate, decrypt: this.decrypt },
      coalesced: this.coalesced,
      bypasses: this.bypasses,
      staleServed: this.staleServed,
      hookErrors: this.hookErrors,
      evictions: { ...this.evictions },
      size,
    };
  }
}
