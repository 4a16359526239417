import {
  type EntityManager,
  InsertResult,
  type ObjectLiteral,
  QueryFailedError,
  type UpsertOptions,
} from 'typeorm';
import { checkPartial, encryptedUpdate } from './bulk-update.js';
import type { EntityPlan } from './entity-plan.js';
import { UnsupportedOperationError } from './errors.js';
import { base, inTransaction, type Runtime } from './runtime.js';
import { rewriteWhere } from './where-rewriter.js';

/**
 * `upsert()` for entities with encrypted columns. The SQL form (INSERT … ON CONFLICT DO
 * UPDATE) cannot be used: its update branch would write values encrypted under a *new* key
 * into a row that keeps its old one. Instead, per entity and inside a transaction: look the
 * row up by the conflict paths (encrypted ones through their blind index); update it under
 * its own key when found; insert it otherwise — and if a concurrent insert wins the race
 * (unique violation), roll back to a savepoint and update instead.
 */
export async function encryptedUpsert(
  runtime: Runtime,
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
      checkPartial(plan, entity);
      const where: ObjectLiteral = {};
      for (const path of paths) {
        if (entity[path] === undefined || entity[path] === null) {
          throw new UnsupportedOperationError(
            'unsupported-operation',
            `upsert() needs a value for conflict path "${path}" in every entity`,
            {
              entity: plan.entity,
              property: path,
              location: { table: plan.table },
            },
          );
        }
        where[path] = entity[path];
      }
      const lookup = rewriteWhere(runtime, plan.metadata, where);
      const changes: ObjectLiteral = {};
      for (const [property, value] of Object.entries(entity)) {
        if (
          value !== undefined &&
          !paths.includes(property) &&
          !plan.metadata.primaryColumns.some((c) => c.propertyName === property)
        )
          changes[property] = value;
      }
      const update = async () => {
        if (Object.keys(changes).length > 0) await encryptedUpdate(runtime, tx, plan, lookup, changes);
        const [row] = await base.find.call(tx, plan.metadata.target, {
          where: lookup as never,
          select: idSelect(plan),
          take: 1,
          withDeleted: true,
        });
        return row ? (plan.metadata.getEntityIdMap(row) as ObjectLiteral) : {};
      };
      const existing = await base.exists.call(tx, plan.metadata.target, {
        where: lookup as never,
        withDeleted: true,
      });
      if (existing) {
        result.identifiers.push(await update());
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
        if (!isUniqueViolation(error)) throw error;
        result.identifiers.push(await update());
        result.generatedMaps.push({});
      }
    }
  });
  return result;
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
