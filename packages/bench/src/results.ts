import type { CacheBounds } from './settings.js';
import type { SingleRowReport } from './single-row/single-row-results.js';
import type { TargetName } from './targets/target.js';
import type { TenantBenchReport } from './tenants/run-tenant-bench.js';
import type { WorkloadName } from './workload.js';

/** One measured run: one target, one workload, one cache setting. */
export interface BenchResult {
  readonly target: TargetName;
  readonly workload: WorkloadName;
  /** The setting's label (`off`, `10k uses · 5m · cap 1k`). */
  readonly setting: string;
  /** The setting's bounds; `false` for no cache. */
  readonly cache: CacheBounds | false;
  /** False for the plain-ORM peers. */
  readonly encrypted: boolean;
  /** Rows written or read successfully. */
  readonly rows: number;
  /** Operations that failed (KMS throttling beyond the SDK's retries, mostly). */
  readonly errors: number;
  readonly firstError: string | null;
  readonly elapsedMs: number;
  readonly rowsPerSecond: number;
  /** Rows written per second (all of `rowsPerSecond` in the encrypt-heavy workload, none in decrypt-heavy). */
  readonly writesPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Cryptographic requests KMS received (retries and throttled ones included). */
  readonly kmsCalls: number;
  readonly kmsCallsPer1kRows: number;
  readonly kmsCallsPerSecond: number;
  /**
   * KMS requests per second in the second half of the run (after half the rows or half the
   * time): the rate once the cache is warm, without the cold misses of its start.
   */
  readonly warmKmsCallsPerSecond: number;
  /** Throttled KMS attempts, from the keyring's metrics hook (the server's count for the ESDK). */
  readonly throttles: number;
  /** SDK retries, from the keyring's metrics hook. */
  readonly retries: number;
  /** Most rows that one data key protected among the rows this run wrote; `null` when it wrote none. */
  readonly maxRowsPerKey: number | null;
  /** Distinct data keys among the rows this run wrote; `null` when it wrote none. */
  readonly dataKeys: number | null;
  /**
   * Cache hits, misses and coalesced waits, when a `CachingKeyring` was in front of KMS. Each
   * request counts once in one of them.
   */
  readonly cacheHits: number | null;
  readonly cacheMisses: number | null;
  readonly cacheCoalesced: number | null;
}

/** How the done-when check of issue 7 came out for one target. */
export interface CheckResult {
  readonly target: TargetName;
  /** The cached setting checked (the guide's OLTP starting point). */
  readonly setting: string;
  readonly cachedRowsPerSecond: number;
  readonly uncachedRowsPerSecond: number;
  /** cached ÷ uncached throughput on the encrypt-heavy workload. */
  readonly ratio: number;
  readonly kmsCallsPer1kRows: number;
  /** ratio ≥ 50 and ≤ 1 KMS call per 1,000 rows. */
  readonly passed: boolean;
}

/** A throughput ratio between fieldseal and a peer, same workload and setting. */
export interface PeerRatio {
  readonly workload: WorkloadName;
  readonly setting: string;
  readonly subject: TargetName;
  readonly peer: TargetName;
  readonly subjectRowsPerSecond: number;
  readonly peerRowsPerSecond: number;
  /** subject ÷ peer throughput (above 1: fieldseal is faster). */
  readonly ratio: number;
}

/** Everything one `runBench` produced; what `--json` writes. */
export interface BenchReport {
  readonly generatedAt: string;
  readonly environment: {
    readonly node: string;
    readonly platform: string;
    readonly cpus: number;
    readonly cpuModel: string;
  };
  readonly options: {
    readonly targets: readonly TargetName[];
    readonly workloads: readonly WorkloadName[];
    readonly settings: readonly string[];
    readonly rows: number;
    readonly maxDurationMs: number;
    readonly concurrency: number;
    readonly writeShare: number;
    readonly seedRows: number;
    readonly seedRowsPerKey: number;
    readonly kms: {
      readonly latencyMs: number;
      readonly jitterMs: number;
      readonly rateLimit: number;
      readonly maxAttempts: number;
    };
  };
  readonly results: readonly BenchResult[];
  readonly peers: readonly PeerRatio[];
  readonly checks: readonly CheckResult[];
  readonly elapsedMs: number;
  /** One-row operations on PostgreSQL and SQLite (`--single-row`), when they were run. */
  readonly singleRow?: SingleRowReport;
  readonly tenants?: TenantBenchReport;
}
