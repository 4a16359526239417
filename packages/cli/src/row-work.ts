import {
  type BlindIndex,
  bindingOf,
  type FieldsealError,
  isEncryptedValue,
  isFieldsealError,
  isRewrappingKeyring,
  type Keyring,
  parseDataKey,
  type RewrappingKeyring,
  type RowEnvelope,
  rewrapRowDataKey,
  type StoredTable,
  type WrappedDataKey,
  wrappedPartOf,
} from '@fieldseal/core';
import { CliError } from './errors.js';
import type { GuardedWrite } from './sql-dialect.js';

/** A row the CLI could not process (reported with its id; never its values). */
export interface RowProblem {
  readonly model: string;
  readonly rowId: string;
  readonly column?: string;
  readonly code: string;
  readonly message: string;
}

/** The writes one batch needs, and what it skipped. */
export interface BatchPlan {
  readonly writes: GuardedWrite[];
  readonly problems: RowProblem[];
}

/** What a job does to each row: the columns it sets and guards, and how it computes them. */
export interface RowWork {
  readonly keysOnly: boolean;
  readonly setColumns: readonly string[];
  readonly guardColumns: readonly string[];
  plan(rows: readonly Record<string, unknown>[]): Promise<BatchPlan>;
}

/** The services every job shares. */
export interface WorkContext {
  readonly envelope: RowEnvelope;
  readonly blindIndex: BlindIndex | undefined;
}

type Plain = string | Uint8Array;

export function problemOf(table: StoredTable, key: unknown, error: unknown): RowProblem {
  const e = error as Partial<FieldsealError>;
  return {
    model: table.model,
    rowId: String(key),
    ...(e.location?.column ? { column: e.location.column } : {}),
    code: isFieldsealError(error) ? error.code : 'error',
    message: error instanceof Error ? error.message : String(error),
  };
}

const OUTAGES = new Set([
  'unavailable',
  'throttled',
  'access-denied',
  'key-disabled',
  'key-not-found',
  'key-pending-deletion',
  'not-allowed',
  'invalid-config',
]);

/**
 * True for failures that are not the row's fault (KMS down, key disabled, bad configuration):
 * they stop the run before anything of the batch is written. Other failures are the row's own
 * (altered ciphertext, a data key no key can unwrap) and are reported with its id.
 */
export function isOutage(error: unknown): boolean {
  return !isFieldsealError(error) || OUTAGES.has(error.code);
}

function isPlain(value: unknown): value is Plain {
  return typeof value === 'string' || value instanceof Uint8Array;
}

/** The blind-index value of a plaintext, as the adapters compute it (normalize on text only). */
export function blindIndexOf(
  index: BlindIndex,
  table: StoredTable,
  column: StoredTable['columns'][number],
  plaintext: Plain,
): string {
  const normalize = column.blindIndex?.normalize;
  const text = typeof plaintext === 'string' && normalize ? normalize(plaintext) : plaintext;
  return index.compute(bindingOf(table), column.column, text);
}

/**
 * migrate: encrypts the plaintext values of each row (a new data key when the row has none,
 * else the row's own key), sets blind indexes, guarded on the data key and every value read.
 */
