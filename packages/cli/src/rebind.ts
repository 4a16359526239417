import {
  BlindIndex,
  bindingOf,
  isEncryptedValue,
  isFieldsealError,
  isKeyringError,
  RowEnvelope,
  type RowValues,
  rebindRow,
  rewriteRows,
  type StoredTable,
} from '@fieldseal/core';
import { type FieldsealConfig, selectTables } from './config.js';
import { CliError, databaseError, keyringUnavailable } from './errors.js';
import { blindIndexOf, isOutage, type RowProblem } from './row-work.js';
import { nullSafeEquals, Params } from './sql-dialect.js';
import { TableAccess } from './table-access.js';
import { retryingExecutor } from './transient.js';

/** Options of {@link rebind}. */
export interface RebindOptions {
  /** The model (or table) whose rows move. Required: `from` names one model's old binding. */
  readonly model: string;
  /** The encryption name the rows are bound to now (usually the table's old name). */
  readonly from: string;
  /** The encryption name to bind them to. Defaults to the model's configured one (`binding`, else `table`). */
  readonly to?: string;
  /** Rows read per batch; each batch's writes run in one transaction. Defaults to 500. */
  readonly batch?: number;
  /** Count what would move; write nothing. */
  readonly dryRun?: boolean;
  /** Called once before work starts with the table's row count. */
  readonly onStart?: (rows: number) => void;
  /** Called after each batch with the rows it scanned. */
  readonly onBatch?: (scanned: number) => void;
  /** Stops after the current batch once it returns true; a later run resumes. */
  readonly shouldStop?: () => boolean;
}

/** The outcome of {@link rebind}; `ok` is false when rows were left (conflicts, problems, a stop). */
export interface RebindReport {
  readonly command: 'rebind';
  readonly model: string;
  readonly from: string;
  readonly to: string;
  readonly dryRun: boolean;
  scanned: number;
  /** Rows moved from `from` to `to` by this run (or, in a dry run, that would be). */
  rebound: number;
  /** Rows already bound to `to` (moved by an earlier run, or written by the app under `to`). */
  already: number;
  /** Rows with no data key (plaintext or empty): bound to nothing. */
  unbound: number;
  /** Ids of rows that kept changing under concurrent writes (3 attempts); run again. */
  conflicts: string[];
  /** Rows that open under neither name, or are damaged. */
  undecryptable: number;
  /** The first 100 of them, by id and error code; never their values. */
  problems: RowProblem[];
  stopped: boolean;
  seconds: number;
  ok: boolean;
}

const ATTEMPTS = 3;
const MAX_LISTED = 100;

/** True when a key failed to unwrap because it was made for another context (another name). */
function isOtherBinding(error: unknown): boolean {
  return isKeyringError(error) && (error.code === 'unwrap-failed' || error.code === 'invalid-ciphertext');
}

/**
 * Moves a model's rows from encryption name `from` to `to` (after a table rename, or to pin a
 * new encryption name), batch by batch in key order. Each row is tried under the name that
 * opened the previous row first: rows already under `to` are skipped, so a stopped or failed
 * run is resumed by running it again. Each row is written with a fresh data key in one UPDATE
 * guarded on its data key and every encrypted value read, so a concurrent write is never lost:
 * the row is re-read and moved again (up to 3 attempts, then reported as a conflict).
 */
