import type { DecryptRowInput, RowValues } from '@fieldseal/core';
import { isPlainObject, type QueryContext } from './context.js';
import type { ResultShape } from './result-shape.js';
import { tenantInput, tenantOfRow } from './tenant-scope.js';
import type { WrittenValues } from './written-values.js';

/**
 * Decrypts every encrypted value in a query result (one row, a list, or nested relations to
 * any depth) with the data key stored in its own row, then removes the fields fieldseal added
 * to the selection. All rows go to the envelope as one batch, so each distinct data key is
 * unwrapped once. Throws `DecryptionError`/`KeyringError` naming table, column and row id;
 * never returns ciphertext as if it were plaintext. A row whose every encrypted value is one this
 * call just wrote (`written`: the very ciphertext it made) is filled from that plaintext instead,
 * with no keyring call.
 */
export async function decryptResult<T>(
  ctx: QueryContext,
  shape: ResultShape | undefined,
  result: T,
  written?: WrittenValues,
): Promise<T> {
  if (!shape) return result;
  const pending: PendingRow[] = [];
  visit(shape, result, pending, written);
  if (pending.length === 0) return result;
  const plain = await ctx.envelope.decryptRows(pending.map((row) => row.input));
  for (let i = 0; i < pending.length; i++) {
    const { shape: rowShape, row } = pending[i] as PendingRow;
    const values = plain[i] as Record<string, unknown>;
    for (const field of rowShape.model.encrypted.values())
      if (field.name in row) row[field.name] = values[field.column];
    strip(rowShape, row);
  }
  return result;
}

/** A result row waiting for the batch decryption. */
interface PendingRow {
  readonly shape: ResultShape;
  readonly row: Record<string, unknown>;
  readonly input: DecryptRowInput;
}

function visit(shape: ResultShape, value: unknown, pending: PendingRow[], written?: WrittenValues): void {
  if (Array.isArray(value)) {
    for (const item of value) visit(shape, item, pending, written);
    return;
  }
  if (!isPlainObject(value)) return;
  for (const [field, child] of shape.relations)
    if (value[field] !== undefined) visit(child, value[field], pending, written);
  if (!shape.decrypt || (written && fillWritten(shape, value, written))) strip(shape, value);
  else pending.push({ shape, row: value, input: readInput(shape, value) });
}

/** Fills a row from the plaintext this call wrote, when it holds nothing else encrypted; else leaves it as it is. */
function fillWritten(shape: ResultShape, row: Record<string, unknown>, written: WrittenValues): boolean {
  const { model } = shape;
  const dataKey = model.dataKey === undefined ? undefined : row[model.dataKey];
  const plain = new Map<string, unknown>();
  for (const field of model.encrypted.values()) {
    if (!(field.name in row)) continue;
    const value = written.plaintextOf(model.table, field.column, dataKey, row[field.name]);
    if (value === undefined) return false;
    plain.set(field.name, value);
  }
  for (const [field, value] of plain) row[field] = value;
  return true;
}

function readInput(shape: ResultShape, row: Record<string, unknown>): DecryptRowInput {
  const { model } = shape;
  const values: Record<string, unknown> = {};
  for (const field of model.encrypted.values()) if (field.name in row) values[field.column] = row[field.name];
  const rowId = rowIdOf(model.idFields, row);
  return {
    table: model.table,
    values: values as RowValues<unknown>,
    dataKey: model.dataKey === undefined ? undefined : row[model.dataKey],
    ...(rowId === undefined ? {} : { rowId }),
    ...tenantInput(tenantOfRow(model, row)),
  };
}

/**
 * Puts plaintext the adapter already holds (what it just wrote, and what it decrypted before
 * writing) into one returned row of `shape` (relations not followed), then removes the fields
 * fieldseal added to the selection. Returns false, leaving the row untouched, when the row holds
 * an encrypted field `plain` lacks (the caller then decrypts the row instead).
 */
export function fillPlaintext(
  shape: ResultShape,
  row: Record<string, unknown>,
  plain: Readonly<Record<string, unknown>>,
): boolean {
  const fields = [...shape.model.encrypted.values()].filter((field) => field.name in row);
  if (fields.some((field) => !(field.column in plain))) return false;
  for (const field of fields) row[field.name] = plain[field.column];
  strip(shape, row);
  return true;
}

function strip(shape: ResultShape, row: Record<string, unknown>): void {
  for (const field of shape.strip) delete row[field];
}

/** The row id named in errors: the primary key value, or its parts joined with `/`. */
export function rowIdOf(
  idFields: readonly string[],
  row: Record<string, unknown>,
): string | number | bigint | undefined {
  if (idFields.length === 1) {
    const id = row[idFields[0] as string];
    return typeof id === 'string' || typeof id === 'number' || typeof id === 'bigint' ? id : undefined;
  }
  const parts = idFields.map((field) => row[field]);
  return parts.every((part) => part !== undefined && part !== null) ? parts.map(String).join('/') : undefined;
}
