import { ConfigError } from '@fieldseal/core';

/** The cache bounds a run varies; the other `CachingKeyring` options keep their defaults. */
export interface CacheBounds {
  /** Rows one data key may encrypt. */
  readonly maxUses: number;
  /** Milliseconds a data key may encrypt (and stay cached for reads). */
  readonly maxAge: number;
  /** Entries per side of the cache. */
  readonly capacity: number;
}

/** One point of the grid: a cache configuration, or no cache at all. */
export interface CacheSetting {
  /** Short name used in tables, charts and `--setting`, e.g. `off` or `10k uses · 5m · 1k`. */
  readonly label: string;
  /** `false`: the KMS keyring is used directly, one KMS call per row written or read. */
  readonly cache: CacheBounds | false;
}

/** `CachingKeyring`'s own defaults (see packages/cache/src/options.ts). */
export const CACHE_DEFAULTS: CacheBounds = Object.freeze({
  maxUses: 10_000,
  maxAge: 300_000,
  capacity: 1_000,
});

/**
 * The starting points docs/cache-tuning.md recommends; `oltp` is the setting the bench checks
 * against "cache off" on the encrypt-heavy workload (≥ 50× the throughput, ≤ 1 KMS call per
 * 1,000 rows).
 */
export const GUIDE_SETTINGS = Object.freeze({
  oltp: Object.freeze({ maxUses: 10_000, maxAge: 60_000, capacity: 1_000 }),
  bulk: Object.freeze({ maxUses: 100_000, maxAge: 300_000, capacity: 100 }),
  readMostly: Object.freeze({ maxUses: 10_000, maxAge: 300_000, capacity: 10_000 }),
});

/** The setting with no cache. */
export const CACHE_OFF: CacheSetting = Object.freeze({ label: 'off', cache: false });

/** A setting for these bounds, labelled for tables and charts. */
export function cacheSetting(bounds: Partial<CacheBounds> = {}): CacheSetting {
  const cache = { ...CACHE_DEFAULTS, ...bounds };
  for (const [name, value] of Object.entries(cache)) {
    if (!Number.isInteger(value) || value <= 0)
      throw new ConfigError(name, `must be a positive whole number, got ${String(value)}`);
  }
  return Object.freeze({
    label: `${count(cache.maxUses)} uses · ${duration(cache.maxAge)} · cap ${count(cache.capacity)}`,
    cache: Object.freeze(cache),
  });
}

/**
 * Parses `off`, or comma-separated `maxUses=…,maxAge=…,capacity=…` (any subset; `k`/`m` suffixes
 * for counts, `ms`/`s`/`m` for ages; the rest default as in `CachingKeyring`).
 */
export function parseSetting(spec: string): CacheSetting {
  const text = spec.trim();
  if (text === 'off' || text === 'none') return CACHE_OFF;
  const bounds: Record<string, number> = {};
  for (const part of text.split(',')) {
    const [name, value] = part.split('=').map((piece) => piece.trim());
    if (name !== 'maxUses' && name !== 'maxAge' && name !== 'capacity')
      throw new ConfigError('setting', `"${spec}": expected off or maxUses=…,maxAge=…,capacity=…`);
    bounds[name] = name === 'maxAge' ? parseDuration(value ?? '', name) : parseCount(value ?? '', name);
  }
  return cacheSetting(bounds);
}

/** Every combination of the given bounds (defaults where a list is absent), after `off`. */
export function settingsGrid(lists: {
  readonly maxUses?: readonly number[];
  readonly maxAge?: readonly number[];
  readonly capacity?: readonly number[];
}): CacheSetting[] {
  const grid: CacheSetting[] = [CACHE_OFF];
  for (const maxUses of lists.maxUses ?? [CACHE_DEFAULTS.maxUses])
    for (const maxAge of lists.maxAge ?? [CACHE_DEFAULTS.maxAge])
      for (const capacity of lists.capacity ?? [CACHE_DEFAULTS.capacity])
        grid.push(cacheSetting({ maxUses, maxAge, capacity }));
  return grid;
}

/**
 * The default grid: cache off, the defaults, the guide's starting points, and one bound varied
 * at a time around the defaults (so each bar shows what that one bound does).
 */
export function defaultGrid(): CacheSetting[] {
  const settings = [
    CACHE_OFF,
    cacheSetting({ maxUses: 10 }),
    cacheSetting({ maxUses: 100 }),
    cacheSetting({ maxUses: 1_000 }),
    cacheSetting(GUIDE_SETTINGS.oltp),
    cacheSetting(CACHE_DEFAULTS),
    cacheSetting(GUIDE_SETTINGS.bulk),
    cacheSetting({ maxAge: 100 }),
    cacheSetting({ maxAge: 1_000 }),
    cacheSetting({ capacity: 10 }),
    cacheSetting({ capacity: 100 }),
    cacheSetting(GUIDE_SETTINGS.readMostly),
  ];
  return settings.filter((setting, index) => settings.findIndex((s) => s.label === setting.label) === index);
}

/** `12`, `1k`, `10k`, `1.5M`. */
export function count(value: number): string {
  if (value >= 1_000_000 && value % 100_000 === 0) return `${value / 1_000_000}M`;
  if (value >= 1_000 && value % 100 === 0) return `${value / 1_000}k`;
  return String(value);
}

/** `100ms`, `1s`, `5m`, `1h`. */
export function duration(ms: number): string {
  if (ms >= 3_600_000 && ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms >= 1_000 && ms % 1_000 === 0) return `${ms / 1_000}s`;
  return `${ms}ms`;
}

/** Parses `100`, `10k`, `1M` (a positive whole number). */
export function parseCount(text: string, option: string): number {
  const match = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(text.trim());
  const value = match ? Number(match[1]) * ({ k: 1e3, m: 1e6 }[match[2]!.toLowerCase()] ?? 1) : Number.NaN;
  if (!Number.isInteger(value) || value <= 0)
    throw new ConfigError(option, `must be a positive whole number such as 100, 10k or 1M, got "${text}"`);
  return value;
}

/** Parses `250ms`, `1s`, `5m`, `1h`, or a bare number of milliseconds. */
export function parseDuration(text: string, option: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[match?.[2] ?? 'ms'] ?? 1;
  const value = match ? Number(match[1]) * unit : Number.NaN;
  if (!Number.isInteger(value) || value <= 0)
    throw new ConfigError(option, `must be a duration such as 250ms, 1s or 5m, got "${text}"`);
  return value;
}
