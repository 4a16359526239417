import {
  BLIND_INDEX_CONTEXT,
  BlindIndex,
  bindingOf,
  formatDataKey,
  isEncryptedValue,
  parseDataKey,
  RowEnvelope,
  type StoredTable,
} from '@fieldseal/core';
import { type FieldsealConfig, selectTables } from './config.js';
import { CliError, keyringUnavailable } from './errors.js';
import { removeGuards } from './guards.js';
import { emptyResult, runJob, type TableResult } from './job-runner.js';
import { LeaseTable } from './leases.js';
import {
  decryptWork,
  migrateWork,
  Rewrapper,
  type RowProblem,
  type RowWork,
  rewrappingKeyringOf,
  rotateWork,
  type WorkContext,
} from './row-work.js';
import { TableAccess } from './table-access.js';
import { type StatusResult, statusOfTable, type VerifyResult, verifyTable } from './verify.js';

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
  /** Called once per table before work starts: expected rows and rows already done. */
  readonly onStart?: (event: { model: string; rows: number; done: number }) => void;
  /** Stops after the current batch once it returns true. */
  readonly shouldStop?: () => boolean;
}

/** The outcome of migrate, decrypt or rotate. */
export interface JobReport {
  readonly command: 'migrate' | 'decrypt' | 'rotate';
  readonly job: string;
  readonly dryRun: boolean;
  readonly tables: readonly (TableResult & { wouldWrite?: number })[];
  readonly totals: { scanned: number; written: number; conflicts: number; problems: number };
  readonly seconds: number;
  readonly rowsPerSecond: number;
  /** False when rows were left undone (conflicts or row problems): exit code 1. */
  readonly ok: boolean;
  /**
   * rotate only: the config's blind-index key re-wrapped under the target master key, to put in
   * the config (and the app's) before the old master key is retired. Absent when it already was.
   */
  readonly blindIndexKey?: string;
}

interface Prepared {
  readonly ctx: WorkContext;
  readonly accesses: TableAccess[];
}

/** Checks database, tables and keyring before anything is written. */
async function prepare(config: FieldsealConfig, tables: StoredTable[]): Promise<Prepared> {
  try {
    await config.executor.query('SELECT 1 AS ok');
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
    throw new CliError('database-unreachable', `Cannot reach the database: ${detail}`, { cause });
  }
  const accesses = tables.map((table) => new TableAccess(config.executor, table));
  for (const access of accesses) await access.check();
  const envelope = new RowEnvelope({
    keyring: config.keyring,
    ...(config.encryptionContext ? { encryptionContext: config.encryptionContext } : {}),
  });
  let blindIndex: BlindIndex | undefined;
  if (config.blindIndexKey !== undefined && tables.some((t) => t.columns.some((c) => c.blindIndex))) {
    try {
      blindIndex = await BlindIndex.open({
        keyring: config.keyring,
        wrappedKey: config.blindIndexKey,
        ...(config.blindIndexBytes === undefined ? {} : { bytes: config.blindIndexBytes }),
      });
    } catch (cause) {
      throw keyringUnavailable(cause);
    }
  }
  return { ctx: { envelope, blindIndex }, accesses };
}

function leaseTableFor(config: FieldsealConfig, access: TableAccess, options: JobOptions): LeaseTable {
  return new LeaseTable(config.executor, {
    name: config.leaseTable ?? 'fieldseal_leases',
    ...(access.table.schema ? { schema: access.table.schema } : {}),
    leaseMs: (options.leaseSeconds ?? 60) * 1000,
    chunkRows: options.chunkRows ?? 50_000,
  });
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1)
    throw new CliError('usage', `--${name} must be a whole number of at least 1`);
  return value;
}

