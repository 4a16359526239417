import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { rewriteRows, type SqlExecutor, type StoredTable } from '@fieldseal/core';
import { CliError, databaseError } from './errors.js';
import type { Lease, LeaseTable } from './leases.js';
import type { RowProblem, RowWork } from './row-work.js';
import { batchedGuardedUpdate, type GuardedWrite } from './sql-dialect.js';
import type { TableAccess } from './table-access.js';

/** Options of one job run. */
export interface RunOptions {
  /** Rows read and written per transaction. */
  readonly batch: number;
  /** Chunks worked on in parallel by this process. */
  readonly concurrency: number;
  /** Times a row changed by the app meanwhile is re-read before it is reported as a conflict. */
  readonly maxRetries?: number;
  /** Called after every committed batch. */
  readonly onBatch?: (event: { model: string; scanned: number; written: number }) => void;
  /** Stops taking new batches once it returns true (tests, signals); claimed chunks are released. */
  readonly shouldStop?: () => boolean;
  /** Called once per chunk this process waits for because another live worker holds it. */
  readonly onWait?: (event: { model: string; chunk: number; owner: string; expiresInMs: number }) => void;
}

/** What one process did to one table. */
export interface TableResult {
  model: string;
  scanned: number;
  written: number;
  /** Writes whose guard failed (the row changed since it was read); such rows are re-read. */
  guardMisses: number;
  /** Chunks this process took over from a worker whose lease expired (crashed or stalled). */
  takenOver: number;
  /**
   * Chunks this process lost to another worker because it could not renew its lease in time (a
   * stalled process); the batch in flight was rolled back and the other worker resumes it.
   */
  leasesLost: number;
  conflicts: string[];
  /** Rows skipped with an error (the first {@link MAX_LISTED} of them; `problemCount` counts all). */
  problems: RowProblem[];
  problemCount: number;
  chunks: number;
  /**
   * Rows still needing this job after it ran (migrate: rows holding plaintext), counted by a
   * scan of the table once the job was done; `undefined` when it was stopped or a dry run.
   */
  remaining?: number;
  /** Ids of the first remaining rows. */
  remainingIds?: string[];
}

/** Rows listed per table in reports (counts are always complete). */
export const MAX_LISTED = 1_000;

// Keep each statement's parameter count well under every dialect's limit (SQLite: 32,766).
const MAX_PARAMS = 20_000;

/** A table's result before any row was looked at. */
export function emptyResult(model: string): TableResult {
  return {
    model,
    scanned: 0,
    written: 0,
    guardMisses: 0,
    takenOver: 0,
    leasesLost: 0,
    conflicts: [],
    problems: [],
    problemCount: 0,
    chunks: 0,
  };
}

/**
 * Runs one job (migrate, decrypt or rotate) over one table: claims chunks from the lease table,
 * reads each chunk in key order batch by batch, computes the guarded writes outside any
 * transaction, then writes them and checkpoints the cursor in one transaction per batch.
 */