export async function rebind(config: FieldsealConfig, options: RebindOptions): Promise<RebindReport> {
  const started = performance.now();
  if (typeof options.model !== 'string' || options.model.length === 0)
    throw new CliError('usage', "rebind needs --model <name>: --from names one model's old encryption name");
  const [table] = selectTables(config, options.model) as [StoredTable];
  if (table.tenantColumn !== undefined)
    throw new CliError(
      'unsupported-table',
      `rebind does not move tenant-scoped rows (model ${table.model}, tenant column ${table.tenantColumn}) yet; pin the encryption name instead (docs/rebind.md)`,
    );
  const to = options.to ?? bindingOf(table);
  if (!options.from || !to) throw new CliError('usage', 'rebind needs --from <name> (and a non-empty --to)');
  if (options.from === to)
    throw new CliError('usage', `--from and --to are both "${to}"; nothing would move (see docs/rebind.md)`);
  const batch = options.batch ?? 500;
  if (!Number.isInteger(batch) || batch < 1) throw new CliError('usage', '--batch must be at least 1');
  const access = new TableAccess(retryingExecutor(config.executor), table);
  await access.check();
  const envelope = new RowEnvelope({
    keyring: config.keyring,
    ...(config.encryptionContext ? { encryptionContext: config.encryptionContext } : {}),
  });
  let index: BlindIndex | undefined;
  if (table.columns.some((c) => c.blindIndex)) {
    if (config.blindIndexKey === undefined)
      throw new CliError(
        'invalid-config',
        `"blindIndexKey" is required to rebind ${table.model}: its blind indexes are bound to the name too`,
      );
    try {
      index = await BlindIndex.open({
        keyring: config.keyring,
        wrappedKey: config.blindIndexKey,
        ...(config.blindIndexBytes === undefined ? {} : { bytes: config.blindIndexBytes }),
      });
    } catch (cause) {
      throw keyringUnavailable(cause);
    }
  }
  const report: RebindReport = {
    command: 'rebind',
    model: table.model,
    from: options.from,
    to,
    dryRun: options.dryRun === true,
    scanned: 0,
    rebound: 0,
    already: 0,
    unbound: 0,
    undecryptable: 0,
    conflicts: [],
    problems: [],
    stopped: false,
    seconds: 0,
    ok: false,
  };
  const mover = new RowMover(access, envelope, index, options.from, to, report);
  options.onStart?.(await access.count());
  let after: unknown = null;
  for (;;) {
    if (options.shouldStop?.()) {
      report.stopped = true;
      break;
    }
    const rows = await access.readBatch(access.executor, { lo: null, hi: null, after }, batch);
    if (rows.length === 0) break;
    await mover.batch(rows);
    report.scanned += rows.length;
    after = rows[rows.length - 1]?.[access.key];
    options.onBatch?.(rows.length);
  }
  report.seconds = (performance.now() - started) / 1000;
  report.ok = !report.stopped && report.conflicts.length === 0 && report.undecryptable === 0;
  return report;
}

/** One row's planned write: the columns to set, guarded on the values read. */
interface Move {
  readonly key: unknown;
  readonly set: Record<string, unknown>;
  readonly guard: Record<string, unknown>;
}

/** Decides and writes the rows of one table (see {@link rebind}). */
class RowMover {
  #preferTo = false;
  readonly #encrypted: readonly StoredTable['columns'][number][];

  constructor(
    readonly access: TableAccess,
    readonly envelope: RowEnvelope,
    readonly index: BlindIndex | undefined,
    readonly from: string,
    readonly to: string,
    readonly report: RebindReport,
  ) {
    this.#encrypted = access.table.columns;
  }

  /** Plans and writes one batch; core's rewrite protocol re-reads and retries rows whose write missed. */
  async batch(rows: readonly Record<string, unknown>[]): Promise<void> {
    const plan = async (current: readonly Record<string, unknown>[]) => {
      const moves: Move[] = [];
      for (const row of current) {
        const move = await this.plan(row);
        if (move) moves.push(move);
      }
      return moves;
    };
    if (this.report.dryRun) {
      this.report.rebound += (await plan(rows)).length;
      return;
    }
    const outcome = await rewriteRows<unknown, Record<string, unknown>, Move>({
      rows,
      idOf: (move) => move.key,
      maxAttempts: ATTEMPTS,
      port: {
        plan,
        write: async (moves) => {
          const missed = new Set((await this.write(moves)).map(String));
          return moves.map((move) => !missed.has(String(move.key)));
        },
        reread: (keys) => this.access.readByKeys(this.access.executor, keys),
      },
    });
    this.report.rebound += outcome.written.length;
    this.report.conflicts.push(...outcome.conflicts.map((key) => String(key)));
  }

