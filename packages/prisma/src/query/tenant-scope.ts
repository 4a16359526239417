import { unsupported } from '../errors.js';
import type { ModelInfo } from '../setup/encryption-schema.js';
import { isPlainObject } from './context.js';

// Tenant scope (`/// @tenant`): core binds each row's data key and values to the row's tenant;
// this adapter only finds the tenant of each row it writes or reads, and refuses writes that
// would leave encrypted values under a tenant other than the one they were bound to.

/** A tenant column's value as the text core binds (`tenant`), or `undefined` when it has none. */
export function tenantText(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  return undefined;
}

/** The tenant of a row as read (or `undefined` for a model without tenant scope). */
export function tenantOfRow(model: ModelInfo, row: Record<string, unknown>): string | undefined {
  return model.tenant === undefined ? undefined : tenantText(row[model.tenant]);
}

/** `{ tenant }` for core's inputs, or `{}` (exactOptionalPropertyTypes). */
export function tenantInput(tenant: string | undefined): { tenant?: string } {
  return tenant === undefined ? {} : { tenant };
}

/**
 * The tenant of a new row, from its create data. A tenant-scoped row without one is refused:
 * its values would be bound to no tenant (or, set through a relation, to one fieldseal cannot see).
 */
export function tenantOfCreate(model: ModelInfo, data: Record<string, unknown>): string | undefined {
  if (model.tenant === undefined) return undefined;
  const tenant = tenantText(data[model.tenant]);
  if (tenant === undefined)
    throw unsupported(
      'unsupported-operation',
      `A new ${model.name} row needs its tenant field ${model.name}.${model.tenant} in the data (a non-empty value, set directly rather than through a relation): its encrypted fields are scoped to the tenant`,
      model,
      model.tenant,
    );
  return tenant;
}

/** True when an update's `data` sets the tenant field (directly or through its relation). */
export function touchesTenant(model: ModelInfo | undefined, data: unknown): boolean {
  if (model?.tenant === undefined || !isPlainObject(data)) return false;
  return data[model.tenant] !== undefined || model.tenantVia.some((field) => data[field] !== undefined);
}

/** The tenant an update sets: `undefined` when it sets none, `null` when fieldseal cannot tell which. */
function newTenant(model: ModelInfo, data: Record<string, unknown>): string | null | undefined {
  if (!touchesTenant(model, data)) return undefined;
  if (model.tenantVia.some((field) => data[field] !== undefined)) return null;
  const raw = data[model.tenant as string];
  if (isPlainObject(raw))
    return Object.keys(raw).every((key) => key === 'set') ? (tenantText(raw.set) ?? null) : null;
  return tenantText(raw) ?? null;
}

/** A row as read before an update: its data key, its tenant and (for errors) its id. */
export interface TenantRow {
  readonly dataKey: string | null;
  readonly tenant?: string | undefined;
  readonly rowId?: unknown;
}

/**
 * Refuses an update that moves a row holding a data key (so, encrypted values) to another
 * tenant: its key and values stay bound to the old tenant, so the row would become unreadable.
 * Returns the tenant each read row has once the write is done (for a row without a data key,
 * the new one, so a key made for it now is bound to the tenant it will have).
 */
export function tenantAfterUpdate(model: ModelInfo, data: unknown, row: TenantRow): string | undefined {
  if (model.tenant === undefined || !isPlainObject(data)) return row.tenant;
  const next = newTenant(model, data);
  if (next === undefined || next === row.tenant) return row.tenant;
  if (row.dataKey === null && next !== null) return next;
  throw unsupported(
    'forbidden-write',
    `${model.name}.${model.tenant} of row ${row.rowId === undefined ? '(unknown)' : String(row.rowId)} cannot be changed${row.dataKey === null ? ' to an unknown or empty tenant' : ': the row holds encrypted values bound to its tenant (re-create the row under the new tenant instead)'}`,
    model,
    model.tenant,
  );
}