export async function runJob(
  job: string,
  access: TableAccess,
  work: RowWork,
  leases: LeaseTable,
  options: RunOptions,
): Promise<TableResult> {
  const table = access.table;
  const result = emptyResult(table.model);
  const { chunks } = await leases.plan(job, access);
  result.chunks = chunks;
  const base = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const waitedFor = new Set<string>();
  // One worker's failure stops the others after their current batch.
  let aborted = false;
  const stop = () => aborted || options.shouldStop?.() === true;
  const workers = Array.from({ length: Math.max(1, options.concurrency) }, (_, i) => worker(`${base}:${i}`));
  const outcomes = await Promise.allSettled(workers);
  const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failed) {
    // Each worker gave its chunk back; a job that got nowhere leaves nothing behind.
    await leases.forgetIfUntouched(job, access.name).catch(() => undefined);
    throw failed.reason;
  }
  if ((await leases.remaining(job, access.name)) === 0) await leases.forget(job, access.name);
  return result;

  async function worker(owner: string): Promise<void> {
    for (;;) {
      if (stop()) return;
      const lease = await leases.claim(job, access.name, owner);
      if (!lease) {
        // Nothing free: finished, or chunks held by live workers that may still crash; wait
        // and take over any lease that expires, so the job ends done as long as one worker lives.
        if ((await leases.remaining(job, access.name)) === 0) return;
        const held = options.onWait ? await leases.heldElsewhere(job, access.name, base) : undefined;
        if (held && !waitedFor.has(`${held.chunk}\u0000${held.owner}`)) {
          waitedFor.add(`${held.chunk}\u0000${held.owner}`);
          options.onWait?.({ model: table.model, ...held });
        }
        await sleep(Math.min(1_000, Math.max(50, leases.options.leaseMs / 4)));
        continue;
      }
      if (lease.attempts > 1) result.takenOver++;
      try {
        await chunk(lease, owner);
      } catch (error) {
        // Too slow to renew (an overloaded machine, a long pause): the chunk is another
        // worker's now and our batch was rolled back. Not a failure of the run: claim another.
        if (error instanceof CliError && error.code === 'lease-lost') {
          result.leasesLost++;
          continue;
        }
        aborted = true;
        throw error;
      }
    }
  }

  async function chunk(lease: Lease, owner: string): Promise<void> {
    let after = lease.cursor;
    const renewal = leases.executor.dialect === 'sqlite' ? undefined : keepAlive(lease, owner);
    let finished = false;
    try {
      for (;;) {
        // A driver that answers synchronously (better-sqlite3) never lets the event loop reach
        // its poll phase, where signals are delivered: yield once per batch so Ctrl-C is seen.
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (stop()) return;
        const rows = await access.readBatch(
          access.executor,
          { lo: lease.lo, hi: lease.hi, after },
          options.batch,
          work.keysOnly,
        );
        if (rows.length === 0) {
          await leases.complete(job, access.name, lease, owner);
          finished = true;
          return;
        }
        // Planned before the transaction, so keyring calls hold no locks; rows the app changed
        // meanwhile are re-read (locked), re-planned and re-written inside it by core's protocol.
        const plan = await work.plan(rows);
        const next = (rows[rows.length - 1] as Record<string, unknown>)[access.key];
        // Counted here, recorded after the commit: the executor may run this callback again.
        const outcome = await access.executor.transaction(async (tx) => {
          const problems = [...plan.problems];
          const rewrite = await rewriteRows<unknown, Record<string, unknown>, GuardedWrite>({
            rows,
            planned: plan.writes,
            idOf: (write) => write.key,
            maxAttempts: (options.maxRetries ?? 5) + 1,
            port: {
              plan: async (current) => {
                const again = await work.plan(current);
                problems.push(...again.problems);
                return again.writes;
              },
              write: (writes) => writeAll(tx, writes),
              reread: (keys) => access.readByKeys(tx, keys, work.keysOnly, true),
            },
          });
          await leases.checkpoint(tx, job, access.name, lease, owner, next, rows.length);
          return { ...rewrite, problems };
        });
        for (const key of outcome.conflicts) result.conflicts.push(String(key));
        for (const problem of outcome.problems) {
          result.problemCount++;
          // Listed up to a bound (a keyring missing for every row must not hold every row in memory).
          if (result.problems.length < MAX_LISTED) result.problems.push(problem);
        }
        result.scanned += rows.length;
        result.written += outcome.written.length;
        result.guardMisses += outcome.misses;
        options.onBatch?.({ model: table.model, scanned: rows.length, written: outcome.written.length });
        after = next;
      }
    } finally {
      renewal?.stop();
      // Stopped (a signal) or failed: give the chunk back now, cursor kept, instead of making
      // the next run wait for the lease to expire. A lost lease is not ours to release.
      if (!finished) await leases.release(job, access.name, lease, owner).catch(() => undefined);
    }
  }

  /** Writes the batch; resolves, per write, whether it landed (a miss: the row changed meanwhile). */
  async function writeAll(tx: SqlExecutor, writes: readonly GuardedWrite[]): Promise<boolean[]> {
    if (writes.length === 0) return [];
    const perRow = 1 + work.setColumns.length + work.guardColumns.length;
    // PostgreSQL binds one array per column (any batch size); elsewhere one parameter per value.
    const size = tx.dialect === 'postgres' ? writes.length : Math.max(1, Math.floor(MAX_PARAMS / perRow));
    let affected = 0;
    for (let i = 0; i < writes.length; i += size) {
      const slice = writes.slice(i, i + size);
      const { sql, params } = batchedGuardedUpdate(
        tx.dialect,
        {
          table: access.name,
          keyColumn: access.key,
          setColumns: work.setColumns,
          guardColumns: work.guardColumns,
          pgTypes: access.pgTypes,
        },
        slice,
      );
      try {
        affected += await tx.execute(sql, params);
      } catch (cause) {
        throw databaseError(cause, `writing a batch of ${table.model}`, table.table);
      }
    }
    if (affected === writes.length) return writes.map(() => true);
    const unwritten = new Set((await findUnwritten(tx, writes)).map(String));
    return writes.map((write) => !unwritten.has(String(write.key)));
  }

  /** Which writes did not land: their rows do not hold what was written. */
  async function findUnwritten(tx: SqlExecutor, writes: readonly GuardedWrite[]): Promise<unknown[]> {
    const rows = await access.readByKeys(
      tx,
      writes.map((w) => w.key),
    );
    const byKey = new Map(rows.map((row) => [String(row[access.key]), row]));
    return writes
      .filter((write) => {
        const row = byKey.get(String(write.key));
        return !row || !work.setColumns.every((c, i) => same(row[c], write.set[i]));
      })
      .map((write) => write.key);
  }

  function keepAlive(lease: Lease, owner: string): { stop(): void } {
    const timer = setInterval(
      () => {
        leases.renew(job, access.name, lease, owner).catch(() => undefined);
      },
      Math.max(1_000, leases.options.leaseMs / 3),
    );
    timer.unref();
    return { stop: () => clearInterval(timer) };
  }
}

function same(a: unknown, b: unknown): boolean {
  if (a === null || a === undefined) return b === null || b === undefined;
  if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.from(a).equals(Buffer.from(b));
  return String(a) === String(b);
}

/** Guards against running a table job without a usable key column. */
export function assertSingleKey(table: StoredTable): void {
  if (table.primaryKey.length !== 1)
    throw new CliError('unsupported-table', `Model ${table.model} needs a single-column primary key`);
}
