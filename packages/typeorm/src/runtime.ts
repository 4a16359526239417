import type { ReadMode } from '@fieldseal/core';
import {
  type DataSource,
  EntityManager,
  type EntityMetadata,
  type EntityTarget,
  InstanceChecker,
  type ObjectLiteral,
} from 'typeorm';
import type { EntityCipher } from './entity-cipher.js';
import type { EntityPlan } from './entity-plan.js';
import type { PlaintextSwap } from './plaintext-swap.js';

/** The state one `fieldEncryption()` registration shares between its parts. */
export interface Runtime {
  readonly dataSource: DataSource;
  readonly cipher: EntityCipher;
  readonly readMode: ReadMode;
  /** Plans of the entities that declare encrypted columns or blind indexes. */
  readonly plans: ReadonlyMap<EntityMetadata, EntityPlan>;
  readonly swap: PlaintextSwap;
  /**
   * Value sets fieldseal itself passes to TypeORM (already encrypted, per row or group): the
   * subscriber lets them through. Anything else reaching a bare update must be refused.
   */
  readonly internal: WeakSet<object>;
}

/** The plan of an entity target, if it has one. Unknown targets return undefined. */
export function planOf(
  runtime: Runtime,
  target: EntityTarget<ObjectLiteral> | EntityMetadata | undefined,
): EntityPlan | undefined {
  if (target === undefined || target === null) return undefined;
  if (InstanceChecker.isEntityMetadata(target)) return runtime.plans.get(target);
  // Only names, classes and schemas are targets; save()/remove() also take entity objects here.
  const isTarget =
    typeof target === 'function' || typeof target === 'string' || InstanceChecker.isEntitySchema(target);
  if (!isTarget || !runtime.dataSource.hasMetadata(target)) return undefined;
  return runtime.plans.get(runtime.dataSource.getMetadata(target));
}

/**
 * The EntityManager methods as TypeORM defines them. fieldseal wraps methods on manager
 * *instances*; its own queries call these, so nothing is rewritten or intercepted twice.
 */
export const base: EntityManager = EntityManager.prototype;

// SQLite drivers share one connection (one query runner) per data source, and SQLite cannot
// nest BEGINs: two of fieldseal's transactions started concurrently would collide. They are
// queued per data source instead (plain TypeORM has the same limit for concurrent save()s).
const sqliteQueues = new WeakMap<object, Promise<unknown>>();

/** Runs `work` in the manager's transaction, opening one when none is active. */
export async function inTransaction<T>(
  manager: EntityManager,
  work: (manager: EntityManager) => Promise<T>,
): Promise<T> {
  if (manager.queryRunner?.isTransactionActive) return work(manager);
  const dataSource = manager.connection;
  if (!String(dataSource.options.type).includes('sqlite')) return manager.transaction(work);
  const previous = sqliteQueues.get(dataSource) ?? Promise.resolve();
  const next = previous.catch(() => undefined).then(() => manager.transaction(work));
  sqliteQueues.set(dataSource, next);
  return next;
}
