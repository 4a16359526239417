import {
  ConfigError,
  envelopeFor,
  type FieldEncryptionBaseOptions,
  openBlindIndex,
  type RowEnvelope,
} from '@fieldseal/core';
import type { DataSource, EntityManager, EntityTarget, ObjectLiteral, QueryRunner } from 'typeorm';
import { declarationsOf } from './decorators.js';
import { EntityCipher } from './entity-cipher.js';
import type { EntityPlan } from './entity-plan.js';
import { UnsupportedOperationError } from './errors.js';
import { KnownKeys } from './known-keys.js';
import { patchManager } from './manager-patch.js';
import { patchReadPath } from './read-path.js';
import { checkPlan, planOf, planOfMetadata, type Runtime, register, runtimeOf } from './runtime.js';
import { patchWritePath } from './write-path.js';

/** Options of {@link fieldEncryption}: the options every fieldseal integration shares. */
export type FieldEncryptionOptions = FieldEncryptionBaseOptions;

/** A data source's field encryption, as returned by {@link fieldEncryption}. */
export interface FieldEncryption {
  /** The row envelope used for every entity (its keyring, context and read mode). */
  readonly envelope: RowEnvelope;
  /** Entity names with encrypted columns or blind indexes. */
  readonly entities: readonly string[];
  /**
   * The blind-index value of `value` for an encrypted property, for conditions fieldseal does
   * not rewrite (QueryBuilder `where` strings): `qb.where('u.emailIndex = :h', { h: fe.indexValue(User, 'email', email) })`.
   */
  indexValue(target: EntityTarget<ObjectLiteral>, property: string, value: unknown): string | null;
}

/**
 * Turns on field encryption for a data source. Every INSERT and UPDATE of an entity with
 * `@Encrypted()` columns is encrypted at the last step before TypeORM builds the SQL — after
 * every listener and subscriber — whatever path issued it (save with any options, insert,
 * update, upsert, QueryBuilder, transactions, query runners); a write fieldseal cannot make
 * safe is refused before anything is sent. Loaded entities are decrypted before `@AfterLoad`
 * listeners run; equality lookups on encrypted properties use their blind index. Survives
 * `destroy()`/`initialize()`. Initializes the data source if it is not yet. Call it once.
 *
 * @example
 * const dataSource = new DataSource({ type: 'better-sqlite3', database: 'app.db', entities: [User] });
 * await fieldEncryption(dataSource, { keyring, blindIndexKey: process.env.BLIND_INDEX_KEY });
 * await dataSource.getRepository(User).save({ email: 'ada@example.com' }); // stored encrypted
 */
export async function fieldEncryption(
  dataSource: DataSource,
  options: FieldEncryptionOptions,
): Promise<FieldEncryption> {
  if (runtimeOf(dataSource))
    throw new ConfigError('dataSource', 'field encryption is already registered on this data source');
  patchWritePath();
  patchReadPath();
  const envelope = envelopeFor(options);
  if (!dataSource.isInitialized) await dataSource.initialize();
  const plans = plansOf(dataSource);
  const indexed = plans.filter((p) => p.indexes.size > 0).map((p) => p.entity);
  const blindIndex = await openBlindIndex(options, indexed);
  for (const plan of plans) checkPlan(plan, blindIndex);

  const runtime: Runtime = {
    dataSource,
    cipher: new EntityCipher(envelope, blindIndex),
    readMode: envelope.readMode,
    knownKeys: new KnownKeys(),
  };
  register(runtime);
  // Re-initializing builds new metadata: check the new plans at once rather than on first use.
  const rebuildable = dataSource as unknown as { buildMetadatas: () => Promise<void> };
  const build = rebuildable.buildMetadatas.bind(dataSource);
  rebuildable.buildMetadatas = async () => {
    await build();
    for (const plan of plansOf(dataSource)) checkPlan(plan, blindIndex);
  };
  // Every manager made from now on (query runners, transactions) is wrapped at birth; the
  // ones that already exist are wrapped here.
  const createEntityManager = dataSource.createEntityManager.bind(dataSource);
  dataSource.createEntityManager = (queryRunner?: QueryRunner): EntityManager =>
    patchManager(runtime, createEntityManager(queryRunner));
  patchManager(runtime, dataSource.manager);
  const shared = (dataSource.driver as { queryRunner?: QueryRunner }).queryRunner;
  if (shared?.manager) patchManager(runtime, shared.manager);

  return Object.freeze({
    envelope,
    entities: Object.freeze(plans.map((p) => p.entity)),
    indexValue(target: EntityTarget<ObjectLiteral>, property: string, value: unknown): string | null {
      const plan = planOf(runtime, target);
      if (!plan?.indexBySource.has(property)) {
        throw new UnsupportedOperationError('unsupported-filter', `"${property}" has no blind index`, {
          entity: plan?.entity ?? String((target as { name?: string }).name ?? target),
          property,
        });
      }
      return runtime.cipher.indexOf(plan, property, value);
    },
  });
}

/** The plans of a data source's entities (checked: a declaration no plan uses fails here). */
function plansOf(dataSource: DataSource): EntityPlan[] {
  const plans: EntityPlan[] = [];
  for (const metadata of dataSource.entityMetadatas) {
    const plan = planOfMetadata(metadata);
    if (plan) plans.push(plan);
    refuseUnconsumed(metadata);
  }
  return plans;
}

/**
 * A class declaring `@Encrypted()` stored as a plain column (`@Column('simple-json') address:
 * Address`) would be written as plaintext JSON: only embedded entities (`@Column(() => Address)`)
 * are encrypted, so anything else is refused.
 */
function refuseUnconsumed(metadata: DataSource['entityMetadatas'][number]): void {
  const reflect = Reflect as unknown as {
    getMetadata?: (key: string, target: object, property: string) => unknown;
  };
  if (typeof reflect.getMetadata !== 'function') return;
  for (const column of metadata.columns) {
    if (column.embeddedMetadata || typeof column.target !== 'function') continue;
    const type = reflect.getMetadata('design:type', column.target.prototype as object, column.propertyName);
    if (typeof type !== 'function' || !declaresEncryption(type)) continue;
    throw new ConfigError(
      '@Encrypted',
      `"${column.propertyName}" holds ${type.name}, which declares @Encrypted() properties, in a plain column; declare it as an embedded entity, @Column(() => ${type.name}) (entity ${metadata.name})`,
    );
  }
}

function declaresEncryption(type: object): boolean {
  for (
    let c: unknown = type;
    typeof c === 'function' && c !== Function.prototype;
    c = Object.getPrototypeOf(c)
  )
    if (declarationsOf(c as object)?.encrypted.size) return true;
  return false;
}
