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
  /** Receives every hit, miss, keyring call and eviction, e.g. to feed metrics. Must not throw. */
  readonly onEvent?: (event: CacheEvent) => void;
  /** Milliseconds clock; tests inject a fake one. Defaults to `Date.now`. */
  readonly now?: () => number;
}

/** Options with defaults applied and every value checked. */
export type ResolvedOptions = Required<Omit<CachingKeyringOptions, 'onEvent'>> &
  Pick<CachingKeyringOptions, 'onEvent'>;

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
    throw new ConfigError(name, `must be a positive ${integer ? 'whole ' : ''}number, got ${String(value)}`);
  }
  if (value > max) throw new ConfigError(name, `must be at most ${max}`);
  return value;
}

/** Applies defaults and validates; throws `ConfigError` naming the option. */
export function resolveOptions(options: CachingKeyringOptions = {}): ResolvedOptions {
  if (options.maxUses !== undefined && options.maxUses > GCM_ENCRYPTION_LIMIT) {
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
    now: options.now ?? Date.now,
    onEvent: options.onEvent,
  };
}
