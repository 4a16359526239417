import { ConfigError } from '@fieldseal/core';
import type { BenchResult } from './results.js';
import { count, duration } from './settings.js';
import type { TargetName } from './targets/target.js';
import type { WorkloadName } from './workload.js';

/** What the settings must meet; give at least one bound. */
export interface RecommendGoal {
  /** At most this many KMS requests per second at the throughput reached (see {@link steadyKmsCallsPerSecond}). */
  readonly maxKmsCallsPerSecond?: number;
  /** At most this many rows under one data key (the setting's `maxUses` bound; 1 with no cache). */
  readonly maxRowsPerKey?: number;
}

/** What {@link recommend} found. */
export interface Recommendation {
  readonly target: TargetName;
  readonly workload: WorkloadName;
  readonly goal: RecommendGoal;
  /** The setting with the best throughput among those meeting the goal. */
  readonly best: BenchResult | undefined;
  /** Every setting meeting the goal, fastest first. */
  readonly meeting: readonly BenchResult[];
  /** The others, with why each failed. */
  readonly rejected: readonly { readonly result: BenchResult; readonly reasons: readonly string[] }[];
  /** Lines for people: the choice and why. */
  readonly explanation: readonly string[];
}

/**
 * KMS calls per second to expect from a run's setting at its measured rates, once the cache is
 * warm: the rate measured in the second half of the run, or, when more, what writes need in the
 * long run — a data key retires after `maxUses` rows or `maxAge`, so W writes/s make
 * max(W / maxUses, 1 / maxAge) GenerateDataKey calls per second per table (a short run can end
 * before its first key retires and so under-count them). Without a cache: the measured rate.
 */
export function steadyKmsCallsPerSecond(result: BenchResult): number {
  if (result.cache === false) return result.kmsCallsPerSecond;
  const { maxUses, maxAge } = result.cache;
  const writes = result.writesPerSecond > 0 ? Math.max(result.writesPerSecond / maxUses, 1000 / maxAge) : 0;
  return Math.max(result.warmKmsCallsPerSecond, writes);
}

/** The most rows one data key can protect under a setting: `maxUses`, or 1 with no cache. */
export function rowsPerKeyBound(result: BenchResult): number {
  return result.cache === false ? 1 : result.cache.maxUses;
}

/**
 * Picks, among the measured settings of one target and workload, those that meet `goal`, fastest
 * first, and says why. A bound on rows per key is judged on the setting's `maxUses` (a guarantee,
 * not just what one run happened to reach); a bound on KMS calls per second on the measured rate.
 *
 * @example
 * const { best, explanation } = recommend(report.results, { maxKmsCallsPerSecond: 10, maxRowsPerKey: 100_000 });
 */
export function recommend(
  results: readonly BenchResult[],
  goal: RecommendGoal,
  { target = 'core', workload = 'encrypt' }: { target?: TargetName; workload?: WorkloadName } = {},
): Recommendation {
  const { maxKmsCallsPerSecond: calls, maxRowsPerKey: perKey } = goal;
  if (calls === undefined && perKey === undefined)
    throw new ConfigError('recommend', 'give --max-kms-calls-per-second and/or --max-rows-per-key');
  for (const [name, value] of [
    ['maxKmsCallsPerSecond', calls],
    ['maxRowsPerKey', perKey],
  ] as const)
    if (value !== undefined && !(value > 0))
      throw new ConfigError(name, `must be a positive number, got ${value}`);
  const candidates = results.filter((r) => r.target === target && r.workload === workload && r.encrypted);
  const meeting: BenchResult[] = [];
  const rejected: { result: BenchResult; reasons: string[] }[] = [];
  for (const result of candidates) {
    const reasons: string[] = [];
    if (calls !== undefined && steadyKmsCallsPerSecond(result) > calls)
      reasons.push(`${fmt(steadyKmsCallsPerSecond(result))} KMS calls/s > ${fmt(calls)}`);
    if (perKey !== undefined && rowsPerKeyBound(result) > perKey)
      reasons.push(`up to ${count(rowsPerKeyBound(result))} rows per data key > ${count(perKey)}`);
    if (result.errors > 0)
      reasons.push(`${result.errors} operations failed (${result.firstError ?? 'error'})`);
    if (reasons.length === 0) meeting.push(result);
    else rejected.push({ result, reasons });
  }
  meeting.sort((a, b) => b.rowsPerSecond - a.rowsPerSecond);
  const best = meeting[0];
  const wanted = [
    calls === undefined ? undefined : `at most ${fmt(calls)} KMS calls/s`,
    perKey === undefined ? undefined : `at most ${count(perKey)} rows per data key`,
  ].filter(Boolean);
  const explanation: string[] = [`Goal: ${wanted.join(' and ')} (${target}, ${workload} workload).`];
  if (!best) {
    explanation.push('No measured setting meets it:');
    for (const { result, reasons } of rejected)
      explanation.push(`  ${result.setting}: ${reasons.join('; ')}`);
    explanation.push(
      'Add settings with a larger maxUses/maxAge (fewer KMS calls) or a smaller maxUses (fewer rows per key) and run again.',
    );
    return { target, workload, goal, best, meeting, rejected, explanation };
  }
  explanation.push(`Best: ${best.setting} — ${fmt(best.rowsPerSecond)} rows/s, ${why(best)}.`);
  for (const other of meeting.slice(1))
    explanation.push(
      `  also meets it: ${other.setting} — ${fmt(other.rowsPerSecond)} rows/s (${fmt((other.rowsPerSecond / best.rowsPerSecond) * 100)}% of best)`,
    );
  for (const { result, reasons } of rejected)
    explanation.push(`  rejected: ${result.setting} — ${reasons.join('; ')}`);
  if (best.cache !== false) {
    const { maxUses, maxAge } = best.cache;
    explanation.push(
      `Why it holds at other rates: a data key retires after ${count(maxUses)} rows or ${duration(maxAge)}, whichever comes first, so at R rows/s one table makes about max(R / ${count(maxUses)}, 1 / ${duration(maxAge)}) GenerateDataKey calls per second; reads add one Decrypt per data key not in the cache (capacity ${count(best.cache.capacity)}) and one per key again every ${duration(maxAge)} (decryptMaxAge defaults to maxAge).`,
    );
  }
  return { target, workload, goal, best, meeting, rejected, explanation };
}

function why(result: BenchResult): string {
  const keyBound = rowsPerKeyBound(result);
  const measured = result.maxRowsPerKey === null ? '' : `, measured ${count(result.maxRowsPerKey)}`;
  return `${fmt(steadyKmsCallsPerSecond(result))} KMS calls/s once warm (${fmt(result.kmsCallsPerSecond)} over the whole run, cold start included; ${fmt(result.kmsCallsPer1kRows)} per 1,000 rows), at most ${count(keyBound)} rows per data key${measured}, p99 ${fmt(result.p99Ms)} ms`;
}

/** 3 significant digits, thousands separated. */
export function fmt(value: number): string {
  if (value === 0) return '0';
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  return String(Number(value.toPrecision(3)));
}
