import { createHash } from 'node:crypto';
import { bindingOf, isEncryptedValue, isFieldsealError, parseDataKey } from '@fieldseal/core';
import { blindIndexOf, isOutage, type RowProblem, tenantOf, type WorkContext } from './row-work.js';
import type { TableAccess } from './table-access.js';

/** What `verify` found in one table. */
export interface VerifyResult {
  model: string;
  rows: number;
  /** Rows whose every non-null value is ciphertext that decrypts. */
  encrypted: number;
  /** Rows holding at least one plaintext value (not migrated yet). */
  plaintext: number;
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
        else if (plain) result.plaintext++;
        else result.encrypted++;
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
  /** Rows per master key id (read from each data-key column). */
  keys: Record<string, number>;
}

/** Counts rows, encrypted rows and rows per master key id, reading the table in key order. */
export async function statusOfTable(access: TableAccess, batch: number): Promise<StatusResult> {
  const table = access.table;
  const result: StatusResult = {
    model: table.model,
    table: table.table,
    rows: 0,
    encrypted: 0,
    plaintext: 0,
    empty: 0,
    percentEncrypted: 100,
    keys: {},
  };
  let after: unknown = null;
  for (;;) {
    const rows = await access.readBatch(access.executor, { lo: null, hi: null, after }, batch);
    if (rows.length === 0) break;
    for (const row of rows) {
      result.rows++;
      const values = table.columns.map((c) => row[c.column]).filter((v) => v !== null && v !== undefined);
      if (values.length === 0) result.empty++;
      else if (values.every((v) => isEncryptedValue(v))) result.encrypted++;
      else result.plaintext++;
      const dataKey = row[table.dataKeyColumn];
      if (dataKey === null || dataKey === undefined) continue;
      let id: string;
      try {
        id = parseDataKey(dataKey).keyId;
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
