import { createHash } from 'node:crypto';
import { bindingOf, isEncryptedValue, isFieldsealError, type Keyring, parseDataKey } from '@fieldseal/core';
import { blindIndexOf, isOutage, type RowProblem, tenantOf, type WorkContext } from './row-work.js';
import type { TableAccess } from './table-access.js';
import { isV1Row } from './upgrade-work.js';

/** What `verify` found in one table. */
export interface VerifyResult {
  model: string;
  rows: number;
  /** Rows whose every non-null value is ciphertext that decrypts. */
  encrypted: number;
  /** Rows holding at least one plaintext value (not migrated yet). */
  plaintext: number;
  /** Ids of the first plaintext rows (up to 1,000). */
  plaintextIds: string[];
  /** Rows without any value in an encrypted column. */
  empty: number;
  /** Rows with a value that does not decrypt (ids in `problems`), shredded rows excepted. */
  undecryptable: number;
  /** Rows whose key was destroyed on purpose (`fieldseal shred`): erased, not damaged (code `key-shredded` in `problems`). */
  shredded: number;
  /** Rows whose blind index does not match their plaintext (ids in `problems`). */
  indexMismatches: number;
  /** SHA-256 over every row's id and plaintext values in key order, stored encrypted or not. */
  checksum: string;
  problems: RowProblem[];
}

/** How many problem rows are listed per table (the counts are always complete). */
const MAX_LISTED = 1_000;

/**
 * Reads every row of a table in key order and decrypts every value strictly. The checksum is
 * the same before a migration (plaintext), after it, after rotation and after a rollback.
 */
export async function verifyTable(
  access: TableAccess,
  ctx: WorkContext,
  batch: number,
  onBatch?: (scanned: number) => void,
): Promise<VerifyResult> {
  const table = access.table;
  const result: VerifyResult = {
    model: table.model,
    rows: 0,
    encrypted: 0,
    plaintext: 0,
    plaintextIds: [],
    empty: 0,
    undecryptable: 0,
    shredded: 0,
    indexMismatches: 0,
    checksum: '',
    problems: [],
  };
  const hash = createHash('sha256');
  const report = (problem: RowProblem) => {
    if (result.problems.length < MAX_LISTED) result.problems.push(problem);
  };
  let after: unknown = null;
  for (;;) {
    const rows = await access.readBatch(access.executor, { lo: null, hi: null, after }, batch);
    if (rows.length === 0) break;
    for (const row of rows) {
      const id = row[access.key];
      const rowId = String(id);
      result.rows++;
      const ciphertext: Record<string, unknown> = {};
      let plain = false;
      let any = false;
      for (const c of table.columns) {
        const value = row[c.column];
        if (value === null || value === undefined) continue;
        any = true;
        if (isEncryptedValue(value)) ciphertext[c.column] = value;
        else plain = true;
      }
      let values: Record<string, unknown> = {};
      let failed = false;
      try {
        values = await ctx.envelope.decryptRow({
          table: bindingOf(table),
          values: Object.fromEntries(table.columns.map((c) => [c.column, row[c.column]])),
          dataKey: row[table.dataKeyColumn],
          rowId: id as string | number | bigint,
          readMode: 'tolerant',
          ...tenantOf(table, row),
        });
      } catch (error) {
        if (isOutage(error)) throw error; // KMS down: not the row's fault
        failed = true;
        if (isFieldsealError(error) && error.code === 'key-shredded') result.shredded++;
        else result.undecryptable++;
        report({
          model: table.model,
          rowId,
          ...(isFieldsealError(error) && error.location?.column ? { column: error.location.column } : {}),
          code: isFieldsealError(error) ? error.code : 'error',
          message: error instanceof Error ? error.message : String(error),
        });
      }
      if (!failed) {
        if (!any) result.empty++;
        else if (plain) {
          result.plaintext++;
          if (result.plaintextIds.length < MAX_LISTED) result.plaintextIds.push(rowId);
        } else result.encrypted++;
        if (ctx.blindIndex) {
          for (const c of table.columns) {
            const value = values[c.column];
            if (!c.blindIndex || value === null || value === undefined) continue;
            // Only rows fieldseal wrote are checked: plaintext rows have no index yet.
            if (!(c.column in ciphertext)) continue;
            const expected = blindIndexOf(ctx.blindIndex, table, c, value as string | Uint8Array);
            if (row[c.blindIndex.column] !== expected) {
              result.indexMismatches++;
              report({
                model: table.model,
                rowId,
                column: c.blindIndex.column,
                code: 'blind-index-mismatch',
                message: `Blind index ${c.blindIndex.column} does not match the value of ${c.column}`,
              });
            }
          }
        }
      }
      hash.update(`${rowId}\u0000`);
      for (const c of table.columns) {
        const value = failed ? row[c.column] : values[c.column];
        if (value === null || value === undefined) hash.update('N\u0000');
        else if (typeof value === 'string') hash.update(`S${value.length}:`).update(value).update('\u0000');
        else
          hash
            .update(`B${(value as Uint8Array).byteLength}:`)
            .update(value as Uint8Array)
            .update('\u0000');
      }
    }
    onBatch?.(rows.length);
    after = (rows[rows.length - 1] as Record<string, unknown>)[access.key];
  }
  result.checksum = hash.digest('hex');
  return result;
}

