import type { RowValues } from '@fieldseal/core';
import { isPlainObject, type QueryContext } from './query-context.js';
import type { ResultShape } from './result-shape.js';

/**
 * Decrypts every encrypted value in a query result (one row, a list, or nested relations to
 * any depth) with the data key stored in its own row, then removes the fields fieldseal added
 * to the selection. Rows are decrypted concurrently. Throws `DecryptionError`/`KeyringError`
 * naming table, column and row id; never returns ciphertext as if it were plaintext.
 */
export async function decryptResult<T>(
  ctx: QueryContext,
  shape: ResultShape | undefined,
  result: T,
): Promise<T> {
  if (!shape) return result;
  const tasks: Promise<void>[] = [];
  visit(ctx, shape, result, tasks);
  await Promise.all(tasks);
  return result;
}

function visit(ctx: QueryContext, shape: ResultShape, value: unknown, tasks: Promise<void>[]): void {
  if (Array.isArray(value)) {
    for (const item of value) visit(ctx, shape, item, tasks);
    return;
  }
  if (!isPlainObject(value)) return;
  for (const [field, child] of shape.relations)
    if (value[field] !== undefined) visit(ctx, child, value[field], tasks);
  if (shape.decrypt) tasks.push(decryptRow(ctx, shape, value));
  else strip(shape, value);
}

async function decryptRow(
  ctx: QueryContext,
  shape: ResultShape,
  row: Record<string, unknown>,
): Promise<void> {
  const { model } = shape;
  const values: Record<string, unknown> = {};
  for (const field of model.encrypted.values()) if (field.name in row) values[field.column] = row[field.name];
  const rowId = rowIdOf(model.idFields, row);
  const plain = await ctx.envelope.decryptRow({
    table: model.table,
    values: values as RowValues<unknown>,
    dataKey: model.dataKey === undefined ? undefined : row[model.dataKey],
    ...(rowId === undefined ? {} : { rowId }),
  });
  for (const field of model.encrypted.values()) if (field.name in row) row[field.name] = plain[field.column];
  strip(shape, row);
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
