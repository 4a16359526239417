import { type EntityManager, type EntityTarget, In, type ObjectLiteral } from 'typeorm';
import { checkPartial, encryptedUpdate } from './bulk-update.js';
import type { EntityPlan } from './entity-plan.js';
import { type UnsupportedOperationCode, UnsupportedOperationError } from './errors.js';
import { rethrowGuardViolation } from './guard-errors.js';
import { base, planOf, type Runtime } from './runtime.js';
import { encryptedUpsert } from './upsert.js';
import { rewriteFindOptions, rewriteWhere } from './where-rewriter.js';

const PATCHED = Symbol.for('fieldseal.typeorm.patched');

type Method = (this: EntityManager, ...args: unknown[]) => unknown;
type Call = (...args: unknown[]) => unknown;

/** Methods whose second argument is find options (`where`, `select`, `order`). */
const WITH_OPTIONS = ['find', 'findAndCount', 'findOne', 'findOneOrFail', 'count', 'exists'] as const;
/** Methods whose second argument is a bare where. */
const WITH_WHERE = [
  'findBy',
  'findAndCountBy',
  'findOneBy',
  'findOneByOrFail',
  'countBy',
  'existsBy',
] as const;
/** Methods whose second argument is delete-style criteria (ids or a where). */
const WITH_CRITERIA = ['delete', 'softDelete', 'restore'] as const;
/** Aggregates: (target, column, where). */
const AGGREGATES = ['sum', 'average', 'minimum', 'maximum'] as const;

/**
 * Wraps the query methods of one EntityManager *instance* (never TypeORM's prototype, so other
 * data sources are untouched): find-style methods get their conditions rewritten onto blind
 * indexes; `update()`/`updateAll()`/`upsert()` touching encrypted properties are carried out
 * per row (see `encryptedUpdate`, `encryptedUpsert`); writes run in a scope that restores
 * the caller's plaintext objects if they fail. Repositories delegate to their manager, so
 * they are covered too.
 */
export function patchManager(runtime: Runtime, manager: EntityManager): EntityManager {
  const target = manager as unknown as Record<string | symbol, unknown>;
  if (target[PATCHED]) return manager;
  target[PATCHED] = true;
  const wrap = (
    name: string,
    replacement: (plan: EntityPlan | undefined, original: Call, args: unknown[]) => unknown,
  ) => {
    const original = (base as unknown as Record<string, Method>)[name] as Method;
    target[name] = function (this: EntityManager, ...args: unknown[]) {
      try {
        const result = replacement(
          planOf(runtime, args[0] as EntityTarget<ObjectLiteral>),
          (...a) => original.apply(this, a),
          args,
        );
        // A write refused by a database guard surfaces as a GuardViolationError.
        return result instanceof Promise
          ? result.catch((error: unknown) => rethrowGuardViolation(runtime.dataSource, error))
          : result;
      } catch (error) {
        // These methods all return promises; refusals must reject, not throw.
        return Promise.reject(error);
      }
    };
  };

  for (const name of WITH_OPTIONS) {
    wrap(name, (plan, original, [entity, options, ...rest]) =>
      original(
        entity,
        plan || hasRelations(runtime, entity)
          ? rewriteFindOptions(runtime, metadataOf(runtime, entity), options)
          : options,
        ...rest,
      ),
    );
  }
  for (const name of WITH_WHERE) {
    wrap(name, (plan, original, [entity, where, ...rest]) =>
      original(
        entity,
        plan || hasRelations(runtime, entity)
          ? rewriteWhere(runtime, metadataOf(runtime, entity), where)
          : where,
        ...rest,
      ),
    );
  }
  for (const name of WITH_CRITERIA) {
    wrap(name, (plan, original, [entity, criteria, ...rest]) =>
      original(entity, plan ? rewriteCriteria(runtime, plan, criteria) : criteria, ...rest),
    );
  }
  for (const name of AGGREGATES) {
    wrap(name, (plan, original, [entity, column, where, ...rest]) => {
      if (plan?.encrypted.has(String(column)))
        throw unsupported(plan, String(column), `${name}() of an encrypted column`, 'unsupported-aggregate');
      return original(entity, column, plan ? rewriteWhere(runtime, plan.metadata, where) : where, ...rest);
    });
  }
  for (const name of ['increment', 'decrement']) {
    wrap(name, (plan, original, [entity, criteria, path, ...rest]) => {
      if (plan?.encrypted.has(String(path)) || plan?.indexes.has(String(path)))
        throw unsupported(plan, String(path), `${name}() of an encrypted column`, 'unsupported-aggregate');
      return original(entity, plan ? rewriteCriteria(runtime, plan, criteria) : criteria, path, ...rest);
    });
  }

  wrap('update', (plan, original, [entity, criteria, partial, options]) => {
    if (!plan || !partial || typeof partial !== 'object') return original(entity, criteria, partial, options);
    return runtime.swap.run(partial, async () => {
      checkPartial(plan, partial as ObjectLiteral);
      const where = rewriteCriteria(runtime, plan, criteria);
      if (!touchesEncrypted(plan, partial as ObjectLiteral)) return original(entity, where, partial, options);
      if ((options as { returning?: unknown } | undefined)?.returning !== undefined)
        throw unsupported(plan, undefined, 'update() with returning');
      return encryptedUpdate(runtime, manager, plan, toWhere(plan, where), partial as ObjectLiteral);
    });
  });
  wrap('updateAll', (plan, original, [entity, partial, options]) => {
    if (!plan || !partial || typeof partial !== 'object') return original(entity, partial, options);
    checkPartial(plan, partial as ObjectLiteral);
    if (!touchesEncrypted(plan, partial as ObjectLiteral)) return original(entity, partial, options);
    return encryptedUpdate(runtime, manager, plan, undefined, partial as ObjectLiteral);
  });
  wrap('upsert', (plan, original, [entity, entities, conflict]) => {
    if (!plan) return original(entity, entities, conflict);
    const list = (Array.isArray(entities) ? entities : [entities]) as ObjectLiteral[];
    return runtime.swap.run(list, () => encryptedUpsert(runtime, manager, plan, list, conflict as string[]));
  });
  for (const name of ['save', 'insert']) {
    wrap(name, (_plan, original, args) => runtime.swap.run(args, async () => original(...args)));
  }
  return manager;
}