/** What `status` reports for one table. */
export interface StatusResult {
  model: string;
  table: string;
  rows: number;
  encrypted: number;
  plaintext: number;
  empty: number;
  /** Encrypted rows / rows holding any value, in percent (100 for a table with no values). */
  percentEncrypted: number;
  /**
   * Encrypted rows by value format: `v1` holds a `fs1:` value or a `fsk1:` data key (no row
   * salt: `fieldseal upgrade` re-encrypts them), `v2` everything else.
   */
  formats: { v1: number; v2: number };
  /**
   * Rows per master key id. The id is the one the keyring reads from the wrapped key itself
   * when it can (`keyIdOf`), not the readable label in the column, which nobody authenticates.
   */
  keys: Record<string, number>;
  /** Rows whose column label names another master key than the wrapped key itself (altered). */
  mislabeled: number;
}

/** Counts rows, encrypted rows, formats and rows per master key id, reading the table in key order. */
export async function statusOfTable(
  access: TableAccess,
  batch: number,
  keyring?: Keyring,
): Promise<StatusResult> {
  const table = access.table;
  const result: StatusResult = {
    model: table.model,
    table: table.table,
    rows: 0,
    encrypted: 0,
    plaintext: 0,
    empty: 0,
    percentEncrypted: 100,
    formats: { v1: 0, v2: 0 },
    keys: {},
    mislabeled: 0,
  };
  let after: unknown = null;
  for (;;) {
    const rows = await access.readBatch(access.executor, { lo: null, hi: null, after }, batch);
    if (rows.length === 0) break;
    for (const row of rows) {
      result.rows++;
      const values = table.columns.map((c) => row[c.column]).filter((v) => v !== null && v !== undefined);
      const dataKey = row[table.dataKeyColumn];
      if (values.length === 0) result.empty++;
      else if (values.every((v) => isEncryptedValue(v))) {
        result.encrypted++;
        if (isV1Row(table, row)) result.formats.v1++;
        else result.formats.v2++;
      } else result.plaintext++;
      if (dataKey === null || dataKey === undefined) continue;
      let id: string;
      try {
        const stored = parseDataKey(dataKey);
        const actual = keyring?.keyIdOf?.(stored.encryptedKey);
        if (actual !== undefined && actual !== stored.keyId) result.mislabeled++;
        id = actual ?? stored.keyId;
      } catch {
        id = '(malformed)';
      }
      result.keys[id] = (result.keys[id] ?? 0) + 1;
    }
    after = (rows[rows.length - 1] as Record<string, unknown>)[access.key];
  }
  const withValues = result.encrypted + result.plaintext;
  result.percentEncrypted =
    withValues === 0 ? 100 : Math.round((result.encrypted / withValues) * 10_000) / 100;
  return result;
}