async function runJobs(
  command: JobReport['command'],
  job: string,
  config: FieldsealConfig,
  prepared: Prepared,
  workFor: (table: StoredTable) => RowWork,
  wouldWrite: (table: StoredTable, row: Record<string, unknown>) => boolean,
  options: JobOptions,
): Promise<JobReport> {
  const began = Date.now();
  const batch = positive('batch', options.batch, 1_000);
  const concurrency = positive('concurrency', options.concurrency, 1);
  positive('chunk-rows', options.chunkRows, 1);
  const results: (TableResult & { wouldWrite?: number })[] = [];
  for (const access of prepared.accesses) {
    if (options.dryRun) {
      const result: TableResult & { wouldWrite: number } = {
        ...emptyResult(access.table.model),
        wouldWrite: 0,
      };
      options.onStart?.({ model: access.table.model, rows: await access.count(), done: 0 });
      let after: unknown = null;
      for (;;) {
        const rows = await access.readBatch(access.executor, { lo: null, hi: null, after }, batch);
        if (rows.length === 0) break;
        for (const row of rows) if (wouldWrite(access.table, row)) result.wouldWrite++;
        result.scanned += rows.length;
        options.onBatch?.({ model: access.table.model, scanned: rows.length, written: 0 });
        after = (rows[rows.length - 1] as Record<string, unknown>)[access.key];
      }
      results.push(result);
      continue;
    }
    const leases = leaseTableFor(config, access, options);
    await leases.ensure();
    const rows = await access.count();
    const planned = await leases.plan(job, access);
    options.onStart?.({ model: access.table.model, rows, done: planned.rowsDone });
    results.push(
      await runJob(job, access, workFor(access.table), leases, {
        batch,
        concurrency,
        ...(options.onBatch ? { onBatch: options.onBatch } : {}),
        ...(options.shouldStop ? { shouldStop: options.shouldStop } : {}),
      }),
    );
  }
  const totals = {
    scanned: results.reduce((n, r) => n + r.scanned, 0),
    written: results.reduce((n, r) => n + r.written, 0),
    conflicts: results.reduce((n, r) => n + r.conflicts.length, 0),
    problems: results.reduce((n, r) => n + r.problems.length, 0),
  };
  const seconds = (Date.now() - began) / 1000;
  return {
    command,
    job,
    dryRun: options.dryRun === true,
    tables: results,
    totals,
    seconds,
    rowsPerSecond: seconds > 0 ? Math.round(totals.scanned / seconds) : totals.scanned,
    ok: totals.conflicts === 0 && totals.problems === 0,
  };
}

function hasPlaintext(table: StoredTable, row: Record<string, unknown>): boolean {
  return table.columns.some((c) => {
    const value = row[c.column];
    return value !== null && value !== undefined && !isEncryptedValue(value);
  });
}

/**
 * Encrypts the plaintext values of existing rows (or, with `decrypt`, writes plaintext back).
 * Resumable and safe to run from several processes at once.
 */
export async function migrate(
  config: FieldsealConfig,
  options: JobOptions & { readonly decrypt?: boolean } = {},
): Promise<JobReport> {
  const tables = selectTables(config, options.model);
  const prepared = await prepare(config, tables);
  const indexed = tables.filter((table) => table.columns.some((column) => column.blindIndex));
  if (!options.decrypt && indexed.length > 0 && config.blindIndexKey === undefined) {
    throw new CliError(
      'invalid-config',
      `"blindIndexKey" is required to migrate models with blind indexes (${indexed.map((t) => t.model).join(', ')})`,
    );
  }
  const first = tables[0];
  if (first && !options.decrypt) {
    try {
      // Fails here, before any write, when the KMS is down or the key unusable.
      await config.keyring.generateDataKey(prepared.ctx.envelope.contextFor(bindingOf(first)), {
        encryptions: 1,
      });
    } catch (cause) {
      throw keyringUnavailable(cause);
    }
  }
  if (options.decrypt) {
    // The guards refuse plaintext: they go first, or every decrypted row would be refused.
    if (!options.dryRun) await removeGuards(config, { model: options.model });
    return runJobs(
      'decrypt',
      'decrypt',
      config,
      prepared,
      (table) => decryptWork(table, prepared.ctx),
      (table, row) => row[table.dataKeyColumn] !== null && row[table.dataKeyColumn] !== undefined,
      options,
    );
  }
  return runJobs(
    'migrate',
    'migrate',
    config,
    prepared,
    (table) => migrateWork(table, prepared.ctx),
    hasPlaintext,
    options,
  );
}

