import { wrappedPartOf } from '@fieldseal/core';
import type { KmsCounts } from '../kms-env.js';
import type { RowValues } from '../rows.js';
import type { CacheSetting } from '../settings.js';

/** Where rows go: the core envelope, an ORM adapter, or a peer. */
export type TargetName = 'core' | 'prisma' | 'typeorm' | 'plain-prisma' | 'plain-typeorm' | 'esdk';

/** Cache counters of a run, when a `CachingKeyring` (or the ESDK's cache) was in front of KMS. */
export interface CacheCounts {
  readonly hits: number;
  readonly misses: number;
  readonly coalesced: number;
  readonly evictions: Readonly<Record<string, number>>;
}

/** One open connection of a target, with one cache setting. */
export interface TargetSession {
  /** Writes one row (encrypting it, unless the target is plain); returns its id. */
  insert(values: RowValues): Promise<number>;
  /** Reads one row back, decrypted. */
  read(id: number): Promise<RowValues>;
  /** What KMS saw since the session opened. */
  counts(): KmsCounts;
  /** Cache counters, when there is a cache. */
  cacheCounts(): CacheCounts | undefined;
  close(): Promise<void>;
}

/** A place rows are written to and read from, opened once per setting. */
export interface BenchTarget {
  readonly name: TargetName;
  /** A human name for tables: `Prisma 7.10 + fieldseal`, … */
  readonly title: string;
  /** False for the plain-ORM peers: no encryption, no KMS. */
  readonly encrypted: boolean;
  open(setting: CacheSetting): Promise<TargetSession>;
  /** Highest id written so far (0 when empty). */
  lastId(): Promise<number>;
  /**
   * Rows per distinct data key among rows with id > `afterId`, counted from the stored data-key
   * column; `undefined` when the target has none (plain peers, the ESDK).
   */
  rowsPerKey(afterId: number): Promise<number[] | undefined>;
  dispose(): Promise<void>;
}

/** Counts of a session that never calls KMS. */
export const NO_KMS: KmsCounts = Object.freeze({
  requests: 0,
  throttledByServer: 0,
  throttles: 0,
  retries: 0,
  failedCalls: 0,
});

/** Tallies equal strings: rows per data key from a list of data-key column values. */
export function tally(values: Iterable<string | null>): number[] {
  const counts = new Map<string, number>();
  for (const value of values) {
    if (value === null) continue;
    // Format v2 columns differ per row (the row salt); rows share a data key when the wrapped part does.
    const key = value.startsWith('fsk') ? wrappedPartOf(value) : value;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts.values()];
}
