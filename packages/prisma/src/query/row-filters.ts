import type { EncryptionSchema, ModelInfo, Relation } from '../setup/encryption-schema.js';
import { isPlainObject } from './context.js';

/** A row as read for its data key: its id fields and its data-key column. */
export type KeyRow = Record<string, unknown>;

/** The `select` that reads a row's id and data key (and its tenant, for a tenant-scoped model). */
export function keySelect(model: ModelInfo): Record<string, true> {
  const select: Record<string, true> = {};
  for (const field of model.idFields) select[field] = true;
  if (model.dataKey) select[model.dataKey] = true;
  if (model.tenant) select[model.tenant] = true;
  return select;
}

/** A filter matching exactly this row. */
export function idFilter(model: ModelInfo, row: KeyRow): Record<string, unknown> {
  return Object.fromEntries(model.idFields.map((field) => [field, row[field]]));
}

/** A filter matching exactly these rows. */
export function idsFilter(model: ModelInfo, rows: readonly KeyRow[]): Record<string, unknown> {
  const [only] = model.idFields;
  if (model.idFields.length === 1 && only !== undefined)
    return { [only]: { in: rows.map((row) => row[only]) } };
  return { OR: rows.map((row) => idFilter(model, row)) };
}

/** AND of the given filters, skipping missing ones. */
export function and(...filters: unknown[]): Record<string, unknown> {
  const present = filters.filter((filter) => isPlainObject(filter) && Object.keys(filter).length > 0);
  if (present.length === 0) return {};
  if (present.length === 1) return present[0] as Record<string, unknown>;
  return { AND: present };
}

/**
 * Adds "the data-key column still holds `dataKey`" to a (unique) where, keeping its own keys at
 * the top so Prisma still sees the unique field. The write then applies only to a row that holds
 * the key its values were encrypted under, whatever happened between the read and the write.
 */
export function guardWhere(
  model: ModelInfo,
  where: unknown,
  dataKey: string | null,
): Record<string, unknown> {
  const base = isPlainObject(where) ? where : {};
  const previous = base.AND === undefined ? [] : Array.isArray(base.AND) ? base.AND : [base.AND];
  return { ...base, AND: [...previous, { [model.dataKey as string]: dataKey }] };
}

/** The rows of `relation`'s target that belong to the parent rows matched by `parentFilter`. */
export function relatedRowsFilter(
  schema: EncryptionSchema,
  model: ModelInfo,
  relation: Relation,
  parentFilter: Record<string, unknown>,
): Record<string, unknown> {
  const back = schema.backRelation(model, relation) as Relation; // checked when the extension is built
  return { [back.field]: back.list ? { some: parentFilter } : { is: parentFilter } };
}
