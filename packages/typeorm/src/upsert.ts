import {
  type EntityManager,
  InsertResult,
  type ObjectLiteral,
  QueryFailedError,
  type UpsertOptions,
} from 'typeorm';
import type { EntityPlan } from './entity-plan.js';
import { UnsupportedOperationError } from './errors.js';
import { base, type Runtime } from './runtime.js';

/**
 * `upsert()` for entities with encrypted columns. The SQL form (INSERT … ON CONFLICT DO
 * UPDATE) cannot be used: its update branch would write values encrypted under a *new* key
 * into a row that keeps its old one. Instead, per entity and inside a transaction: look the
 * row up by the conflict paths (encrypted ones, or their blind index, through the blind
 * index); update it under its own key when found — the encrypted conflict value too, since
 * equal under a normalizing index need not mean equal; insert it otherwise — and if a
 * concurrent insert wins the race (unique violation), roll back to a savepoint and update.
 */
export async function encryptedUpsert(
  _runtime: Runtime,
  manager: EntityManager,
  plan: EntityPlan,
  entities: readonly ObjectLiteral[],
  conflict: string[] | UpsertOptions<ObjectLiteral>,
): Promise<InsertResult> {
  const paths = Array.isArray(conflict)
    ? conflict
    : Array.isArray(conflict.conflictPaths)
      ? conflict.conflictPaths
      : Object.keys(conflict.conflictPaths);
  const result = new InsertResult();
  result.raw = [];
  await inTransaction(manager, async (tx) => {
    for (const entity of entities) {
      const where: ObjectLiteral = {};
      for (const path of paths) {
        // Conflict on the blind index is conflict on the value it indexes.
        const property = plan.indexes.get(path)?.source ?? path;
        if (entity[property] === undefined || entity[property] === null) {
          throw new UnsupportedOperationError(
            'unsupported-operation',
            `upsert() needs a value for conflict path "${path}" in every entity`,
            { entity: plan.entity, property, location: { table: plan.table } },
          );
        }
        where[property] = entity[property];
      }
      const changes: ObjectLiteral = {};
      for (const [property, value] of Object.entries(entity)) {
        if (value === undefined || plan.indexes.has(property) || property === plan.dataKey.property) continue;
        if (plan.metadata.primaryColumns.some((c) => c.propertyName === property)) continue;
        if (property in where && !plan.encrypted.has(property)) continue;
        changes[property] = value;
      }
      const select: Record<string, true> = idSelect(plan);
      for (const property of Object.keys(where)) if (plan.encrypted.has(property)) select[property] = true;
      const find = () =>
        base.findOne.call(tx, plan.metadata.target, {
          where: where as never,
          select: select as never,
          withDeleted: true,
        });
      const update = async (row: ObjectLiteral) => {
        const id = plan.metadata.getEntityIdMap(row) as ObjectLiteral;
        if (Object.keys(changes).length > 0) await base.update.call(tx, plan.metadata.target, id, changes);
        return id;
      };
      const existing = await find();
      if (existing) {
        result.identifiers.push(await update(existing));
        result.generatedMaps.push({});
        continue;
      }
      const runner = tx.queryRunner;
      await runner?.startTransaction(); // nested: a savepoint
      try {
        const inserted = await base.insert.call(tx, plan.metadata.target, entity);
        await runner?.commitTransaction();
        result.identifiers.push(inserted.identifiers[0] ?? {});
        result.generatedMaps.push(inserted.generatedMaps[0] ?? {});
      } catch (error) {
        await runner?.rollbackTransaction();
        const winner = isUniqueViolation(error) ? await find() : null;
        if (!winner) throw error;
        result.identifiers.push(await update(winner));
        result.generatedMaps.push({});
      }
    }
  });
  return result;
}

/** Runs `work` in the manager's transaction, opening one when none is active. */
function inTransaction<T>(manager: EntityManager, work: (manager: EntityManager) => Promise<T>): Promise<T> {
  return manager.queryRunner?.isTransactionActive ? work(manager) : manager.transaction(work);
}

function idSelect(plan: EntityPlan): Record<string, true> {
  return Object.fromEntries(plan.metadata.primaryColumns.map((c) => [c.propertyName, true]));
}

/** PostgreSQL 23505, MySQL/MariaDB 1062, SQLite SQLITE_CONSTRAINT_UNIQUE/PRIMARYKEY. */
function isUniqueViolation(error: unknown): boolean {
  if (!(error instanceof QueryFailedError)) return false;
  const driver = (error as QueryFailedError & { driverError?: { code?: unknown; errno?: unknown } })
    .driverError;
  const code = String(driver?.code ?? '');
  return (
    code === '23505' ||
    code === 'ER_DUP_ENTRY' ||
    driver?.errno === 1062 ||
    code.startsWith('SQLITE_CONSTRAINT_UNIQUE') ||
    code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
  );
}
