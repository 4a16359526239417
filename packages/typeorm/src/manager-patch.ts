import type { EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';
import { UnsupportedOperationError } from './errors.js';
import { base, planOf, type Runtime } from './runtime.js';
import { encryptedUpsert } from './upsert.js';

const PATCHED = Symbol.for('fieldseal.typeorm.patched');

type Method = (this: EntityManager, ...args: unknown[]) => unknown;

/** Aggregates: (target, column, where). */
const AGGREGATES = ['sum', 'average', 'minimum', 'maximum'] as const;

/**
 * Wraps the two EntityManager methods whose meaning fieldseal must change, on one manager
 * *instance*: `upsert()` (its SQL form, ON CONFLICT DO UPDATE, would mix two data keys in a
 * row, so it becomes a lookup then an update or insert) and the aggregates of encrypted
 * columns (refused). Everything else needs no wrapping: writes, reads and conditions are
 * handled where TypeORM builds the SQL, for every manager. An upsert through a manager
 * fieldseal did not wrap is refused there, never stored wrong.
 */
export function patchManager(runtime: Runtime, manager: EntityManager): EntityManager {
  const target = manager as unknown as Record<string | symbol, unknown>;
  if (target[PATCHED]) return manager;
  target[PATCHED] = true;
  for (const name of AGGREGATES) {
    const original = (base as unknown as Record<string, Method>)[name] as Method;
    target[name] = function (this: EntityManager, entity: unknown, column: unknown, ...rest: unknown[]) {
      const plan = planOf(runtime, entity as EntityTarget<ObjectLiteral>);
      const field = plan?.encrypted.get(String(column));
      if (plan && field) {
        return Promise.reject(
          new UnsupportedOperationError(
            'unsupported-aggregate',
            `${name}() of an encrypted column is not supported`,
            {
              entity: plan.entity,
              property: field.property,
              location: { table: plan.table, column: field.column },
            },
          ),
        );
      }
      return original.call(this, entity, column, ...rest);
    };
  }
  const upsert = base.upsert as unknown as Method;
  target.upsert = function (this: EntityManager, entity: unknown, entities: unknown, conflict: unknown) {
    const plan = planOf(runtime, entity as EntityTarget<ObjectLiteral>);
    if (!plan) return upsert.call(this, entity, entities, conflict);
    const list = (Array.isArray(entities) ? entities : [entities]) as ObjectLiteral[];
    return encryptedUpsert(runtime, this, plan, list, conflict as string[]);
  };
  return manager;
}
