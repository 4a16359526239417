import { cpus } from 'node:os';
import { CHECKED_SETTING, checks } from './check.js';
import { KmsEnvironment } from './kms-env.js';
import { type BenchOptions, type ResolvedBenchOptions, resolveBenchOptions } from './options.js';
import type { BenchReport, BenchResult, PeerRatio } from './results.js';
import { rowValues } from './rows.js';
import { CACHE_OFF, type CacheSetting, cacheSetting } from './settings.js';
import { CoreTarget } from './targets/core-target.js';
import { EsdkTarget } from './targets/esdk-target.js';
import { PrismaTarget } from './targets/prisma-target.js';
import type { BenchTarget, TargetName } from './targets/target.js';
import { TypeormTarget } from './targets/typeorm-target.js';
import { percentile, runWorkload, type WorkloadName } from './workload.js';

interface Plan {
  readonly target: BenchTarget;
  readonly settings: readonly CacheSetting[];
}

/**
 * The eager implementation of `runBench` (see run.ts): runs every workload × setting on every target against an in-process kms-local with the
 * profile's latency, jitter and quota, plus the peers; returns the report (nothing printed).
 *
 * @example
 * const report = await runBenchNow({ targets: ['core'], workloads: ['encrypt'], rows: 5_000 });
 * console.log(report.checks);
 */
export async function runBenchNow(options: BenchOptions = {}): Promise<BenchReport> {
  const opts = resolveBenchOptions(options);
  const started = performance.now();
  const env = await KmsEnvironment.start(opts.kms);
  const plans = planTargets(env, opts);
  const runs = plans.reduce((sum, plan) => sum + plan.settings.length * opts.workloads.length, 0);
  const results: BenchResult[] = [];
  let run = 0;
  let serial = 1_000_000;
  try {
    for (const { target, settings } of plans) {
      const progress = (label: string, done: number, rows: number) =>
        opts.onProgress?.({ run, runs, label: `${target.name} · ${label}`, done, rows });
      const seeded = opts.workloads.some((w) => w !== 'encrypt')
        ? await seed(env, target, opts, (done) => progress('seeding', done, opts.seedRows))
        : new Map<number, number>();
      for (const workload of opts.workloads) {
        for (const setting of settings) {
          progress(`${workload} · ${setting.label}`, 0, opts.rows);
          const afterId = await target.lastId();
          const session = await target.open(setting);
          let outcome: Awaited<ReturnType<typeof runWorkload>>;
          let callsAtHalf = 0;
          try {
            outcome = await runWorkload(
              session,
              {
                workload,
                rows: opts.rows,
                maxDurationMs: opts.maxDurationMs,
                concurrency: opts.concurrency,
                writeShare: opts.writeShare,
                seeded,
                seed: opts.seed,
                firstSerial: serial,
                target: target.name,
              },
              (done) => progress(`${workload} · ${setting.label}`, done, opts.rows),
              () => {
                callsAtHalf = session.counts().requests;
              },
            );
          } finally {
            await session.close();
          }
          serial += opts.rows;
          const counts = session.counts();
          const cache = session.cacheCounts();
          const perKey = workload === 'decrypt' ? undefined : await target.rowsPerKey(afterId);
          const seconds = outcome.elapsedMs / 1000;
          results.push({
            target: target.name,
            workload,
            setting: setting.label,
            cache: setting.cache,
            encrypted: target.encrypted,
            rows: outcome.rows,
            errors: outcome.errors,
            firstError: outcome.firstError ?? null,
            elapsedMs: outcome.elapsedMs,
            rowsPerSecond: outcome.rows / seconds,
            writesPerSecond: outcome.writes / seconds,
            p50Ms: percentile(outcome.latencies, 50),
            p99Ms: percentile(outcome.latencies, 99),
            kmsCalls: counts.requests,
            kmsCallsPer1kRows: outcome.rows > 0 ? (counts.requests * 1000) / outcome.rows : 0,
            kmsCallsPerSecond: counts.requests / seconds,
            warmKmsCallsPerSecond:
              outcome.elapsedMs > outcome.halfMs
                ? ((counts.requests - callsAtHalf) * 1000) / (outcome.elapsedMs - outcome.halfMs)
                : counts.requests / seconds,
            throttles: counts.throttles,
            retries: counts.retries,
            maxRowsPerKey: perKey && perKey.length > 0 ? Math.max(...perKey) : null,
            dataKeys: perKey && perKey.length > 0 ? perKey.length : null,
            cacheHits: cache?.hits ?? null,
            cacheMisses: cache?.misses ?? null,
            cacheCoalesced: cache?.coalesced ?? null,
          });
          run++;
        }
      }
    }
  } finally {
    for (const { target } of plans) await target.dispose();
    await env.close();
  }
  const cpu = cpus();
  return {
    generatedAt: new Date().toISOString(),
    environment: {
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      cpus: cpu.length,
      cpuModel: cpu[0]?.model.trim() ?? 'unknown',
    },
    options: {
      targets: opts.targets,
      workloads: opts.workloads,
      settings: opts.settings.map((setting) => setting.label),
      rows: opts.rows,
      maxDurationMs: opts.maxDurationMs,
      concurrency: opts.concurrency,
      writeShare: opts.writeShare,
      seedRows: opts.seedRows,
      seedRowsPerKey: opts.seedRowsPerKey,
      kms: opts.kms,
    },
    results,
    peers: peerRatios(results, opts.workloads),
    checks: checks(results),
    elapsedMs: performance.now() - started,
  };
}