export function migrateWork(table: StoredTable, ctx: WorkContext): RowWork {
  const key = table.primaryKey[0] as string;
  const columns = table.columns;
  const setColumns = [
    table.dataKeyColumn,
    ...columns.flatMap((c) => [c.column, ...(c.blindIndex ? [c.blindIndex.column] : [])]),
  ];
  const guardColumns = [table.dataKeyColumn, ...columns.map((c) => c.column)];
  const output = Object.fromEntries(columns.map((c) => [c.column, c.output]));
  return {
    keysOnly: false,
    setColumns,
    guardColumns,
    async plan(rows) {
      const writes: GuardedWrite[] = [];
      const problems: RowProblem[] = [];
      for (const row of rows) {
        const id = row[key];
        const dataKey = row[table.dataKeyColumn] ?? null;
        const plain: Record<string, Plain> = {};
        let ciphertext = false;
        let unsupported: string | undefined;
        for (const c of columns) {
          const value = row[c.column];
          if (value === null || value === undefined) continue;
          if (isEncryptedValue(value)) ciphertext = true;
          else if (isPlain(value)) plain[c.column] = value;
          else unsupported = c.column;
        }
        if (unsupported !== undefined) {
          problems.push({
            model: table.model,
            rowId: String(id),
            column: unsupported,
            code: 'unsupported-type',
            message: `Column ${unsupported} holds a value that is neither text nor bytes`,
          });
          continue;
        }
        if (Object.keys(plain).length === 0) continue; // encrypted already, or nothing to encrypt
        if (dataKey === null && ciphertext) {
          problems.push({
            model: table.model,
            rowId: String(id),
            code: 'missing-data-key',
            message: 'Row holds ciphertext but no data key; it was not changed',
          });
          continue;
        }
        try {
          const sealed = await ctx.envelope.encryptForRow({
            table: bindingOf(table),
            values: plain,
            dataKey,
            output,
            ...tenantOf(table, row),
          });
          const set: unknown[] = [sealed.dataKey];
          for (const c of columns) {
            const sealedValue = c.column in plain ? sealed.values[c.column] : row[c.column];
            set.push(sealedValue ?? null);
            if (!c.blindIndex) continue;
            const source = plain[c.column];
            set.push(
              source !== undefined && ctx.blindIndex
                ? blindIndexOf(ctx.blindIndex, table, c, source)
                : (row[c.blindIndex.column] ?? null),
            );
          }
          writes.push({ key: id, set, guard: [dataKey, ...columns.map((c) => row[c.column] ?? null)] });
        } catch (error) {
          if (isOutage(error)) throw error; // keyring down: stop, nothing of this batch was written
          problems.push(problemOf(table, id, error));
        }
      }
      return { writes, problems };
    },
  };
}

/**
 * migrate --decrypt: writes each row's plaintext back and clears its data key, guarded the same
 * way. Blind-index columns are left as they are: they hash the plaintext, so they stay correct.
 */
export function decryptWork(table: StoredTable, ctx: WorkContext): RowWork {
  const key = table.primaryKey[0] as string;
  const columns = table.columns;
  const setColumns = [table.dataKeyColumn, ...columns.map((c) => c.column)];
  return {
    keysOnly: false,
    setColumns,
    guardColumns: setColumns,
    async plan(rows) {
      const writes: GuardedWrite[] = [];
      const problems: RowProblem[] = [];
      for (const row of rows) {
        const id = row[key];
        const dataKey = row[table.dataKeyColumn] ?? null;
        const stored = columns.map((c) => row[c.column] ?? null);
        if (dataKey === null) {
          if (stored.some((value) => isEncryptedValue(value)))
            problems.push({
              model: table.model,
              rowId: String(id),
              code: 'missing-data-key',
              message: 'Row holds ciphertext but no data key; it cannot be decrypted',
            });
          continue;
        }
        try {
          const values: Record<string, unknown> = {};
          for (const c of columns) if (isEncryptedValue(row[c.column])) values[c.column] = row[c.column];
          const plain = await ctx.envelope.decryptRow({
            table: bindingOf(table),
            values,
            dataKey,
            rowId: id as string | number | bigint,
            readMode: 'tolerant',
            ...tenantOf(table, row),
          });
          const set = [
            null,
            ...columns.map((c, i) => (c.column in values ? (plain[c.column] ?? null) : stored[i])),
          ];
          writes.push({ key: id, set, guard: [dataKey, ...stored] });
        } catch (error) {
          if (isOutage(error)) throw error;
          problems.push(problemOf(table, id, error));
        }
      }
      return { writes, problems };
    },
  };
}

/** The keyring that can re-wrap: the configured one, or the one inside a caching keyring. */
export function rewrappingKeyringOf(keyring: Keyring): RewrappingKeyring {
  let current: unknown = keyring;
  for (let depth = 0; depth < 5 && current; depth++) {
    if (isRewrappingKeyring(current as Keyring)) return current as RewrappingKeyring;
    current = (current as { inner?: unknown }).inner;
  }
  throw new CliError(
    'invalid-config',
    `Keyring ${keyring.name} cannot re-wrap data keys (it has no reEncryptDataKey); rotate needs LocalKeyring or AwsKmsKeyring`,
  );
}

