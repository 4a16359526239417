import {
  BLIND_INDEX_CONTEXT,
  BlindIndex,
  bindingOf,
  FORMAT_VERSION,
  formatDataKey,
  isEncryptedValue,
  isKeyringError,
  type Keyring,
  parseDataKey,
  RowEnvelope,
  type StoredTable,
} from '@fieldseal/core';
import { type FieldsealConfig, selectTables } from './config.js';
import { CliError, detailOf, keyringUnavailable } from './errors.js';
import { removeGuards } from './guards.js';
import { withLocalErrors } from './keyring-errors.js';
import {
  decryptWork,
  isOutage,
  migrateWork,
  Rewrapper,
  type RowProblem,
  rewrappingKeyringOf,
  rotateWork,
  type WorkContext,
} from './row-work.js';
import { type JobOptions, type JobReport, positive, runJobs } from './run-jobs.js';
import { TableAccess } from './table-access.js';
import { retryingExecutor } from './transient.js';
import { isV1Row, upgradeWork } from './upgrade-work.js';
import { type StatusResult, statusOfTable, type VerifyResult, verifyTable } from './verify.js';

interface Prepared {
  readonly ctx: WorkContext;
  readonly accesses: TableAccess[];
  /** The config's keyring, its failures as this copy of core's error classes. */
  readonly keyring: Keyring;
  /** Why the blind-index key could not be opened, when `blindIndex` was `'optional'`. */
  readonly blindIndexProblem?: string;
}

/**
 * Checks database, tables and keyring before anything is written. The blind-index key is
 * opened when `blindIndex` is `'required'` (migrate) or `'optional'` (verify: a keyring that
 * cannot open it still lets every row be checked, and the report says what was not).
 */
async function prepare(
  config: FieldsealConfig,
  tables: StoredTable[],
  blindIndex: 'required' | 'optional' | 'none',
): Promise<Prepared> {
  try {
    await config.executor.query('SELECT 1 AS ok');
  } catch (cause) {
    throw new CliError('database-unreachable', `Cannot reach the database: ${detailOf(cause)}`, { cause });
  }
  // Several processes share a job (and the app writes beside them): a busy database or a
  // deadlock victim is retried, not reported as a failure of the run.
  const executor = retryingExecutor(config.executor);
  const accesses = tables.map((table) => new TableAccess(executor, table));
  for (const access of accesses) await access.check();
  const keyring = withLocalErrors(config.keyring);
  const envelope = new RowEnvelope({
    keyring,
    ...(config.encryptionContext ? { encryptionContext: config.encryptionContext } : {}),
  });
  let index: BlindIndex | undefined;
  let blindIndexProblem: string | undefined;
  const indexed = tables.some((t) => t.columns.some((c) => c.blindIndex));
  if (blindIndex !== 'none' && config.blindIndexKey !== undefined && indexed) {
    try {
      index = await BlindIndex.open({
        keyring,
        wrappedKey: config.blindIndexKey,
        ...(config.blindIndexBytes === undefined ? {} : { bytes: config.blindIndexBytes }),
      });
    } catch (cause) {
      const error = keyringUnavailable(cause, 'cannot open the blind-index key');
      if (blindIndex === 'required' || isOutage(cause)) throw error;
      blindIndexProblem = error.message;
    }
  }
  return {
    ctx: { envelope, blindIndex: index },
    accesses,
    keyring,
    ...(blindIndexProblem ? { blindIndexProblem } : {}),
  };
}

function hasPlaintext(table: StoredTable, row: Record<string, unknown>): boolean {
  return table.columns.some((c) => {
    const value = row[c.column];
    return value !== null && value !== undefined && !isEncryptedValue(value);
  });
}

function hasDataKeyOrCiphertext(table: StoredTable, row: Record<string, unknown>): boolean {
  const dataKey = row[table.dataKeyColumn];
  return (
    (dataKey !== null && dataKey !== undefined) || table.columns.some((c) => isEncryptedValue(row[c.column]))
  );
}

/**
 * Encrypts the plaintext values of existing rows (or, with `decrypt`, writes plaintext back).
 * Resumable and safe to run from several processes at once. After the run the table is scanned
 * again: rows still holding plaintext (or, with `decrypt`, ciphertext) make the report not ok.
 */