function planTargets(env: KmsEnvironment, opts: ResolvedBenchOptions): Plan[] {
  const plans: Plan[] = [];
  const peerSettings = [CACHE_OFF, CHECKED_SETTING];
  for (const name of opts.targets) {
    if (name === 'core') plans.push({ target: new CoreTarget(env), settings: opts.settings });
    if (name === 'prisma')
      plans.push({ target: new PrismaTarget(env, { encrypted: true }), settings: opts.settings });
    if (name === 'typeorm')
      plans.push({ target: new TypeormTarget(env, { encrypted: true }), settings: opts.settings });
  }
  if (opts.peers) {
    if (opts.targets.includes('prisma'))
      plans.push({ target: new PrismaTarget(env, { encrypted: false }), settings: [CACHE_OFF] });
    if (opts.targets.includes('typeorm'))
      plans.push({ target: new TypeormTarget(env, { encrypted: false }), settings: [CACHE_OFF] });
    if (opts.targets.includes('core')) plans.push({ target: new EsdkTarget(env), settings: peerSettings });
  }
  return plans;
}

/**
 * Writes `seedRows` rows with a data key per `seedRowsPerKey` rows, against a fast KMS (this is
 * set-up, not measured), and warms the code paths up. Returns id → serial of the values.
 */
async function seed(
  env: KmsEnvironment,
  target: BenchTarget,
  opts: ResolvedBenchOptions,
  onTick: (done: number) => void,
): Promise<Map<number, number>> {
  const seeded = new Map<number, number>();
  await env.unthrottled(async () => {
    const session = await target.open(
      target.encrypted ? cacheSetting({ maxUses: opts.seedRowsPerKey }) : CACHE_OFF,
    );
    try {
      for (let serial = 1; serial <= opts.seedRows; serial++) {
        seeded.set(await session.insert(rowValues(serial)), serial);
        if (serial % 64 === 0) onTick(serial);
      }
      let warm = 0;
      for (const id of seeded.keys()) if (warm++ < 200) await session.read(id);
    } finally {
      await session.close();
    }
  });
  return seeded;
}

function peerRatios(results: readonly BenchResult[], workloads: readonly WorkloadName[]): PeerRatio[] {
  const find = (target: TargetName, workload: WorkloadName, setting: string) =>
    results.find((r) => r.target === target && r.workload === workload && r.setting === setting);
  const pairs: [TargetName, TargetName, string, string][] = [
    ['prisma', 'plain-prisma', CHECKED_SETTING.label, CACHE_OFF.label],
    ['typeorm', 'plain-typeorm', CHECKED_SETTING.label, CACHE_OFF.label],
    ['core', 'esdk', CHECKED_SETTING.label, CHECKED_SETTING.label],
    ['core', 'esdk', CACHE_OFF.label, CACHE_OFF.label],
  ];
  const out: PeerRatio[] = [];
  for (const workload of workloads) {
    for (const [subject, peer, subjectSetting, peerSetting] of pairs) {
      const a = find(subject, workload, subjectSetting);
      const b = find(peer, workload, peerSetting);
      if (!a || !b || b.rowsPerSecond === 0) continue;
      out.push({
        workload,
        setting: subjectSetting,
        subject,
        peer,
        subjectRowsPerSecond: a.rowsPerSecond,
        peerRowsPerSecond: b.rowsPerSecond,
        ratio: a.rowsPerSecond / b.rowsPerSecond,
      });
    }
  }
  return out;
}
