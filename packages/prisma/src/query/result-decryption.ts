import type { DecryptRowInput, RowValues } from '@fieldseal/core';
import type { ModelInfo } from '../setup/encryption-schema.js';
import { isPlainObject, lowerFirst, type QueryContext, rowIdOf } from './context.js';
import { tenantInput, tenantOfRow } from './tenant-scope.js';
import type { WrittenValues } from './written-values.js';

// Results that hold encrypted values. Before the query: `prepareSelection` makes every row to
// decrypt arrive with its data key and id, and describes the result (`ResultShape`). After it:
// `decryptResult` decrypts every encrypted value and removes what fieldseal added. A write into
// one row fills its result from plaintext it already holds (`fillPlaintext`, `decryptKept`).

/**
 * How to decrypt what a query returns: which model each level is, whether it holds encrypted
 * values, the fields fieldseal added to the selection (to remove again), and the relations below.
 */
export interface ResultShape {
  readonly model: ModelInfo;
  readonly decrypt: boolean;
  readonly strip: readonly string[];
  readonly relations: ReadonlyMap<string, ResultShape>;
}

/**
 * Makes sure every returned row that holds encrypted values also returns its data key and id
 * (adding them to `select`, or un-omitting them, when the app left them out), follows `select`
 * and `include` into relations at any depth, and rewrites the relations' own filters.
 * Mutates `args` (Prisma hands each extension its own copy). `undefined`: nothing to decrypt.
 */
export function prepareSelection(
  ctx: QueryContext,
  model: ModelInfo | undefined,
  args: Record<string, unknown>,
): ResultShape | undefined {
  if (!model?.touchesEncryption) return undefined;
  const relations = new Map<string, ResultShape>();
  const strip: string[] = [];
  // The tenant too: core needs it to open a tenant-scoped row (stripped again like the data key).
  const needed =
    model.dataKey === undefined
      ? []
      : [model.dataKey, ...model.idFields, ...(model.tenant === undefined ? [] : [model.tenant])];
  let decrypt = false;
  const select = isPlainObject(args.select) ? args.select : undefined;
  if (select) {
    followRelations(ctx, model, select, relations);
    // A result extension's field is computed after every query extension returned, from fields
    // Prisma adds to the query later: select the encrypted ones here so they arrive decrypted
    // (Prisma removes them again, since the app did not select them).
    for (const key of Object.keys(select))
      if (select[key] && ctx.fields.isComputed(model, key))
        for (const need of ctx.fields.needsOf(model, key) ?? []) if (!select[need]) select[need] = true;
    decrypt = [...model.encrypted.keys()].some((field) => Boolean(select[field]));
    if (decrypt) {
      for (const field of needed) {
        if (select[field]) continue;
        select[field] = true;
        strip.push(field);
      }
    }
  } else {
    const omit = isPlainObject(args.omit) ? args.omit : undefined;
    const globalOmit = ctx.globalOmit?.[lowerFirst(model.name)];
    const omitted = (field: string) =>
      omit?.[field] === true || (globalOmit?.[field] === true && omit?.[field] !== false);
    decrypt = [...model.encrypted.keys()].some((field) => !omitted(field));
    if (!decrypt) {
      // Every encrypted field omitted, but a computed field may need one: Prisma un-omits it later.
      const needed = computedNeeds(ctx, model, omitted).filter((need) => model.encrypted.has(need));
      if (needed.length > 0) {
        args.omit = {
          ...(isPlainObject(args.omit) ? args.omit : {}),
          ...Object.fromEntries(needed.map((need) => [need, false])),
        };
        decrypt = true;
      }
    }
    if (decrypt) {
      for (const field of needed) {
        if (omit?.[field] !== true && !(globalOmit?.[field] === true && omit?.[field] !== false)) continue;
        args.omit = { ...(isPlainObject(args.omit) ? args.omit : {}), [field]: false };
        strip.push(field);
      }
    }
    if (isPlainObject(args.include)) followRelations(ctx, model, args.include, relations);
  }
  if (!decrypt && relations.size === 0) return undefined;
  return { model, decrypt, strip, relations };
}

