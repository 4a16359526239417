import type { StoredTable } from '@fieldseal/core';
import type { FieldsealConfig } from './config.js';
import { CliError, databaseError } from './errors.js';
import { emptyResult, MAX_LISTED, runJob, type TableResult } from './job-runner.js';
import { LeaseTable } from './leases.js';
import type { RowWork } from './row-work.js';
import type { TableAccess } from './table-access.js';

/** Options shared by migrate and rotate. */
export interface JobOptions {
  /** Only this model (or table). Defaults to every configured model. */
  readonly model?: string;
  /** Rows per batch (one transaction each). Defaults to 1,000. */
  readonly batch?: number;
  /** Chunks worked on in parallel by this process. Defaults to 1. */
  readonly concurrency?: number;
  /** Count what would change; write nothing (not even the lease table). Defaults to false. */
  readonly dryRun?: boolean;
  /** Rows per chunk when the job's key range is first split. Defaults to 50,000. */
  readonly chunkRows?: number;
  /** Seconds a chunk stays claimed without progress before another worker may take it. Defaults to 60. */
  readonly leaseSeconds?: number;
  /** Called with the rows scanned by each committed batch (progress). */
  readonly onBatch?: (event: { model: string; scanned: number; written: number }) => void;
  /**
   * Called once per table before work starts: `rows` counted in the table at that moment (the
   * progress denominator) and rows already scanned by an earlier, interrupted run of this job.
   */
  readonly onStart?: (event: { model: string; rows: number; done: number }) => void;
  /** Called when this process waits for a chunk another live worker holds. */
  readonly onWait?: (event: { model: string; chunk: number; owner: string; expiresInMs: number }) => void;
  /** Stops after the current batch once it returns true; claimed chunks are given back. */
  readonly shouldStop?: () => boolean;
}

/** The outcome of migrate, decrypt or rotate. */
export interface JobReport {
  readonly command: 'migrate' | 'decrypt' | 'rotate' | 'upgrade';
  /** The job's identity in the lease table: direction, target key and format. */
  readonly job: string;
  readonly dryRun: boolean;
  readonly tables: readonly (TableResult & { wouldWrite?: number })[];
  readonly totals: {
    scanned: number;
    written: number;
    conflicts: number;
    problems: number;
    remaining: number;
  };
  readonly seconds: number;
  readonly rowsPerSecond: number;
  /** False when rows were left undone (conflicts, row problems, rows still pending after the run): exit code 1. */
  readonly ok: boolean;
  /**
   * rotate only: the config's blind-index key re-wrapped under the target master key, to put in
   * the config (and the app's) before the old master key is retired. Absent when it already was.
   */
  readonly blindIndexKey?: string;
}

/** What a job is, for {@link runJobs}. */
export interface JobSpec {
  readonly command: JobReport['command'];
  /** Identity of the job in the lease table (see {@link LeaseTable.adopt}). */
  readonly job: string;
  readonly workFor: (table: StoredTable) => RowWork;
  /** True for a row this job still has to change (dry-run count, and the check after the run). */
  readonly pending: (table: StoredTable, row: Record<string, unknown>) => boolean;
  /** Only the key and data-key columns are needed to decide `pending`. */
  readonly keysOnly?: boolean | undefined;
  /** SQL selecting a superset of the pending rows, so the scans read only candidates. */
  readonly candidates?: (access: TableAccess) => string;
}

/** A whole number of at least 1, or the default; `CliError('usage')` naming the option otherwise. */
export function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1)
    throw new CliError('usage', `--${name} must be a whole number of at least 1`);
  return value;
}

/** The lease table, on the table's own executor (which retries transient errors: see `prepare`). */
function leaseTableFor(config: FieldsealConfig, access: TableAccess, options: JobOptions): LeaseTable {
  return new LeaseTable(access.executor, {
    name: config.leaseTable ?? 'fieldseal_leases',
    ...(access.table.schema ? { schema: access.table.schema } : {}),
    leaseMs: (options.leaseSeconds ?? 60) * 1000,
    chunkRows: options.chunkRows ?? 50_000,
  });
}

