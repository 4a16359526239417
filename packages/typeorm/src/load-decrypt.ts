import type { EntityMetadata, ObjectLiteral, QueryRunner } from 'typeorm';
import type { LoadedRow } from './entity-cipher.js';
import { type EntityPlan, rowIdOf } from './entity-plan.js';
import { UnsupportedOperationError } from './errors.js';
import { planOfMetadata, type Runtime } from './runtime.js';
import { tenantOf, tenantText } from './tenant-scope.js';

/** An entity TypeORM hydrated, with the metadata it was hydrated as. */
export interface Loaded {
  readonly plan: EntityPlan;
  readonly entity: ObjectLiteral;
}

/**
 * The entities of a load and every related entity loaded with them (eager relations, joins),
 * as TypeORM's own load broadcast walks them; only those of entities with a plan.
 */
export function collectLoaded(metadata: EntityMetadata, entities: readonly unknown[], out: Loaded[] = []) {
  const plan = planOfMetadata(metadata);
  for (const entity of entities) {
    if (entity === null || typeof entity !== 'object' || entity instanceof Promise) continue;
    if (plan) out.push({ plan, entity: entity as ObjectLiteral });
    for (const relation of metadata.relations) {
      // A lazy relation's getter would run a query; only loaded values are walked.
      if (relation.isLazy && !Object.hasOwn(entity, relation.propertyName)) continue;
      const value = relation.getEntityValue(entity as ObjectLiteral);
      if (value !== null && typeof value === 'object')
        collectLoaded(relation.inverseEntityMetadata, Array.isArray(value) ? value : [value], out);
    }
  }
  return out;
}

// A large result is a listing, not the row a write is about to follow: remembering its keys
// would only churn the cache.
const REMEMBER_AT_MOST = 64;

/** Decrypts loaded entities in place: one batch per entity type. */
export async function decryptLoaded(
  runtime: Runtime,
  queryRunner: QueryRunner | undefined,
  loaded: readonly Loaded[],
): Promise<void> {
  const byPlan = new Map<EntityPlan, LoadedRow[]>();
  const remember = loaded.length <= REMEMBER_AT_MOST;
  for (const { plan, entity } of loaded) {
    let present = false;
    let ciphertext = false;
    for (const field of plan.encrypted.values()) {
      const value = field.metadata.getEntityValue(entity);
      if (value === undefined) continue;
      present = true;
      if (value !== null) ciphertext = true;
    }
    const rowId = rowIdOf(plan, entity);
    let dataKey = entity[plan.dataKey.property] as string | null | undefined;
    if (remember && rowId !== undefined && dataKey !== undefined)
      runtime.knownKeys.remember(plan.table, rowId, dataKey);
    if (!present) continue;
    let tenant = tenantOf(plan, entity);
    // Not selected: read (and used, never put on the entity), like the data key.
    const tenantMissing =
      plan.tenant !== undefined && plan.tenant.metadata.getEntityValue(entity) === undefined;
    if ((dataKey === undefined || tenantMissing) && ciphertext) {
      const fetched = await fetchRowScope(runtime, queryRunner, plan, entity);
      if (dataKey === undefined) dataKey = fetched.dataKey;
      if (tenantMissing) tenant = fetched.tenant;
    }
    let rows = byPlan.get(plan);
    if (!rows) {
      rows = [];
      byPlan.set(plan, rows);
    }
    rows.push({ entity, dataKey, rowId, tenant });
  }
  await Promise.all(
    [...byPlan].map(([plan, rows]) => runtime.cipher.decryptEntities(plan, rows, runtime.readMode)),
  );
}
/** A partial select without the data-key (or tenant) column: fetch them rather than fail. */
async function fetchRowScope(
  runtime: Runtime,
  queryRunner: QueryRunner | undefined,
  plan: EntityPlan,
  entity: ObjectLiteral,
): Promise<{ dataKey: string | null; tenant: string | undefined }> {
  const id = plan.metadata.getEntityIdMap(entity);
  if (!id) {
    throw new UnsupportedOperationError(
      'unsupported-operation',
      'Encrypted columns were selected without the primary key, so the row data key cannot be found; select the primary key too',
      { entity: plan.entity, location: { table: plan.table } },
    );
  }
  const manager = queryRunner?.manager ?? runtime.dataSource.manager;
  const query = manager
    .createQueryBuilder(plan.metadata.target, 'fs_row')
    .withDeleted()
    .select(`fs_row.${plan.dataKey.property}`, 'fs_dk');
  if (plan.tenant) query.addSelect(`fs_row.${plan.tenant.property}`, 'fs_tn');
  const row = (await query.whereInIds(id).getRawOne()) as
    | { fs_dk?: string | null; fs_tn?: unknown }
    | undefined;
  return { dataKey: row?.fs_dk ?? null, tenant: tenantText(row?.fs_tn) };
}