/** What the not-omitted computed fields of `model` need. */
function computedNeeds(ctx: QueryContext, model: ModelInfo, omitted: (field: string) => boolean): string[] {
  const names = ctx.fields.computedNames(model).filter((name) => !omitted(name));
  return names.flatMap((name) => ctx.fields.needsOf(model, name) ?? []);
}

function followRelations(
  ctx: QueryContext,
  model: ModelInfo,
  selection: Record<string, unknown>,
  out: Map<string, ResultShape>,
): void {
  for (const [field, value] of Object.entries(selection)) {
    const relation = model.relations.get(field);
    if (!relation || !value) continue;
    const related = ctx.schema.model(relation.model);
    if (!related?.touchesEncryption) continue;
    const nested = isPlainObject(value) ? value : {};
    const shape = prepareSelection(ctx, related, nested);
    if (!shape) continue;
    selection[field] = nested;
    out.set(field, shape);
  }
}

/** The shape of what a fluent call (`findUnique(...).posts()`) returns: the one at the end of its data path. */
export function shapeAtPath(
  shape: ResultShape | undefined,
  dataPath: readonly unknown[] | undefined,
): ResultShape | undefined {
  let current = shape;
  for (let i = 1; i < (dataPath?.length ?? 0) && current; i += 2)
    current = current.relations.get(String(dataPath?.[i]));
  return current;
}

/** The encrypted fields an operation's result holds (its `select`, else every field not omitted). */
export function returnedEncrypted(
  ctx: QueryContext,
  model: ModelInfo,
  args: Record<string, unknown>,
): string[] {
  const fields = [...model.encrypted.keys()];
  if (isPlainObject(args.select)) {
    const select = args.select;
    return fields.filter((field) => Boolean(select[field]));
  }
  const omit = isPlainObject(args.omit) ? args.omit : undefined;
  const globalOmit = ctx.globalOmit?.[lowerFirst(model.name)];
  return fields.filter(
    (field) => !(omit?.[field] === true || (globalOmit?.[field] === true && omit?.[field] !== false)),
  );
}

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

/** The state of one row as read before a write: its stored encrypted values (to guard on) and their plaintext. */
export interface ReadRow {
  stored: Record<string, unknown>;
  plain: Record<string, unknown>;
}

/** Decrypts the `kept` encrypted fields of a row as read, before anything is written. */
export async function decryptKept(
  ctx: QueryContext,
  model: ModelInfo,
  kept: readonly string[],
  row: Record<string, unknown>,
): Promise<ReadRow> {
  const stored: Record<string, unknown> = {};
  const values: Record<string, unknown> = {};
  for (const field of kept) {
    stored[field] = row[field] ?? null;
    values[model.encrypted.get(field)?.column as string] = row[field] ?? null;
  }
  if (kept.length === 0) return { stored, plain: {} };
  const rowId = rowIdOf(model.idFields, row);
  const input: DecryptRowInput = {
    table: model.table,
    values: values as DecryptRowInput['values'],
    dataKey: row[model.dataKey as string],
    ...(rowId === undefined ? {} : { rowId }),
    ...tenantInput(tenantOfRow(model, row)),
  };
  return { stored, plain: await ctx.envelope.decryptRow(input) };
}

/** The plaintext a write stored, by column (bytes copied to a plain `Uint8Array`, as a decryption returns them). */
export function writtenPlaintext(values: RowValues): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [column, value] of Object.entries(values)) {
    if (value === undefined) continue;
    out[column] = value instanceof Uint8Array ? new Uint8Array(value) : value;
  }
  return out;
}

function strip(shape: ResultShape, row: Record<string, unknown>): void {
  for (const field of shape.strip) delete row[field];
}
