import { describe, expect, it } from 'vitest';
import { CACHE_OFF, CHECKED_SETTING, runBench } from '../src/index.js';

describe('fieldseal bench under a KMS request quota', () => {
  it('counts each throttled attempt through the keyring metrics hook; with the cache nothing is throttled', async () => {
    const started = Date.now();
    const report = await runBench({
      targets: ['core'],
      workloads: ['encrypt'],
      // Cached first: it needs one request from the full bucket; "off" then drains it.
      settings: [CHECKED_SETTING, CACHE_OFF],
      peers: false,
      rows: 200,
      concurrency: 8,
      // The bucket holds 20 requests and refills at 20/s; one SDK attempt, so a throttle fails its row.
      kms: { latencyMs: 0, jitterMs: 0, rateLimit: 20, maxAttempts: 1 },
    });
    const seconds = (Date.now() - started) / 1000;
    const [cached, off] = report.results;
    // The bucket lets through at most its 20 requests plus 20 per second of the run, however
    // fast or slow this machine is; every other row's request is throttled.
    expect(off?.errors).toBeGreaterThan(0);
    expect(off?.rows).toBeLessThanOrEqual(20 + Math.ceil(20 * seconds) + 1);
    expect(off?.throttles).toBe(off?.errors);
    expect(off?.firstError).toBe('throttled');
    expect(off?.kmsCalls).toBe((off?.rows ?? 0) + (off?.errors ?? 0));
    expect([cached?.errors, cached?.throttles, cached?.kmsCalls, cached?.rows]).toEqual([0, 0, 1, 200]);
  });
});