export async function migrate(
  config: FieldsealConfig,
  options: JobOptions & { readonly decrypt?: boolean } = {},
): Promise<JobReport> {
  const tables = selectTables(config, options.model);
  const prepared = await prepare(config, tables, options.decrypt ? 'none' : 'required');
  const indexed = tables.filter((table) => table.columns.some((column) => column.blindIndex));
  if (!options.decrypt && indexed.length > 0 && config.blindIndexKey === undefined) {
    throw new CliError(
      'invalid-config',
      `"blindIndexKey" is required to migrate models with blind indexes (${indexed.map((t) => t.model).join(', ')})`,
    );
  }
  if (options.decrypt) {
    // The guards refuse plaintext: they go first, or every decrypted row would be refused.
    if (!options.dryRun) await removeGuards(config, { model: options.model });
    return runJobs(
      config,
      prepared.accesses,
      {
        command: 'decrypt',
        job: 'decrypt',
        workFor: (table) => decryptWork(table, prepared.ctx),
        pending: hasDataKeyOrCiphertext,
      },
      options,
    );
  }
  let keyId = '(none)';
  const first = tables[0];
  if (first) {
    try {
      // Fails here, before any write, when the key service is down or the master key unusable.
      const probe = await prepared.keyring.generateDataKey(
        prepared.ctx.envelope.contextFor(bindingOf(first)),
        {
          encryptions: 1,
        },
      );
      keyId = probe.keyId;
    } catch (cause) {
      throw keyringUnavailable(cause, 'cannot make a data key');
    }
  }
  return runJobs(
    config,
    prepared.accesses,
    {
      command: 'migrate',
      // Checkpoints belong to this job only: the target master key and value format are part of it.
      job: `migrate key=${keyId} format=v${FORMAT_VERSION}`,
      workFor: (table) => migrateWork(table, prepared.ctx),
      pending: hasPlaintext,
      candidates: (access) => access.plaintextCandidates(),
    },
    options,
  );
}

/**
 * Proves the target master key can be used before any row is touched (in a dry run too): a
 * probe data key is made, re-wrapped under `to`, unwrapped again and compared. Returns the
 * rewrapper, which knows the target's full id (a KMS alias resolves to a key ARN).
 */
async function probeTarget(
  prepared: Prepared,
  config: FieldsealConfig,
  table: StoredTable | undefined,
  to: string,
): Promise<Rewrapper> {
  const keyring = withLocalErrors(rewrappingKeyringOf(config.keyring));
  const rewrapper = new Rewrapper(keyring, to, prepared.ctx.envelope);
  // A symbolic target (`branch:active`) names one key per tenant: rows already under one of them
  // are done, so a rerun (or the final count of rows left) does not take them for pending.
  try {
    for (const id of (await keyring.currentKeyIds?.(to)) ?? []) rewrapper.targetIds.add(id);
  } catch (cause) {
    throw keyringUnavailable(cause, `cannot tell which keys "${to}" stands for`);
  }
  if (!table) return rewrapper;
  const context = prepared.ctx.envelope.contextFor(bindingOf(table));
  let probe: { plaintextKey: Uint8Array; encryptedKey: Uint8Array };
  try {
    const made = await prepared.keyring.generateDataKey(context);
    // Copied at once: a caching keyring may wipe its plaintext key later.
    probe = { plaintextKey: Uint8Array.from(made.plaintextKey), encryptedKey: made.encryptedKey };
  } catch (cause) {
    throw keyringUnavailable(cause, 'cannot make a data key');
  }
  try {
    const out = await keyring.reEncryptDataKey(probe.encryptedKey, context, { destinationKeyId: to });
    const back = await keyring.decryptDataKey(out.encryptedKey, context);
    if (!Buffer.from(back).equals(Buffer.from(probe.plaintextKey)))
      throw new CliError(
        'keyring-unavailable',
        `Master key "${to}" unwrapped a different data key than it wrapped`,
      );
    rewrapper.targetIds.add(out.keyId);
  } catch (cause) {
    if (cause instanceof CliError) throw cause;
    throw keyringUnavailable(
      cause,
      `cannot use master key "${to}" (a probe data key was re-wrapped under it and unwrapped)`,
    );
  } finally {
    probe.plaintextKey.fill(0);
  }
  return rewrapper;
}

/** Re-wraps every row's data key under master key `to`; field ciphertext is not touched. */
export async function rotate(
  config: FieldsealConfig,
  options: JobOptions & { readonly to: string },
): Promise<JobReport> {
  if (typeof options.to !== 'string' || options.to.length === 0)
    throw new CliError('usage', 'rotate needs --to <keyId>');
  const tables = selectTables(config, options.model);
  const prepared = await prepare(config, tables, 'none');
  const rewrapper = await probeTarget(prepared, config, tables[0], options.to);
  const target = [...rewrapper.targetIds].at(-1) as string;
  const report = await runJobs(
    config,
    prepared.accesses,
    {
      command: 'rotate',
      job: `rotate to=${target}`,
      workFor: (table) => rotateWork(table, rewrapper),
      pending: (table, row) => {
        const dataKey = row[table.dataKeyColumn];
        if (dataKey === null || dataKey === undefined) return false;
        try {
          return !rewrapper.isCurrent(dataKey as string);
        } catch {
          return true; // a malformed data-key column: never counted as done
        }
      },
      keysOnly: true,
    },
    options,
  );
  // Once every row is under the target (a rerun finishes what conflicts or row errors left).
  if (options.dryRun || !report.ok || config.blindIndexKey === undefined) return report;
  // The blind-index key is wrapped by the master key too: re-wrap it, or retiring the old
  // master key would lose every index.
  const stored = parseDataKey(config.blindIndexKey, { table: '(blind index key)' });
  if (rewrapper.isCurrent(config.blindIndexKey)) return report;
  try {
    const out = await rewrapper.keyring.reEncryptDataKey(stored.encryptedKey, BLIND_INDEX_CONTEXT, {
      destinationKeyId: options.to,
    });
    return { ...report, blindIndexKey: formatDataKey({ keyId: out.keyId, encryptedKey: out.encryptedKey }) };
  } catch (cause) {
    throw keyringUnavailable(cause, 'cannot re-wrap the blind-index key');
  }
}