/** Shared by every table of one rotate run: target ids seen, and re-wraps already made. */
export class Rewrapper {
  /** `--to` plus the ids the keyring reports for it (a KMS alias resolves to a key ARN). */
  readonly targetIds: Set<string>;
  readonly #cache = new Map<string, Promise<WrappedDataKey>>();

  constructor(
    readonly keyring: RewrappingKeyring,
    readonly to: string,
    readonly envelope: RowEnvelope,
  ) {
    this.targetIds = new Set([to]);
  }

  /**
   * True when the data-key column is already wrapped under the target key. The key id written
   * in the column is a readable label nobody authenticates: the id the keyring reads from the
   * wrapped key itself decides when it can tell (`keyIdOf`), so an altered label cannot make
   * rotation skip a row still wrapped under the old key.
   */
  isCurrent(dataKey: string): boolean {
    const stored = parseDataKey(dataKey);
    return this.targetIds.has(this.keyring.keyIdOf?.(stored.encryptedKey) ?? stored.keyId);
  }

  /**
   * The data-key column re-wrapped under the target. Rows sharing a data key (a cache) share one
   * re-wrap: the cache is keyed by the wrapped part, not the column, whose v2 row salt differs per
   * row. A v2 column keeps its key identity `fsk2:<salt>.`; only the wrapped part changes.
   */
  async rewrap(table: string, dataKey: string, tenant?: string): Promise<string> {
    const stored = parseDataKey(dataKey, { table });
    const id = `${table}\u0000${tenant ?? ''}\u0000${wrappedPartOf(dataKey)}`;
    let found = this.#cache.get(id);
    if (!found) {
      if (this.#cache.size >= 10_000) this.#cache.clear();
      found = (async () => {
        const out = await this.keyring.reEncryptDataKey(
          stored.encryptedKey,
          this.envelope.contextFor(table, tenant),
          {
            destinationKeyId: this.to,
          },
        );
        this.targetIds.add(out.keyId);
        return { keyId: out.keyId, encryptedKey: out.encryptedKey };
      })();
      found.catch(() => this.#cache.delete(id));
      this.#cache.set(id, found);
    }
    return rewrapRowDataKey(stored, await found);
  }
}

/** rotate: re-wraps each row's data key under the target master key; field ciphertext is untouched. */
export function rotateWork(table: StoredTable, rewrapper: Rewrapper): RowWork {
  const key = table.primaryKey[0] as string;
  return {
    keysOnly: true,
    setColumns: [table.dataKeyColumn],
    guardColumns: [table.dataKeyColumn],
    async plan(rows) {
      const writes: GuardedWrite[] = [];
      const problems: RowProblem[] = [];
      const pending: Promise<void>[] = [];
      for (const row of rows) {
        const id = row[key];
        const dataKey = row[table.dataKeyColumn];
        if (dataKey === null || dataKey === undefined) continue;
        try {
          if (rewrapper.isCurrent(dataKey as string)) continue;
        } catch (error) {
          problems.push(problemOf(table, id, error));
          continue;
        }
        pending.push(
          rewrapper.rewrap(bindingOf(table), dataKey as string, tenantOf(table, row).tenant).then(
            (next) => {
              writes.push({ key: id, set: [next], guard: [dataKey] });
            },
            (error: unknown) => {
              if (isOutage(error)) throw error;
              problems.push(problemOf(table, id, error));
            },
          ),
        );
      }
      const results = await Promise.allSettled(pending);
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason; // a KMS failure stops the run; nothing of this batch is written
      return { writes, problems };
    },
  };
}

/** `{ tenant }` of a row of a tenant-scoped table (its tenant column as text), else `{}`. */
export function tenantOf(table: StoredTable, row: Record<string, unknown>): { tenant?: string } {
  if (!table.tenantColumn) return {};
  const value = row[table.tenantColumn];
  return value === null || value === undefined ? {} : { tenant: String(value) };
}
