import { unsupported } from '../errors.js';
import type { ModelInfo } from '../setup/encryption-schema.js';
import { LOGICAL_KEYS, RELATION_FILTER_KEYS } from './argument-keys.js';
import { isPlainObject, type QueryContext, refuse } from './context.js';

/**
 * Rewrites a `where` filter so it can run on encrypted columns: equality on an encrypted field
 * (`email: x`, `equals`, `in`, `notIn`, `not`) becomes the same comparison of its blind-index
 * field with the keyed hash of `x`; `null` checks stay on the encrypted column (ciphertext is
 * null exactly when the plaintext is). Any other operator, and equality on a field without a
 * blind index, is refused: comparing ciphertext would silently return wrong rows.
 * Relation filters (`some`, `every`, `none`, `is`, `isNot`) are followed into related models.
 */
export function rewriteWhere(ctx: QueryContext, model: ModelInfo | undefined, where: unknown): unknown {
  if (!model?.touchesEncryption || !isPlainObject(where)) return where;
  const out: Record<string, unknown> = {};
  const extra: Record<string, unknown>[] = [];
  for (const [key, value] of Object.entries(where)) {
    if ((LOGICAL_KEYS as readonly string[]).includes(key)) {
      out[key] = Array.isArray(value)
        ? value.map((item) => rewriteWhere(ctx, model, item))
        : rewriteWhere(ctx, model, value);
      continue;
    }
    const relation = model.relations.get(key);
    if (relation) {
      out[key] = rewriteRelationFilter(ctx, ctx.schema.model(relation.model), value);
      continue;
    }
    if (!model.encrypted.has(key)) {
      if (!ctx.fields.isField(model, key)) checkCompoundUnique(model, key, value, ctx);
      out[key] = value;
      continue;
    }
    const { onField, onIndex } = splitEncryptedFilter(ctx, model, key, value);
    if (onField !== undefined) out[key] = onField;
    if (onIndex !== undefined) extra.push({ [model.encrypted.get(key)?.blindIndex as string]: onIndex });
  }
  for (const condition of extra) {
    const [field, filter] = Object.entries(condition)[0] as [string, unknown];
    // Top-level keeps findUnique's unique field visible; a clash with the app's own filter goes to AND.
    if (!(field in out) && !(field in where)) out[field] = filter;
    else
      out.AND = [...(Array.isArray(out.AND) ? out.AND : out.AND === undefined ? [] : [out.AND]), condition];
  }
  return out;
}

/**
 * A key that is no field: a compound unique (`@@unique([a, b])` → `a_b: { a, b }`) of plain
 * fields passes; anything else (an encrypted field inside it, or a key Prisma added after this
 * version) is refused rather than sent with a plaintext comparison.
 */
function checkCompoundUnique(model: ModelInfo, key: string, value: unknown, ctx: QueryContext): void {
  const parts = isPlainObject(value) ? Object.keys(value) : [];
  const encrypted = parts.find((part) => model.encrypted.has(part));
  if (encrypted !== undefined) refuse('unsupported-filter', model, encrypted, `The compound unique "${key}"`);
  if (parts.length === 0 || !parts.every((part) => ctx.fields.isField(model, part)))
    throw unsupported(
      'unknown-operation',
      `Filter key "${key}" of ${model.name} is not known to @fieldseal/prisma, so the query was not run`,
      model,
    );
}

function rewriteRelationFilter(ctx: QueryContext, related: ModelInfo | undefined, value: unknown): unknown {
  if (!isPlainObject(value)) return value;
  const keys = Object.keys(value);
  const wrapped =
    keys.length > 0 && keys.every((key) => (RELATION_FILTER_KEYS as readonly string[]).includes(key));
  if (!wrapped) return rewriteWhere(ctx, related, value);
  return Object.fromEntries(
    Object.entries(value).map(([key, filter]) => [key, rewriteWhere(ctx, related, filter)]),
  );
}

/** Splits a filter on an encrypted field into the part on the column itself (null checks) and the part on its index. */
function splitEncryptedFilter(
  ctx: QueryContext,
  model: ModelInfo,
  field: string,
  filter: unknown,
): { onField?: unknown; onIndex?: unknown } {
  if (filter === null) return { onField: null };
  if (!isPlainObject(filter)) return { onIndex: hash(ctx, model, field, filter) };
  const onField: Record<string, unknown> = {};
  const onIndex: Record<string, unknown> = {};
  for (const [operator, operand] of Object.entries(filter)) {
    if ((operator === 'equals' || operator === 'not') && operand === null) onField[operator] = null;
    else if (operator === 'equals') onIndex.equals = hash(ctx, model, field, operand);
    else if (operator === 'in' || operator === 'notIn') {
      if (!Array.isArray(operand))
        refuse('unsupported-filter', model, field, `"${operator}" with a non-array value`);
      onIndex[operator] = operand.map((item) => hash(ctx, model, field, item));
    } else if (operator === 'not') {
      const inner = splitEncryptedFilter(ctx, model, field, operand);
      if (inner.onField !== undefined) onField.not = inner.onField;
      if (inner.onIndex !== undefined) onIndex.not = inner.onIndex;
    } else if (operator === 'mode') refuse('unsupported-filter', model, field, 'Case-insensitive comparison');
    else refuse('unsupported-filter', model, field, `The "${operator}" filter`);
  }
  return {
    ...(Object.keys(onField).length > 0 ? { onField } : {}),
    ...(Object.keys(onIndex).length > 0 ? { onIndex } : {}),
  };
}

function hash(ctx: QueryContext, model: ModelInfo, field: string, value: unknown): string {
  const encrypted = model.encrypted.get(field);
  if (!encrypted?.blindIndex) {
    throw unsupported(
      'unsupported-filter',
      `Equality filter on encrypted field ${model.name}.${field}, which has no blind index (add a "${field}Index String? @unique /// @blindIndex(${field})" field)`,
      model,
      field,
    );
  }
  if (typeof value !== 'string' && !(value instanceof Uint8Array)) {
    refuse(
      'unsupported-filter',
      model,
      field,
      `Comparison with a ${value === null ? 'null' : typeof value} operand (field references cannot be compared)`,
    );
  }
  return blindIndexValue(ctx, model, field, value);
}

/** The blind-index value of `value` for an encrypted field (the same on writes and lookups). */
export function blindIndexValue(
  ctx: QueryContext,
  model: ModelInfo,
  field: string,
  value: string | Uint8Array,
): string {
  if (!ctx.index) throw unsupported('unsupported-filter', 'No blind-index key configured', model, field);
  const info = model.encrypted.get(field);
  const text = typeof value === 'string' && info?.normalize ? info.normalize(value) : value;
  return ctx.index.compute(model.table, info?.column ?? field, text);
}