/**
 * Re-encrypts every row still in format v1 (`fs1:` values or a `fsk1:` data key, no row salt) as
 * v2, under the row's own data key; resumable like migrate. When `status` shows no v1 row left,
 * the app may set `acceptV1Values: false`.
 */
export async function upgrade(config: FieldsealConfig, options: JobOptions = {}): Promise<JobReport> {
  const tables = selectTables(config, options.model);
  const prepared = await prepare(config, tables, 'none');
  return runJobs(
    config,
    prepared.accesses,
    {
      command: 'upgrade',
      job: `upgrade format=v${FORMAT_VERSION}`,
      workFor: (table) => upgradeWork(table, prepared.ctx),
      pending: isV1Row,
    },
    options,
  );
}

/** The outcome of verify. */
export interface VerifyReport {
  readonly tables: readonly VerifyResult[];
  readonly undecryptable: number;
  readonly indexMismatches: number;
  readonly plaintext: number;
  /** Whether plaintext rows were accepted (`allowPlaintext`: a migration in progress). */
  readonly plaintextAllowed: boolean;
  /** Why blind indexes were not checked (the keyring cannot open the blind-index key); fails the report. */
  readonly blindIndexProblem?: string;
  /**
   * False when any value does not decrypt, any blind index is wrong, or — unless
   * `allowPlaintext` — any row still holds plaintext: exit code 1.
   */
  readonly ok: boolean;
}

/** Options of {@link verify}. */
export interface VerifyOptions {
  /** Only this model (or table). Defaults to every configured model. */
  readonly model?: string;
  /** Rows read per query. Defaults to 1,000. */
  readonly batch?: number;
  /** Rows holding plaintext do not make the report fail (a migration in progress). Defaults to false. */
  readonly allowPlaintext?: boolean;
  readonly onBatch?: (rows: number) => void;
  readonly onStart?: (rows: number) => void;
}

/**
 * Decrypts every value of every row (strictly); counts encrypted, plaintext and undecryptable
 * rows. Plaintext rows fail the report unless `allowPlaintext`: "verified" means encrypted.
 */
export async function verify(config: FieldsealConfig, options: VerifyOptions = {}): Promise<VerifyReport> {
  const tables = selectTables(config, options.model);
  const prepared = await prepare(config, tables, 'optional');
  const batch = positive('batch', options.batch, 1_000);
  const results: VerifyResult[] = [];
  for (const access of prepared.accesses) {
    options.onStart?.(await access.count());
    try {
      results.push(await verifyTable(access, prepared.ctx, batch, options.onBatch));
    } catch (cause) {
      // A keyring outage (not a row's fault) stops verify; anything else keeps its own type.
      if (isKeyringError(cause)) throw keyringUnavailable(cause, 'failed while verifying');
      throw cause;
    }
  }
  const undecryptable = results.reduce((n, r) => n + r.undecryptable, 0);
  const indexMismatches = results.reduce((n, r) => n + r.indexMismatches, 0);
  const plaintext = results.reduce((n, r) => n + r.plaintext, 0);
  const plaintextAllowed = options.allowPlaintext === true;
  return {
    tables: results,
    undecryptable,
    indexMismatches,
    plaintext,
    plaintextAllowed,
    ...(prepared.blindIndexProblem ? { blindIndexProblem: prepared.blindIndexProblem } : {}),
    ok:
      undecryptable === 0 &&
      indexMismatches === 0 &&
      prepared.blindIndexProblem === undefined &&
      (plaintextAllowed || plaintext === 0),
  };
}

/** Per model: rows, percent encrypted, rows per master key id. */
export async function status(
  config: FieldsealConfig,
  options: { model?: string; batch?: number } = {},
): Promise<{ tables: StatusResult[] }> {
  const tables = selectTables(config, options.model);
  const prepared = await prepare(config, tables, 'none');
  const batch = positive('batch', options.batch, 5_000);
  const results: StatusResult[] = [];
  for (const access of prepared.accesses) results.push(await statusOfTable(access, batch, prepared.keyring));
  return { tables: results };
}

export type { JobOptions, JobReport, RowProblem };
