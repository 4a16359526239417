import {
  ConfigError,
  envelopeFor,
  type FieldEncryptionBaseOptions,
  openBlindIndex,
  type RowEnvelope,
} from '@fieldseal/core';
import type { DataSource, EntityManager, EntityTarget, ObjectLiteral, QueryRunner } from 'typeorm';
import { EncryptionSubscriber } from './encryption-subscriber.js';
import { EntityCipher } from './entity-cipher.js';
import { type EntityPlan, planEntity } from './entity-plan.js';
import { UnsupportedOperationError } from './errors.js';
import { patchManager } from './manager-patch.js';
import { PlaintextSwap } from './plaintext-swap.js';
import { planOf, type Runtime } from './runtime.js';

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

const registered = new WeakSet<DataSource>();

/**
 * Turns on field encryption for a data source: registers the subscriber that encrypts before
 * writes and decrypts after loads, and wraps the data source's entity managers (and so its
 * repositories and transactions) so lookups on encrypted properties use their blind index
 * and bulk updates keep each row under its own data key. Initializes the data source if it
 * is not yet. Call it once, before the data source is used.
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
  if (registered.has(dataSource))
    throw new ConfigError('dataSource', 'field encryption is already registered on this data source');
  const envelope = envelopeFor(options);
  if (!dataSource.isInitialized) await dataSource.initialize();

  const plans = new Map<EntityPlan['metadata'], EntityPlan>();
  for (const metadata of dataSource.entityMetadatas) {
    const plan = planEntity(metadata);
    if (plan) plans.set(metadata, plan);
  }
  const indexed = [...plans.values()].filter((p) => p.indexes.size > 0).map((p) => p.entity);
  const blindIndex = await openBlindIndex(options, indexed);
  for (const plan of plans.values()) {
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

  const runtime: Runtime = {
    dataSource,
    cipher: new EntityCipher(envelope, blindIndex),
    readMode: envelope.readMode,
    plans,
    swap: new PlaintextSwap(),
    internal: new WeakSet(),
  };
  registered.add(dataSource);
  (dataSource.subscribers as unknown[]).push(new EncryptionSubscriber(runtime));
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
    entities: Object.freeze([...plans.values()].map((p) => p.entity)),
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
