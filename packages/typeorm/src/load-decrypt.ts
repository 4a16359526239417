import type { EntityMetadata, ObjectLiteral, QueryRunner } from 'typeorm';
import { type EntityPlan, rowIdOf } from './entity-plan.js';
import { UnsupportedOperationError } from './errors.js';
import { planOfMetadata, type Runtime } from './runtime.js';

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

/** Decrypts loaded entities in place (one batch per entity type, see `EntityCipher.decrypt`). */
export async function decryptLoaded(
  runtime: Runtime,
  queryRunner: QueryRunner | undefined,
  loaded: readonly Loaded[],
): Promise<void> {
  await Promise.all(loaded.map(({ plan, entity }) => decryptEntity(runtime, queryRunner, plan, entity)));
}

async function decryptEntity(
  runtime: Runtime,
  queryRunner: QueryRunner | undefined,
  plan: EntityPlan,
  entity: ObjectLiteral,
): Promise<void> {
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
  if (rowId !== undefined && dataKey !== undefined) runtime.knownKeys.remember(plan.table, rowId, dataKey);
  if (!present) return;
  if (dataKey === undefined && ciphertext) dataKey = await fetchDataKey(runtime, queryRunner, plan, entity);
  const values = await runtime.cipher.decrypt(plan, entity, dataKey, rowId, runtime.readMode);
  for (const [path, value] of Object.entries(values))
    plan.encrypted.get(path)?.metadata.setEntityValue(entity, value);
}

/** A partial select without the data-key column: fetch it rather than fail. */
async function fetchDataKey(
  runtime: Runtime,
  queryRunner: QueryRunner | undefined,
  plan: EntityPlan,
  entity: ObjectLiteral,
): Promise<string | null> {
  const id = plan.metadata.getEntityIdMap(entity);
  if (!id) {
    throw new UnsupportedOperationError(
      'unsupported-operation',
      'Encrypted columns were selected without the primary key, so the row data key cannot be found; select the primary key too',
      { entity: plan.entity, location: { table: plan.table } },
    );
  }
  const manager = queryRunner?.manager ?? runtime.dataSource.manager;
  const row = (await manager
    .createQueryBuilder(plan.metadata.target, 'fs_row')
    .withDeleted()
    .select(`fs_row.${plan.dataKey.property}`, 'fs_dk')
    .whereInIds(id)
    .getRawOne()) as { fs_dk?: string | null } | undefined;
  return row?.fs_dk ?? null;
}
