import type { ObjectLiteral } from 'typeorm';
import type { EntityPlan } from './entity-plan.js';
import { UnsupportedOperationError } from './errors.js';

// Tenant scope (`@Tenant()`): core binds each row's data key and values to the row's tenant;
// this adapter only finds each row's tenant, and refuses writes that would leave encrypted
// values bound to a tenant other than the row's.

/** A tenant column's value as the text core binds, or `undefined` when it has none. */
export function tenantText(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  return undefined;
}

/** The tenant an entity (or value set, or raw row by property) holds; `undefined` for unscoped entities. */
export function tenantOf(plan: EntityPlan, entity: ObjectLiteral): string | undefined {
  return plan.tenant ? tenantText(plan.tenant.metadata.getEntityValue(entity)) : undefined;
}

/** `{ tenant }` for core's inputs, or `{}` (exactOptionalPropertyTypes). */
export function tenantInput(tenant: string | undefined): { tenant?: string } {
  return tenant === undefined ? {} : { tenant };
}

/** The tenant of a new row: required for a tenant-scoped entity. */
export function requireTenant(plan: EntityPlan, entity: ObjectLiteral): string | undefined {
  if (!plan.tenant) return undefined;
  const tenant = tenantOf(plan, entity);
  if (tenant !== undefined) return tenant;
  throw new UnsupportedOperationError(
    'unsupported-operation',
    `A new ${plan.entity} row needs a non-empty "${plan.tenant.property}" (its @Tenant() column): its encrypted columns are scoped to the tenant`,
    {
      entity: plan.entity,
      property: plan.tenant.property,
      location: { table: plan.table, column: plan.tenant.column },
    },
  );
}

/** True when an update's value set writes the tenant column. */
export function touchesTenant(plan: EntityPlan, valuesSet: ObjectLiteral): boolean {
  return plan.tenant !== undefined && plan.tenant.metadata.getEntityValue(valuesSet) !== undefined;
}

/**
 * Refuses an update that moves a row holding a data key (so, encrypted values) to another
 * tenant: its key and values stay bound to the old one. Returns the tenant the row has once the
 * write is done (for a row without a data key, the new one, so a key made now is bound to it).
 */
export function tenantAfterUpdate(
  plan: EntityPlan,
  valuesSet: ObjectLiteral,
  row: { readonly dataKey: string | null; readonly tenant: string | undefined; readonly rowId: unknown },
): string | undefined {
  if (!plan.tenant || !touchesTenant(plan, valuesSet)) return row.tenant;
  const next = tenantOf(plan, valuesSet);
  if (next === row.tenant) return row.tenant;
  if (row.dataKey === null && next !== undefined) return next;
  throw new UnsupportedOperationError(
    'forbidden-write',
    `${plan.entity}.${plan.tenant.property} of row ${String(row.rowId)} cannot be changed${row.dataKey === null ? ' to an unknown or empty tenant' : ': the row holds encrypted values bound to its tenant (re-create the row under the new tenant instead)'}`,
    {
      entity: plan.entity,
      property: plan.tenant.property,
      location: { table: plan.table, column: plan.tenant.column },
    },
  );
}
