import {
  BlindIndex,
  ConfigError,
  type EncryptionContext,
  type Keyring,
  type ReadMode,
  RowEnvelope,
} from '@fieldseal/core';
import type { DataSource, EntityManager, EntityTarget, ObjectLiteral, QueryRunner } from 'typeorm';
import { EncryptionSubscriber } from './encryption-subscriber.js';
import { EntityCipher } from './entity-cipher.js';
import { type EntityPlan, planEntity } from './entity-plan.js';
import { UnsupportedOperationError } from './errors.js';
import { patchManager } from './manager-patch.js';
import { PlaintextSwap } from './plaintext-swap.js';
import { planOf, type Runtime } from './runtime.js';

/** Options of {@link fieldEncryption}. */
export interface FieldEncryptionOptions {
  /** Wraps and unwraps data keys: in production a `CachingKeyring` around an `AwsKmsKeyring`. */
  readonly keyring: Keyring;
  /**
   * The wrapped blind-index key (`fsk1:…`, made once with `BlindIndex.generateKey(keyring)`
   * and kept with your configuration). Required when any entity declares `@BlindIndex()`.
   */
  readonly blindIndexKey?: string;
  /** Bytes of HMAC kept per blind-index value, 8–32. Defaults to 16 (32 hex characters). */
  readonly blindIndexBytes?: number;
  /** Pairs added to every data key's encryption context (e.g. `{ app: 'billing' }`). Defaults to none. */
  readonly encryptionContext?: EncryptionContext;
  /**
   * `strict` (the default) fails on a value in an encrypted column that is not ciphertext;
   * `tolerant` returns it as it is, while a table is being migrated from plaintext.
   */
  readonly readMode?: ReadMode;
}

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
  if (!options || typeof options !== 'object')
    throw new ConfigError('options', 'an options object with a keyring is required');
  if (registered.has(dataSource))
    throw new ConfigError('dataSource', 'field encryption is already registered on this data source');
  if (options.blindIndexKey !== undefined && typeof options.blindIndexKey !== 'string')
    throw new ConfigError('blindIndexKey', 'must be the wrapped key text (fsk1:…)');
  const envelope = new RowEnvelope({
    keyring: options.keyring,
    ...(options.encryptionContext ? { encryptionContext: options.encryptionContext } : {}),
    ...(options.readMode ? { readMode: options.readMode } : {}),
  });
  if (!dataSource.isInitialized) await dataSource.initialize();

  const plans = new Map<EntityPlan['metadata'], EntityPlan>();
  for (const metadata of dataSource.entityMetadatas) {
    const plan = planEntity(metadata);
    if (plan) plans.set(metadata, plan);
  }
  const indexed = [...plans.values()].filter((p) => p.indexes.size > 0).map((p) => p.entity);
  if (indexed.length > 0 && !options.blindIndexKey) {
    throw new ConfigError(
      'blindIndexKey',
      `entities ${indexed.join(', ')} declare @BlindIndex(); pass the key made by BlindIndex.generateKey(keyring)`,
    );
  }
  const blindIndex = options.blindIndexKey
    ? await BlindIndex.open({
        keyring: options.keyring,
        wrappedKey: options.blindIndexKey,
        ...(options.blindIndexBytes === undefined ? {} : { bytes: options.blindIndexBytes }),
      })
    : undefined;
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
