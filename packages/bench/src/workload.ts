import { BenchError } from './errors.js';
import { prng, rowValues } from './rows.js';
import type { TargetSession } from './targets/target.js';

/** encrypt-heavy: inserts only · decrypt-heavy: reads of seeded rows · mixed: both. */
export type WorkloadName = 'encrypt' | 'decrypt' | 'mixed';

/** The workloads, in report order. */
export const WORKLOADS: readonly WorkloadName[] = ['encrypt', 'decrypt', 'mixed'];

/** How one measured run is driven. */
export interface WorkloadPlan {
  readonly workload: WorkloadName;
  /** Most operations (rows written or read) in the run. */
  readonly rows: number;
  /** The run stops issuing operations after this many milliseconds. */
  readonly maxDurationMs: number;
  /** Operations in flight at once. */
  readonly concurrency: number;
  /** Share of writes in the mixed workload, 0–1. */
  readonly writeShare: number;
  /** Rows to read: id → serial of the values written (see `rowValues`). */
  readonly seeded: ReadonlyMap<number, number>;
  /** PRNG seed: every setting sees the same sequence of operations. */
  readonly seed: number;
  /** First serial for new rows' values. */
  readonly firstSerial: number;
  /** Names the target in errors. */
  readonly target: string;
}

/** What one run did. */
export interface WorkloadOutcome {
  /** Operations that succeeded. */
  readonly rows: number;
  /** Milliseconds from the start at which half the rows or half the time had passed (see `onHalf`). */
  readonly halfMs: number;
  /** Of `rows`, how many were writes. */
  readonly writes: number;
  /** Operations that failed (e.g. KMS throttling that outlasted the SDK's retries). */
  readonly errors: number;
  /** The first failure's error code or name, when any. */
  readonly firstError: string | undefined;
  readonly elapsedMs: number;
  /** Latency of each successful operation, in milliseconds, sorted ascending. */
  readonly latencies: Float64Array;
}

/**
 * Runs `plan` on `session`: `concurrency` workers take operations until `rows` are done or
 * `maxDurationMs` has passed. Every read is checked against the values that were written.
 */
export async function runWorkload(
  session: TargetSession,
  plan: WorkloadPlan,
  onTick?: (done: number) => void,
  onHalf?: () => void,
): Promise<WorkloadOutcome> {
  const random = prng(plan.seed);
  const seededIds = [...plan.seeded.keys()];
  if (plan.workload !== 'encrypt' && seededIds.length === 0)
    throw new BenchError('workload-failed', `${plan.workload} workload on ${plan.target} needs seeded rows`);
  const latencies = new Float64Array(plan.rows);
  let issued = 0;
  let done = 0;
  let writes = 0;
  let errors = 0;
  let firstError: string | undefined;
  let serial = plan.firstSerial;
  const started = performance.now();
  const deadline = started + plan.maxDurationMs;
  // The second half of a run shows the warm cache: what KMS sees once the cold misses are done.
  let halfMs = -1;
  const half = () => {
    if (halfMs < 0 && (done * 2 >= plan.rows || performance.now() >= started + plan.maxDurationMs / 2)) {
      halfMs = performance.now() - started;
      onHalf?.();
    }
  };

  const operation = async (): Promise<void> => {
    const write = plan.workload === 'encrypt' || (plan.workload === 'mixed' && random() < plan.writeShare);
    if (write) {
      await session.insert(rowValues(serial++));
      writes++;
      return;
    }
    const id = seededIds[Math.floor(random() * seededIds.length)] as number;
    const got = await session.read(id);
    const want = rowValues(plan.seeded.get(id) as number);
    if (got.email !== want.email || got.ssn !== want.ssn || got.note !== want.note || got.name !== want.name)
      throw new BenchError('wrong-plaintext', `${plan.target} read back other values than were written`, {
        location: { table: 'users', rowId: id },
      });
  };

  const worker = async (): Promise<void> => {
    while (issued < plan.rows && performance.now() < deadline) {
      issued++;
      const t0 = performance.now();
      try {
        await operation();
        latencies[done++] = performance.now() - t0;
        half();
        if (onTick && done % 64 === 0) onTick(done);
      } catch (error) {
        if (error instanceof BenchError) throw error; // wrong plaintext is never just "slow"
        errors++;
        firstError ??= errorName(error);
      }
    }
  };
  await Promise.all(Array.from({ length: plan.concurrency }, worker));
  const elapsedMs = performance.now() - started;
  if (halfMs < 0) {
    halfMs = elapsedMs;
    onHalf?.();
  }
  return {
    rows: done,
    halfMs,
    writes,
    errors,
    firstError,
    elapsedMs,
    latencies: latencies.subarray(0, done).sort(),
  };
}

/** The p-th percentile (0–100) of sorted values, nearest rank; 0 for none. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

function errorName(error: unknown): string {
  const e = error as { code?: unknown; name?: unknown } | null;
  if (typeof e?.code === 'string') return e.code;
  return typeof e?.name === 'string' ? e.name : 'Error';
}