  /** What to write for one row, or nothing (already under `to`, unbound, or a problem). */
  async plan(row: Record<string, unknown>): Promise<Move | undefined> {
    const { table } = this.access;
    const key = row[this.access.key];
    const rowId = key as string | number | bigint;
    const dataKey = row[table.dataKeyColumn];
    const values: RowValues<unknown> = Object.fromEntries(
      this.#encrypted.map((c) => [c.column, row[c.column]]),
    );
    if (dataKey === null || dataKey === undefined) {
      if (!Object.values(values).some(isEncryptedValue)) {
        this.report.unbound++;
        return undefined;
      }
    }
    const underTo = () =>
      this.envelope.decryptRow({ table: this.to, values, dataKey, rowId, readMode: 'tolerant' });
    const moved = () =>
      this.report.dryRun
        ? this.envelope.decryptRow({ table: this.from, values, dataKey, rowId, readMode: 'tolerant' })
        : rebindRow(this.envelope, { from: this.from, to: this.to, values, dataKey, rowId });
    const order = this.#preferTo ? [underTo, moved] : [moved, underTo];
    let first: unknown;
    for (const attempt of order) {
      try {
        const result = await attempt();
        this.#preferTo = attempt === underTo;
        if (attempt === underTo) {
          this.report.already++;
          return undefined;
        }
        return this.report.dryRun ? { key, set: {}, guard: {} } : this.moveOf(row, key, result as never);
      } catch (error) {
        if (!isOtherBinding(error)) {
          if (isOutage(error)) throw error; // KMS down or key unusable: not the row's fault
          this.problem(key, error);
          return undefined;
        }
        first ??= error;
      }
    }
    this.problem(key, first);
    return undefined;
  }

  moveOf(row: Record<string, unknown>, key: unknown, moved: Awaited<ReturnType<typeof rebindRow>>): Move {
    const { table } = this.access;
    const set: Record<string, unknown> = { [table.dataKeyColumn]: moved.dataKey };
    const guard: Record<string, unknown> = { [table.dataKeyColumn]: row[table.dataKeyColumn] };
    const target = { ...table, binding: this.to };
    for (const column of this.#encrypted) {
      guard[column.column] = row[column.column];
      const value = moved.values[column.column];
      if (value === undefined) continue; // null or plaintext: bound to nothing, left alone
      set[column.column] = value;
      if (column.blindIndex && this.index) {
        const plain = moved.plaintext[column.column] as string | Uint8Array;
        set[column.blindIndex.column] = blindIndexOf(this.index, target, column, plain);
      }
    }
    return { key, set, guard };
  }

  /** Writes the moves in one transaction, one guarded UPDATE each; returns the keys that missed. */
  async write(moves: readonly Move[]): Promise<unknown[]> {
    if (moves.length === 0) return [];
    const { executor } = this.access;
    const q = (name: string) => this.access.q(name);
    const type = (column: string) => this.access.pgTypes.get(column);
    try {
      return await executor.transaction(async (tx) => {
        const missed: unknown[] = [];
        for (const move of moves) {
          const params = new Params(executor.dialect);
          const sets = Object.entries(move.set).map(([c, v]) => `${q(c)} = ${params.add(v, type(c))}`);
          const where = [`${q(this.access.key)} = ${params.add(move.key, type(this.access.key))}`];
          for (const [c, v] of Object.entries(move.guard))
            where.push(nullSafeEquals(executor.dialect, q(c), params.add(v, type(c))));
          const sql = `UPDATE ${this.access.name} SET ${sets.join(', ')} WHERE ${where.join(' AND ')}`;
          if ((await tx.execute(sql, params.values)) !== 1) missed.push(move.key);
        }
        return missed;
      });
    } catch (cause) {
      throw databaseError(cause, `rebinding ${this.access.table.model}`, this.access.table.table);
    }
  }

  problem(key: unknown, error: unknown): void {
    this.report.undecryptable++;
    if (this.report.problems.length >= MAX_LISTED) return;
    const e = error as { location?: { column?: string } };
    this.report.problems.push({
      model: this.access.table.model,
      rowId: String(key),
      ...(e?.location?.column ? { column: e.location.column } : {}),
      code: isFieldsealError(error) ? error.code : 'error',
      message: error instanceof Error ? error.message : String(error),
    });
  }
}