function metadataOf(runtime: Runtime, entity: unknown) {
  return runtime.dataSource.getMetadata(entity as EntityTarget<ObjectLiteral>);
}

// A condition on a related entity's encrypted property needs rewriting even when the queried
// entity has nothing encrypted itself.
function hasRelations(runtime: Runtime, entity: unknown): boolean {
  if (runtime.plans.size === 0 || !runtime.dataSource.hasMetadata(entity as EntityTarget<ObjectLiteral>))
    return false;
  return metadataOf(runtime, entity).relations.some((r) => runtime.plans.has(r.inverseEntityMetadata));
}

function touchesEncrypted(plan: EntityPlan, partial: ObjectLiteral): boolean {
  return Object.keys(partial).some((p) => plan.encrypted.has(p) && partial[p] !== undefined);
}

/** Criteria of update/delete: primitive ids stay as they are; object criteria are rewritten. */
function rewriteCriteria(runtime: Runtime, plan: EntityPlan, criteria: unknown): unknown {
  if (criteria === null || typeof criteria !== 'object' || criteria instanceof Date) return criteria;
  if (Array.isArray(criteria) && criteria.every((c) => c === null || typeof c !== 'object')) return criteria;
  return rewriteWhere(runtime, plan.metadata, criteria);
}

/** Primitive id criteria (`7`, `[7, 8]`) as a find where on the primary key. */
function toWhere(plan: EntityPlan, criteria: unknown): unknown {
  const isPrimitive = (c: unknown) => c === null || typeof c !== 'object' || c instanceof Date;
  const primary = plan.metadata.primaryColumns;
  if (isPrimitive(criteria)) return { [primary[0]!.propertyName]: criteria };
  if (Array.isArray(criteria) && criteria.every(isPrimitive))
    return { [primary[0]!.propertyName]: In(criteria) };
  return criteria;
}

function unsupported(
  plan: EntityPlan,
  property: string | undefined,
  what: string,
  code: UnsupportedOperationCode = 'unsupported-operation',
): UnsupportedOperationError {
  return new UnsupportedOperationError(code, `${what} is not supported`, {
    entity: plan.entity,
    ...(property ? { property } : {}),
    location: {
      table: plan.table,
      ...(property && plan.encrypted.get(property) ? { column: plan.encrypted.get(property)!.column } : {}),
    },
  });
}
