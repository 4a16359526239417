import type { BenchResult, CheckResult } from './results.js';
import { CACHE_OFF, cacheSetting, GUIDE_SETTINGS } from './settings.js';

/** The done-when bar of issue 7: the recommended cached setting vs no cache, encrypt-heavy. */
export const CHECK_MIN_RATIO = 50;
/** …with at most this many KMS calls per 1,000 rows. */
export const CHECK_MAX_CALLS_PER_1K = 1;

/** The guide's OLTP starting point: the cached setting the check and the peers compare. */
export const CHECKED_SETTING = cacheSetting(GUIDE_SETTINGS.oltp);

/** The check for each fieldseal target that ran both settings on the encrypt-heavy workload. */
export function checks(results: readonly BenchResult[]): CheckResult[] {
  const out: CheckResult[] = [];
  for (const target of ['core', 'prisma', 'typeorm'] as const) {
    const find = (setting: string) =>
      results.find((r) => r.target === target && r.workload === 'encrypt' && r.setting === setting);
    const cached = find(CHECKED_SETTING.label);
    const uncached = find(CACHE_OFF.label);
    if (!cached || !uncached) continue;
    const ratio = cached.rowsPerSecond / Math.max(uncached.rowsPerSecond, Number.MIN_VALUE);
    out.push({
      target,
      setting: cached.setting,
      cachedRowsPerSecond: cached.rowsPerSecond,
      uncachedRowsPerSecond: uncached.rowsPerSecond,
      ratio,
      kmsCallsPer1kRows: cached.kmsCallsPer1kRows,
      passed: ratio >= CHECK_MIN_RATIO && cached.kmsCallsPer1kRows <= CHECK_MAX_CALLS_PER_1K,
    });
  }
  return out;
}
