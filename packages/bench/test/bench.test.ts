import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BenchReport,
  type BenchResult,
  CACHE_OFF,
  CHECKED_SETTING,
  formatReport,
  recommend,
  runBench,
  writeOutputs,
} from '../src/index.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'fieldseal-bench-test-'));
const SEED_ROWS = 60;
const SEED_PER_KEY = 10;
let report: BenchReport;
let progressCalls = 0;

// A tiny grid, few rows, a fast KMS: it runs every code path (three targets, three workloads,
// the peers, the files) in a few seconds, so CI exercises what `pnpm bench` runs for minutes.
beforeAll(async () => {
  report = await runBench({
    settings: [CACHE_OFF, CHECKED_SETTING],
    rows: 150,
    maxDurationMs: 30_000, // the row count ends each run; this only guards against a hang
    concurrency: 4,
    seedRows: SEED_ROWS,
    seedRowsPerKey: SEED_PER_KEY,
    kms: { latencyMs: 1, jitterMs: 1, rateLimit: 0 },
    onProgress: () => progressCalls++,
  });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const find = (target: string, workload: string, setting: string) =>
  report.results.find(
    (r) => r.target === target && r.workload === workload && r.setting === setting,
  ) as BenchResult;

describe('fieldseal bench, smoke run', () => {
  it('measures every target × workload × setting, and the peers, and reports progress', () => {
    // 3 fieldseal targets × 2 settings + plain Prisma + plain TypeORM + ESDK × 2 settings, per workload.
    expect(report.results).toHaveLength(10 * 3);
    for (const r of report.results) {
      expect(r.rows).toBe(150);
      expect(r.errors).toBe(0);
      expect(r.rowsPerSecond).toBeGreaterThan(0);
      expect(r.p99Ms).toBeGreaterThanOrEqual(r.p50Ms);
      expect(r.warmKmsCallsPerSecond).toBeGreaterThanOrEqual(0);
    }
    expect(progressCalls).toBeGreaterThan(30);
  });

  it('without a cache, every row written costs one KMS call and gets its own data key', () => {
    for (const target of ['core', 'prisma', 'typeorm']) {
      const r = find(target, 'encrypt', 'off');
      expect([r.kmsCalls, r.kmsCallsPer1kRows, r.maxRowsPerKey, r.dataKeys]).toEqual([150, 1000, 1, 150]);
    }
  });

  it('with the cache, the rows of a run share one data key from one KMS call, counted from the stored column', () => {
    for (const target of ['core', 'prisma', 'typeorm']) {
      const r = find(target, 'encrypt', CHECKED_SETTING.label);
      expect([r.kmsCalls, r.maxRowsPerKey, r.dataKeys, r.cacheMisses]).toEqual([1, 150, 1, 1]);
      // Every row's request counts once: a hit, the one miss, or a wait on that miss.
      expect((r.cacheHits ?? 0) + (r.cacheMisses ?? 0) + (r.cacheCoalesced ?? 0)).toBe(150);
    }
  });

  it('reads of rows under many data keys make one Decrypt per distinct key with the cache, one per row without', () => {
    for (const target of ['core', 'prisma']) expect(find(target, 'decrypt', 'off').kmsCalls).toBe(150);
    // The TypeORM adapter unwraps once per distinct data key among loads in the same microtask,
    // so concurrent reads of rows sharing a key can share a Decrypt even without a cache.
    expect(find('typeorm', 'decrypt', 'off').kmsCalls).toBeLessThanOrEqual(150);
    expect(find('typeorm', 'decrypt', 'off').kmsCalls).toBeGreaterThan(100);
    for (const target of ['core', 'prisma', 'typeorm']) {
      const cached = find(target, 'decrypt', CHECKED_SETTING.label);
      expect(cached.kmsCalls).toBeGreaterThan(1);
      expect(cached.kmsCalls).toBeLessThanOrEqual(SEED_ROWS / SEED_PER_KEY);
      expect(cached.maxRowsPerKey).toBeNull();
    }
  });

  it('plain ORMs call no KMS; the ESDK makes one message, so one KMS call, per non-null field without a cache', () => {
    for (const target of ['plain-prisma', 'plain-typeorm'])
      expect(find(target, 'mixed', 'off').kmsCalls).toBe(0);
    const esdk = find('esdk', 'encrypt', 'off');
    expect(esdk.kmsCalls).toBeGreaterThan(2 * 150);
    expect(esdk.kmsCalls).toBeLessThanOrEqual(3 * 150);
  });

  it('computes the peer ratios and the cached-vs-uncached check from the measured rows/s', () => {
    const prisma = report.peers.find((p) => p.subject === 'prisma' && p.workload === 'encrypt');
    expect(prisma?.ratio).toBeCloseTo(
      find('prisma', 'encrypt', CHECKED_SETTING.label).rowsPerSecond /
        find('plain-prisma', 'encrypt', 'off').rowsPerSecond,
      9,
    );
    expect(report.checks.map((c) => c.target)).toEqual(['core', 'prisma', 'typeorm']);
    const core = report.checks[0]!;
    expect(core.ratio).toBeCloseTo(core.cachedRowsPerSecond / core.uncachedRowsPerSecond, 9);
    expect(core.kmsCallsPer1kRows).toBeCloseTo(1000 / 150, 9);
    expect(core.passed).toBe(core.ratio >= 50 && core.kmsCallsPer1kRows <= 1);
  });

  it('prints tables, writes JSON, Markdown, SVG and PNG charts', async () => {
    const text = formatReport(report);
    expect(text).toContain('encrypt-heavy (inserts) — @fieldseal/core');
    expect(text).toMatch(/KMS\/1k rows/);
    const files = await writeOutputs(report, dir);
    expect(JSON.parse(readFileSync(files.json, 'utf8')).results).toHaveLength(30);
    expect(files.svg).toHaveLength(3);
    const svg = readFileSync(files.svg[0]!, 'utf8');
    expect(svg).toContain(CHECKED_SETTING.label);
    expect(files.png).toHaveLength(3);
    expect(readFileSync(files.png[0]!).subarray(0, 8)).toEqual(
      Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    );
  });

  it('recommends from the run: a one-row-per-key bound leaves only "off"', () => {
    expect(recommend(report.results, { maxRowsPerKey: 1 }).best?.setting).toBe('off');
  });

  it('the fieldseal-bench command re-reads the JSON and answers --recommend', async () => {
    const bin = join(import.meta.dirname, '..', 'bin', 'fieldseal-bench.js');
    const { stdout } = await run(process.execPath, [
      bin,
      '--from',
      join(dir, 'bench.json'),
      '--recommend',
      '--max-rows-per-key',
      '10k',
      '--for-target',
      'typeorm',
    ]);
    expect(stdout).toContain('Goal: at most 10k rows per data key (typeorm, encrypt workload).');
    expect(stdout).toContain(`Best: ${CHECKED_SETTING.label}`);
    const failed = await run(process.execPath, [bin, '--setting', 'maxKeys=3']).catch((error) => error);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain("option '--setting <spec>' argument 'maxKeys=3' is invalid");
  });
});
