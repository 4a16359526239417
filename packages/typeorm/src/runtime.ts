import { type BlindIndex, ConfigError, type ReadMode } from '@fieldseal/core';
import {
  type DataSource,
  EntityManager,
  type EntityMetadata,
  type EntityTarget,
  InstanceChecker,
  type ObjectLiteral,
} from 'typeorm';
import type { EntityCipher } from './entity-cipher.js';
import { type EntityPlan, planEntity } from './entity-plan.js';
import type { KnownKeys } from './known-keys.js';

/** The state one `fieldEncryption()` registration shares between its parts. */
export interface Runtime {
  readonly dataSource: DataSource;
  readonly cipher: EntityCipher;
  readonly readMode: ReadMode;
  /** Data keys of rows recently loaded, so a write that follows can skip reading them. */
  readonly knownKeys: KnownKeys;
}

// Keyed by the DataSource object, never by its subscribers or metadata: TypeORM rebuilds
// both on every initialize(), and encryption must survive a destroy()/initialize().
const runtimes = new WeakMap<DataSource, Runtime>();

/** Registers the runtime of a data source (once). */
export function register(runtime: Runtime): void {
  if (runtimes.has(runtime.dataSource))
    throw new ConfigError('dataSource', 'field encryption is already registered on this data source');
  runtimes.set(runtime.dataSource, runtime);
}

/** The runtime of a data source, or undefined when `fieldEncryption()` was never called on it. */
export function runtimeOf(dataSource: DataSource): Runtime | undefined {
  return runtimes.get(dataSource);
}

// Plans depend only on the metadata object and the decorators; TypeORM makes new metadata
// objects on every initialize(), which simply get new plans here.
const plans = new WeakMap<EntityMetadata, EntityPlan | null>();

/**
 * The plan of an entity's metadata (built and checked on first use), or undefined when the
 * entity declares nothing. Independent of registration: the write path uses it to refuse
 * writes to encrypted entities through a data source without `fieldEncryption()`.
 */
export function planOfMetadata(metadata: EntityMetadata): EntityPlan | undefined {
  let plan = plans.get(metadata);
  if (plan === undefined) {
    plan = planEntity(metadata) ?? null;
    plans.set(metadata, plan);
  }
  return plan ?? undefined;
}

/** Checks what a plan needs from the registration (blind-index length). */
export function checkPlan(plan: EntityPlan, blindIndex: BlindIndex | undefined): void {
  for (const index of plan.indexes.values()) {
    const length = index.metadata.length ? Number(index.metadata.length) : undefined;
    if (blindIndex && length !== undefined && length < blindIndex.length) {
      throw new ConfigError(
        '@BlindIndex',
        `"${index.property}" holds ${length} characters, but index values have ${blindIndex.length} (entity ${plan.entity})`,
      );
    }
  }
}

/** The plan of an entity target, if it has one. Unknown targets return undefined. */
export function planOf(
  runtime: Runtime,
  target: EntityTarget<ObjectLiteral> | EntityMetadata | undefined,
): EntityPlan | undefined {
  if (target === undefined || target === null) return undefined;
  if (InstanceChecker.isEntityMetadata(target)) return planOfMetadata(target);
  // Only names, classes and schemas are targets; save()/remove() also take entity objects here.
  const isTarget =
    typeof target === 'function' || typeof target === 'string' || InstanceChecker.isEntitySchema(target);
  if (!isTarget || !runtime.dataSource.hasMetadata(target)) return undefined;
  return planOfMetadata(runtime.dataSource.getMetadata(target));
}

/**
 * The EntityManager methods as TypeORM defines them. fieldseal wraps methods on manager
 * *instances*; its own queries call these, so nothing is rewritten or intercepted twice.
 */
export const base: EntityManager = EntityManager.prototype;