/** Re-wraps every row's data key under master key `to`; field ciphertext is not touched. */
export async function rotate(
  config: FieldsealConfig,
  options: JobOptions & { readonly to: string },
): Promise<JobReport> {
  if (typeof options.to !== 'string' || options.to.length === 0)
    throw new CliError('usage', 'rotate needs --to <keyId>');
  const tables = selectTables(config, options.model);
  const prepared = await prepare(config, tables);
  const keyring = rewrappingKeyringOf(config.keyring);
  const rewrapper = new Rewrapper(keyring, options.to, prepared.ctx.envelope);
  const first = tables[0];
  if (first && !options.dryRun) {
    try {
      // Proves the KMS is up and the target key usable before any write; learns its full id.
      const probe = await config.keyring.generateDataKey(prepared.ctx.envelope.contextFor(bindingOf(first)));
      const out = await keyring.reEncryptDataKey(
        probe.encryptedKey,
        prepared.ctx.envelope.contextFor(bindingOf(first)),
        {
          destinationKeyId: options.to,
        },
      );
      rewrapper.targetIds.add(out.keyId);
    } catch (cause) {
      throw keyringUnavailable(cause);
    }
  }
  const report = await runJobs(
    'rotate',
    `rotate:${options.to}`,
    config,
    prepared,
    (table) => rotateWork(table, rewrapper),
    (table, row) => {
      const dataKey = row[table.dataKeyColumn];
      if (dataKey === null || dataKey === undefined) return false;
      try {
        return !rewrapper.targetIds.has(parseDataKey(dataKey).keyId);
      } catch {
        return false;
      }
    },
    options,
  );
  if (options.dryRun || config.blindIndexKey === undefined) return report;
  // The blind-index key is wrapped by the master key too: re-wrap it, or retiring the old
  // master key would lose every index.
  const stored = parseDataKey(config.blindIndexKey, { table: '(blind index key)' });
  if (rewrapper.targetIds.has(stored.keyId)) return report;
  try {
    const out = await keyring.reEncryptDataKey(stored.encryptedKey, BLIND_INDEX_CONTEXT, {
      destinationKeyId: options.to,
    });
    return { ...report, blindIndexKey: formatDataKey({ keyId: out.keyId, encryptedKey: out.encryptedKey }) };
  } catch (cause) {
    throw keyringUnavailable(cause);
  }
}

/** The outcome of verify. */
export interface VerifyReport {
  readonly tables: readonly VerifyResult[];
  readonly undecryptable: number;
  readonly indexMismatches: number;
  readonly plaintext: number;
  /** False when any value does not decrypt or any blind index is wrong: exit code 1. */
  readonly ok: boolean;
}

/** Decrypts every value of every row (strictly); counts encrypted, plaintext and undecryptable rows. */
export async function verify(
  config: FieldsealConfig,
  options: {
    model?: string;
    batch?: number;
    onBatch?: (rows: number) => void;
    onStart?: (rows: number) => void;
  } = {},
): Promise<VerifyReport> {
  const tables = selectTables(config, options.model);
  const prepared = await prepare(config, tables);
  const batch = positive('batch', options.batch, 1_000);
  const results: VerifyResult[] = [];
  for (const access of prepared.accesses) {
    options.onStart?.(await access.count());
    try {
      results.push(await verifyTable(access, prepared.ctx, batch, options.onBatch));
    } catch (cause) {
      if (cause instanceof CliError) throw cause;
      throw keyringUnavailable(cause);
    }
  }
  const undecryptable = results.reduce((n, r) => n + r.undecryptable, 0);
  const indexMismatches = results.reduce((n, r) => n + r.indexMismatches, 0);
  return {
    tables: results,
    undecryptable,
    indexMismatches,
    plaintext: results.reduce((n, r) => n + r.plaintext, 0),
    ok: undecryptable === 0 && indexMismatches === 0,
  };
}

/** Per model: rows, percent encrypted, rows per master key id. */
export async function status(
  config: FieldsealConfig,
  options: { model?: string; batch?: number } = {},
): Promise<{ tables: StatusResult[] }> {
  const tables = selectTables(config, options.model);
  const prepared = await prepare(config, tables);
  const batch = positive('batch', options.batch, 5_000);
  const results: StatusResult[] = [];
  for (const access of prepared.accesses) results.push(await statusOfTable(access, batch));
  return { tables: results };
}

export type { RowProblem };
