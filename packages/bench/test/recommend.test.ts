import { ConfigError } from '@fieldseal/core';
import { describe, expect, it } from 'vitest';
import { type BenchResult, cacheSetting, recommend, steadyKmsCallsPerSecond } from '../src/index.js';

/** A measured result with only what `recommend` reads set to something meaningful. */
function result(
  spec: string,
  rowsPerSecond: number,
  kmsCallsPerSecond: number,
  extra: Partial<BenchResult> = {},
) {
  const setting =
    spec === 'off'
      ? { label: 'off', cache: false as const }
      : cacheSetting(
          Object.fromEntries(
            spec
              .split(',')
              .map((p) => p.split('='))
              .map(([k, v]) => [k, Number(v)]),
          ),
        );
  return {
    target: 'core',
    workload: 'encrypt',
    setting: setting.label,
    cache: setting.cache,
    encrypted: true,
    rows: 1_000,
    errors: 0,
    firstError: null,
    elapsedMs: 1_000,
    rowsPerSecond,
    writesPerSecond: 0,
    p50Ms: 1,
    p99Ms: 2,
    kmsCalls: kmsCallsPerSecond,
    kmsCallsPer1kRows: (kmsCallsPerSecond * 1000) / rowsPerSecond,
    kmsCallsPerSecond,
    warmKmsCallsPerSecond: kmsCallsPerSecond,
    throttles: 0,
    retries: 0,
    maxRowsPerKey: null,
    dataKeys: null,
    cacheHits: null,
    cacheMisses: null,
    cacheCoalesced: null,
    ...extra,
  } satisfies BenchResult;
}

const results = [
  result('off', 500, 500),
  result('maxUses=100', 8_000, 80),
  result('maxUses=10000', 30_000, 3),
  result('maxUses=1000000', 31_000, 1),
];

describe('recommend', () => {
  it('picks the fastest setting meeting a KMS-call budget and says why the others fail', () => {
    const found = recommend(results, { maxKmsCallsPerSecond: 100 });
    expect(found.best?.setting).toBe(results[3]?.setting);
    expect(found.meeting.map((r) => r.setting)).toEqual(
      [results[3], results[2], results[1]].map((r) => r?.setting),
    );
    expect(found.rejected).toEqual([{ result: results[0], reasons: ['500 KMS calls/s > 100'] }]);
    expect(found.explanation.join('\n')).toContain('1 KMS calls/s once warm');
    expect(found.explanation.join('\n')).toContain('Best: 1M uses');
  });

  it('judges rows per key on the maxUses bound, not on what a run reached', () => {
    const found = recommend(results, { maxKmsCallsPerSecond: 100, maxRowsPerKey: 10_000 });
    expect(found.best?.setting).toBe(results[2]?.setting);
    expect(found.rejected.find((r) => r.result === results[3])?.reasons).toEqual([
      'up to 1M rows per data key > 10k',
    ]);
  });

  it('counts the KMS calls writes need once a key retires, when a short run under-counts them', () => {
    const short = result('maxUses=100', 20_000, 10, { writesPerSecond: 20_000, warmKmsCallsPerSecond: 0 });
    expect(steadyKmsCallsPerSecond(short)).toBe(200);
    expect(recommend([short], { maxKmsCallsPerSecond: 50 }).best).toBeUndefined();
    const aged = result('maxUses=1000000,maxAge=100', 1_000, 0.5, { writesPerSecond: 1_000 });
    expect(steadyKmsCallsPerSecond(aged)).toBe(10);
  });

  it('judges reads on the warm second half of a run, not on the cold misses of its start', () => {
    const reads = result('maxUses=10000', 30_000, 80, { warmKmsCallsPerSecond: 0 });
    expect(steadyKmsCallsPerSecond(reads)).toBe(0);
    expect(recommend([reads], { maxKmsCallsPerSecond: 1 }).best).toBe(reads);
    const off = result('off', 300, 300, { warmKmsCallsPerSecond: 0 });
    expect(steadyKmsCallsPerSecond(off)).toBe(300);
  });

  it('skips settings whose runs had failures, and says so when nothing meets the goal', () => {
    const failing = result('maxUses=10000', 40_000, 1, { errors: 3, firstError: 'throttled' });
    const found = recommend([results[0]!, failing], { maxKmsCallsPerSecond: 10 });
    expect(found.best).toBeUndefined();
    expect(found.explanation.join('\n')).toMatch(
      /No measured setting meets it[\s\S]*3 operations failed \(throttled\)/,
    );
  });

  it('needs a goal', () => {
    expect(() => recommend(results, {})).toThrow(ConfigError);
    expect(() => recommend(results, { maxRowsPerKey: 0 })).toThrow(/maxRowsPerKey/);
  });
});