/** Reads the whole table in key order and counts the rows `pending` selects (their first ids too). */
export async function scanPending(
  access: TableAccess,
  spec: Pick<JobSpec, 'pending' | 'keysOnly' | 'candidates'>,
  batch: number,
  onBatch?: (scanned: number) => void,
): Promise<{ scanned: number; count: number; ids: string[] }> {
  const out = { scanned: 0, count: 0, ids: [] as string[] };
  let after: unknown = null;
  const filter = spec.candidates?.(access);
  for (;;) {
    const rows = await access.readBatch(
      access.executor,
      { lo: null, hi: null, after },
      batch,
      spec.keysOnly,
      filter,
    );
    if (rows.length === 0) return out;
    for (const row of rows) {
      if (!spec.pending(access.table, row)) continue;
      out.count++;
      if (out.ids.length < MAX_LISTED) out.ids.push(String(row[access.key]));
    }
    out.scanned += rows.length;
    onBatch?.(rows.length);
    after = (rows[rows.length - 1] as Record<string, unknown>)[access.key];
  }
}

/** Makes `job` the table's only job and plans its chunks (once, whichever worker comes first). */
async function prepareJob(leases: LeaseTable, job: string, access: TableAccess) {
  await leases.ensure();
  await leases.adopt(job, access.name);
  const rows = await access.count();
  const planned = await leases.plan(job, access);
  return { rows, planned };
}

/**
 * Runs one job over each table: a dry run only counts; a real run makes the job the table's
 * only job, runs it to the end from its checkpoints, then scans the table once more and counts
 * the rows that still need it ("done" means checked, not merely "every chunk was visited").
 */
export async function runJobs(
  config: FieldsealConfig,
  accesses: readonly TableAccess[],
  spec: JobSpec,
  options: JobOptions,
): Promise<JobReport> {
  const began = Date.now();
  const batch = positive('batch', options.batch, 1_000);
  const concurrency = positive('concurrency', options.concurrency, 1);
  positive('chunk-rows', options.chunkRows, 1);
  const results: (TableResult & { wouldWrite?: number })[] = [];
  for (const access of accesses) {
    const model = access.table.model;
    if (options.dryRun) {
      options.onStart?.({ model, rows: await access.count(), done: 0 });
      // Every row is read (no candidate filter), so "rows scanned" means the whole table.
      const scan = await scanPending(
        access,
        { pending: spec.pending, keysOnly: spec.keysOnly },
        batch,
        (scanned) => options.onBatch?.({ model, scanned, written: 0 }),
      );
      results.push({ ...emptyResult(model), scanned: scan.scanned, wouldWrite: scan.count });
      continue;
    }
    const leases = leaseTableFor(config, access, options);
    const { rows, planned } = await prepareJob(leases, spec.job, access).catch((cause: unknown) => {
      throw databaseError(cause, `starting ${spec.command} of ${model}`, access.table.table);
    });
    options.onStart?.({ model, rows, done: planned.rowsDone });
    const result = await runJob(spec.job, access, spec.workFor(access.table), leases, {
      batch,
      concurrency,
      ...(options.onBatch ? { onBatch: options.onBatch } : {}),
      ...(options.onWait ? { onWait: options.onWait } : {}),
      ...(options.shouldStop ? { shouldStop: options.shouldStop } : {}),
    }).catch((cause: unknown) => {
      throw databaseError(cause, `running ${spec.command} on ${model}`, access.table.table);
    });
    if (!options.shouldStop?.()) {
      const left = await scanPending(access, spec, Math.max(batch, 5_000));
      result.remaining = left.count;
      result.remainingIds = left.ids;
    }
    results.push(result);
  }
  const sum = (of: (r: TableResult) => number) => results.reduce((n, r) => n + of(r), 0);
  const totals = {
    scanned: sum((r) => r.scanned),
    written: sum((r) => r.written),
    conflicts: sum((r) => r.conflicts.length),
    problems: sum((r) => r.problemCount),
    remaining: sum((r) => r.remaining ?? 0),
  };
  const seconds = (Date.now() - began) / 1000;
  return {
    command: spec.command,
    job: spec.job,
    dryRun: options.dryRun === true,
    tables: results,
    totals,
    seconds,
    rowsPerSecond: seconds > 0 ? Math.round(totals.scanned / seconds) : totals.scanned,
    ok: totals.conflicts === 0 && totals.problems === 0 && totals.remaining === 0,
  };
}
