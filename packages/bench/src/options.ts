import { ConfigError } from '@fieldseal/core';
import type { KmsProfile } from './kms-env.js';
import { type CacheSetting, defaultGrid } from './settings.js';
import type { TargetName } from './targets/target.js';
import { WORKLOADS, type WorkloadName } from './workload.js';

/** The fieldseal targets (the peers are added by `peers`). */
export type FieldsealTarget = Extract<TargetName, 'core' | 'prisma' | 'typeorm'>;

/** Progress of a run, for a progress line. */
export interface BenchProgress {
  /** Runs finished so far and planned in all. */
  readonly run: number;
  readonly runs: number;
  /** What is running now, e.g. `prisma · encrypt · off` or `prisma · seeding`. */
  readonly label: string;
  /** Operations done in the current run, and its row cap. */
  readonly done: number;
  readonly rows: number;
}

/** Options of {@link runBench}. Every field is optional. */
export interface BenchOptions {
  /** Where rows go. Defaults to `['core', 'prisma', 'typeorm']`. */
  readonly targets?: readonly FieldsealTarget[];
  /** Defaults to all three: `encrypt`, `decrypt`, `mixed`. */
  readonly workloads?: readonly WorkloadName[];
  /** The grid. Defaults to `defaultGrid()` (cache off, then one bound varied at a time). */
  readonly settings?: readonly CacheSetting[];
  /** Most operations per run. Defaults to 20,000. */
  readonly rows?: number;
  /** Milliseconds after which a run stops issuing operations. Defaults to 1,500. */
  readonly maxDurationMs?: number;
  /** Operations in flight at once. Defaults to 8. */
  readonly concurrency?: number;
  /** Share of writes in the mixed workload, 0–1. Defaults to 0.5. */
  readonly writeShare?: number;
  /** Rows written before the read workloads (not measured). Defaults to 2,000. */
  readonly seedRows?: number;
  /** Rows per data key in the seeded rows, so reads meet many keys. Defaults to 50 (40 keys). */
  readonly seedRowsPerKey?: number;
  /** Simulated KMS: defaults 5 ms latency + up to 10 ms jitter, 200 requests/s, 3 SDK attempts. */
  readonly kms?: Partial<KmsProfile>;
  /** Also time plain Prisma/TypeORM and the AWS Encryption SDK. Defaults to true. */
  readonly peers?: boolean;
  /** PRNG seed of the operation sequence. Defaults to 7. */
  readonly seed?: number;
  /** Called as runs progress (at most every 64 operations). */
  readonly onProgress?: (progress: BenchProgress) => void;
}

/** Options with defaults applied and checked. */
export type ResolvedBenchOptions = Required<Omit<BenchOptions, 'onProgress' | 'kms'>> & {
  readonly kms: KmsProfile;
  readonly onProgress: BenchOptions['onProgress'];
};

const TARGETS: readonly FieldsealTarget[] = ['core', 'prisma', 'typeorm'];

/** Applies defaults; throws `ConfigError` naming the first bad option. */
export function resolveBenchOptions(options: BenchOptions = {}): ResolvedBenchOptions {
  const whole = (name: string, value: number | undefined, fallback: number, min = 1) => {
    const v = value ?? fallback;
    if (!Number.isInteger(v) || v < min)
      throw new ConfigError(name, `must be a whole number >= ${min}, got ${v}`);
    return v;
  };
  const targets = options.targets ?? TARGETS;
  for (const target of targets)
    if (!TARGETS.includes(target))
      throw new ConfigError('targets', `unknown target "${target}" (core, prisma, typeorm)`);
  const workloads = options.workloads ?? WORKLOADS;
  for (const workload of workloads)
    if (!WORKLOADS.includes(workload))
      throw new ConfigError('workloads', `unknown workload "${workload}" (encrypt, decrypt, mixed)`);
  const settings = options.settings ?? defaultGrid();
  if (settings.length === 0) throw new ConfigError('settings', 'needs at least one setting');
  const writeShare = options.writeShare ?? 0.5;
  if (!(writeShare >= 0 && writeShare <= 1)) throw new ConfigError('writeShare', 'must be between 0 and 1');
  const kms = options.kms ?? {};
  const profile: KmsProfile = {
    latencyMs: whole('kms.latencyMs', kms.latencyMs, 5, 0),
    jitterMs: whole('kms.jitterMs', kms.jitterMs, 10, 0),
    rateLimit: whole('kms.rateLimit', kms.rateLimit, 200, 0),
    maxAttempts: whole('kms.maxAttempts', kms.maxAttempts, 3),
  };
  return {
    targets: [...new Set(targets)],
    workloads: [...new Set(workloads)],
    settings,
    rows: whole('rows', options.rows, 20_000),
    maxDurationMs: whole('maxDurationMs', options.maxDurationMs, 1_500),
    concurrency: whole('concurrency', options.concurrency, 8),
    writeShare,
    seedRows: whole('seedRows', options.seedRows, 2_000),
    seedRowsPerKey: whole('seedRowsPerKey', options.seedRowsPerKey, 50),
    kms: profile,
    peers: options.peers ?? true,
    seed: whole('seed', options.seed, 7, 0),
    onProgress: options.onProgress,
  };
}
