import type { PlaintextValue, RowValues } from '@fieldseal/core';
import { unsupported } from '../errors.js';
import type { ModelInfo, Relation } from '../setup/encryption-schema.js';
import { isPlainObject } from './context.js';

// The shapes of Prisma write data, as far as encryption cares: which encrypted fields a write
// sets and to what, and where nested update items keep their data.

/** A nested update item's data: `{ where, data }` for lists, and for to-one either that or the data itself. */
export function updateData(
  relation: Relation,
  child: ModelInfo | undefined,
  item: unknown,
): { wrapped: boolean; data: unknown } {
  if (!isPlainObject(item)) return { wrapped: false, data: item };
  if (relation.list) return { wrapped: true, data: item.data };
  const keys = Object.keys(item);
  const wrapped =
    'data' in item &&
    keys.every((key) => key === 'data' || key === 'where') &&
    (keys.includes('where') || !child?.relations.has('data'));
  return wrapped ? { wrapped, data: item.data } : { wrapped, data: item };
}

/** The value of a scalar update: `value` itself, or `{ set: value }`. */
export function unwrapSet(value: unknown): unknown {
  return isPlainObject(value) && 'set' in value ? value.set : value;
}

/**
 * The plaintext of each encrypted field being written (`undefined`: not written). Refuses writes
 * of the data-key and blind-index fields, which fieldseal alone keeps consistent.
 */
export function collectPlaintext(
  model: ModelInfo,
  data: Record<string, unknown>,
): Record<string, PlaintextValue | null | undefined> {
  for (const field of [model.dataKey, ...model.indexOf.keys()]) {
    if (field !== undefined && data[field] !== undefined) {
      throw unsupported(
        'forbidden-write',
        `${model.name}.${field} is written by fieldseal (${field === model.dataKey ? 'the row data key' : 'a blind index'}); remove it from the data`,
        model,
        field,
      );
    }
  }
  const plain: Record<string, PlaintextValue | null | undefined> = {};
  for (const field of model.encrypted.keys()) {
    if (!(field in data)) continue;
    const raw = data[field];
    if (isPlainObject(raw) && Object.keys(raw).some((key) => key !== 'set')) {
      throw unsupported(
        'unsupported-update',
        `Only "set" can update encrypted field ${model.name}.${field}`,
        model,
        field,
      );
    }
    plain[field] = unwrapSet(raw) as PlaintextValue | null | undefined;
    if (isPlainObject(raw)) data[field] = plain[field];
  }
  return plain;
}

/** The plaintexts keyed by database column, as the row envelope binds them. */
export function byColumn(
  model: ModelInfo,
  plain: Record<string, PlaintextValue | null | undefined>,
): RowValues {
  const values: Record<string, PlaintextValue | null | undefined> = {};
  for (const [field, value] of Object.entries(plain))
    values[model.encrypted.get(field)?.column ?? field] = value;
  return values;
}

/** Ciphertext form per column: text for `String` fields, bytes for `Bytes` fields. */
export function outputs(model: ModelInfo): Record<string, 'text' | 'binary'> {
  return Object.fromEntries(
    [...model.encrypted.values()].map((field) => [field.column, field.binary ? 'binary' : 'text']),
  );
}
