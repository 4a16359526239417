import { ConfigError } from '@fieldseal/core';
import type { CacheEvent } from './events.js';

/**
 * NIST SP 800-38D: with random 96-bit IVs, at most 2^32 AES-GCM encryptions under one key.
 * Enforced for every cached data key whatever the options say.
 */
export const GCM_ENCRYPTION_LIMIT = 2 ** 32;

/** Options of {@link CachingKeyring}. Every bound applies to each data key separately. */
export interface CachingKeyringOptions {
  /** Milliseconds a data key may be used (encrypt side) or kept (decrypt side) after it was made or unwrapped. Defaults to 300,000 (5 minutes). */
  readonly maxAge?: number;
  /** Rows (calls to `generateDataKey`) one data key may encrypt; at most 2^32. Defaults to 10,000. */
  readonly maxUses?: number;
  /** Plaintext bytes one data key may encrypt, counted from each call's hint. Defaults to 2^40 (1 TiB). */
  readonly maxBytes?: number;
  /** Most entries kept on each side (encrypt partitions, unwrapped keys); least recently used go first. Defaults to 1,000. */
  readonly capacity?: number;
  /** Milliseconds an unwrapped data key stays cached for decryption. Defaults to `maxAge`. */
  readonly decryptMaxAge?: number;
  /**
   * Milliseconds an unwrapped (decrypt-side) data key may outlive `decryptMaxAge` while the
   * wrapped keyring is unreachable: past `decryptMaxAge` the cache still asks the keyring first,
   * and serves the stale key only when that call fails with a `KeyringError` of code
   * `unavailable` or `throttled` (never on `access-denied`, `invalid-ciphertext`, a disabled key
   * or any other refusal, which evict the key at once). Encrypt-side keys never get a grace
   * period. Each stale key served is counted in `stats().staleServed` and reported as a `stale`
   * event. A trade-off: reads survive a KMS outage of up to this long, and a plaintext data key
   * stays in memory up to `decryptMaxAge + decryptGracePeriod`. Defaults to 0 (off).
   */
  readonly decryptGracePeriod?: number;
  /**
   * Receives every hit, miss, keyring call and eviction, e.g. to feed metrics. Should not throw:
   * if it does, the error is ignored and counted (`stats().hookErrors`), and the cache works on
   * (evicted keys are still wiped).
   */
  readonly onEvent?: (event: CacheEvent) => void;
  /** Milliseconds clock; tests inject a fake one. Defaults to `Date.now`. */
  readonly now?: () => number;
}

/** Options with defaults applied and every value checked. */
export type ResolvedOptions = Required<Omit<CachingKeyringOptions, 'onEvent'>> & {
  readonly onEvent: CachingKeyringOptions['onEvent'] | undefined;
};

/** A value for an error message: numbers as they are, anything else by its type (never converted). */
function describe(value: unknown): string {
  return typeof value === 'number' ? String(value) : value === null ? 'null' : typeof value;
}

function positive(
  name: string,
  value: number | undefined,
  fallback: number,
  { integer = false, max = Number.MAX_SAFE_INTEGER } = {},
): number {
  if (value === undefined) return fallback;
  if (
    typeof value !== 'number' ||
    Number.isNaN(value) ||
    value <= 0 ||
    (integer && !Number.isInteger(value))
  ) {
    throw new ConfigError(
      name,
      `must be a positive ${integer ? 'whole ' : ''}number, got ${describe(value)}`,
    );
  }
  if (value > max) throw new ConfigError(name, `must be at most ${max}`);
  return value;
}

function nonNegativeFinite(name: string, value: number | undefined): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ConfigError(
      name,
      `must be a finite number of milliseconds >= 0 (0 turns it off), got ${describe(value)}`,
    );
  }
  return value;
}

/** Applies defaults and validates; throws `ConfigError` naming the option. */
export function resolveOptions(options: CachingKeyringOptions | null = {}): ResolvedOptions {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new ConfigError('options', 'must be an object of CachingKeyring options');
  }
  for (const name of ['onEvent', 'now'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') {
      throw new ConfigError(name, `must be a function, got ${typeof options[name]}`);
    }
  }
  if (typeof options.maxUses === 'number' && options.maxUses > GCM_ENCRYPTION_LIMIT) {
    throw new ConfigError(
      'maxUses',
      `must be at most 2^32 (${GCM_ENCRYPTION_LIMIT}): AES-GCM with random IVs allows no more encryptions under one key (NIST SP 800-38D)`,
    );
  }
  const maxAge = positive('maxAge', options.maxAge, 300_000);
  return {
    maxAge,
    maxUses: positive('maxUses', options.maxUses, 10_000, { integer: true }),
    maxBytes: positive('maxBytes', options.maxBytes, 2 ** 40, { integer: true }),
    capacity: positive('capacity', options.capacity, 1_000, { integer: true, max: 10_000_000 }),
    decryptMaxAge: positive('decryptMaxAge', options.decryptMaxAge, maxAge),
    decryptGracePeriod: nonNegativeFinite('decryptGracePeriod', options.decryptGracePeriod),
    now: options.now ?? Date.now,
    onEvent: options.onEvent,
  };
}
