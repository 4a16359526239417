import { isEncryptedValue, type StoredTable } from '@fieldseal/core';
import { isOutage, problemOf, type RowProblem, type RowWork, type WorkContext } from './row-work.js';
import type { GuardedWrite } from './sql-dialect.js';

const V1_VALUE = 'fs1:';
const V1_KEY = 'fsk1:';

/** True for a `fs1:` value (text or binary form). */
export function isV1Value(value: unknown): boolean {
  if (typeof value === 'string') return value.startsWith(V1_VALUE);
  return value instanceof Uint8Array && Buffer.from(value.subarray(0, 4)).toString('latin1') === V1_VALUE;
}

/** True for a row written in format v1: a `fs1:` value, or a `fsk1:` data key (no row salt). */
export function isV1Row(table: StoredTable, row: Record<string, unknown>): boolean {
  const dataKey = row[table.dataKeyColumn];
  if (typeof dataKey === 'string' && dataKey.startsWith(V1_KEY)) return true;
  return table.columns.some((c) => isV1Value(row[c.column]));
}

/**
 * upgrade: re-encrypts a v1 row as v2. Every value is decrypted and encrypted again under the
 * row's own data key with a fresh row salt (`encryptForRow` gives a `fsk1:` row its `fsk2:<salt>.`
 * column), all in one guarded write: values and data key change together or not at all. Blind
 * indexes hash the plaintext, which does not change, so they are left alone.
 */
export function upgradeWork(table: StoredTable, ctx: WorkContext): RowWork {
  const key = table.primaryKey[0] as string;
  const columns = table.columns;
  const setColumns = [table.dataKeyColumn, ...columns.map((c) => c.column)];
  const output = Object.fromEntries(columns.map((c) => [c.column, c.output]));
  return {
    keysOnly: false,
    setColumns,
    guardColumns: setColumns,
    async plan(rows) {
      const writes: GuardedWrite[] = [];
      const problems: RowProblem[] = [];
      for (const row of rows) {
        const dataKey = row[table.dataKeyColumn] ?? null;
        if (dataKey === null || !isV1Row(table, row)) continue;
        const id = row[key];
        const stored = columns.map((c) => row[c.column] ?? null);
        try {
          const sealedValues: Record<string, unknown> = {};
          for (const c of columns)
            if (isEncryptedValue(row[c.column])) sealedValues[c.column] = row[c.column];
          const plain = await ctx.envelope.decryptRow({
            table: table.table,
            values: sealedValues,
            dataKey,
            rowId: id as string | number | bigint,
            readMode: 'tolerant',
          });
          const values: Record<string, string | Uint8Array> = {};
          columns.forEach((c, i) => {
            const value = c.column in plain ? plain[c.column] : stored[i];
            if (typeof value === 'string' || value instanceof Uint8Array) values[c.column] = value;
          });
          const sealed = await ctx.envelope.encryptForRow({
            table: table.table,
            values,
            dataKey,
            errorRowId: id as string | number | bigint,
            output,
          });
          const set = [
            sealed.dataKey,
            ...columns.map((c, i) => (c.column in values ? sealed.values[c.column] : stored[i]) ?? null),
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
