import { BlindIndex } from './blind-index.js';
import type { EncryptionContext } from './encryption-context.js';
import { type EncryptionNames, NamedRowEnvelope } from './encryption-names.js';
import { ConfigError } from './errors.js';
import type { Keyring } from './keyring.js';
import { type ReadMode, RowEnvelope } from './row-envelope.js';

/**
 * The options every fieldseal integration (Prisma, TypeORM, the CLI) takes to encrypt rows:
 * one place for their meaning and checks, so the adapters cannot drift apart.
 */
export interface FieldEncryptionBaseOptions {
  /** Wraps and unwraps data keys: in production a `CachingKeyring` around an `AwsKmsKeyring`. */
  readonly keyring: Keyring;
  /**
   * The wrapped blind-index key (`fsk1:…`), made once with `BlindIndex.generateKey(keyring)`
   * and kept with your configuration; changing it makes every stored index stale. Required
   * when any blind index is declared.
   */
  readonly blindIndexKey?: string | undefined;
  /** Bytes of HMAC-SHA-256 kept per blind-index value, 8–32. Defaults to 16 (32 hex characters). */
  readonly blindIndexBytes?: number;
  /**
   * `strict` (the default) fails on a value in an encrypted column that is not ciphertext;
   * `tolerant` returns it as it is, while a table is being migrated from plaintext.
   */
  readonly readMode?: ReadMode;
  /** Pairs added to every data key's encryption context (e.g. `{ app: 'billing' }`). Defaults to none. */
  readonly encryptionContext?: EncryptionContext;
  /**
   * Encryption names by table name (the name fieldseal binds today: Prisma's `@@map` or model name,
   * TypeORM's table name): `{ clients: 'customers' }` keeps a table renamed to `clients` readable,
   * bound to `customers` in values, data keys and blind indexes. Give the CLI the same option.
   * Defaults to none: every table is bound to its own name. See docs/rebind.md.
   */
  readonly encryptionNames?: EncryptionNames;
  /**
   * The keyring of a tenant's rows (e.g. a customer's own KMS key), for models with a tenant
   * column (Prisma `/// @tenant`, TypeORM `@TenantColumn()`): called with each row's tenant as
   * text. Cache what it returns. Defaults to `keyring` for every tenant. See docs/tenants.md.
   */
  readonly keyringFor?: (tenant: string) => Keyring | Promise<Keyring>;
}

/** The {@link RowEnvelope} the options describe (checks keyring, read mode and context). */
export function envelopeFor(options: FieldEncryptionBaseOptions): RowEnvelope {
  if (!options || typeof options !== 'object')
    throw new ConfigError('options', 'an options object with a keyring is required');
  if (options.blindIndexKey !== undefined && typeof options.blindIndexKey !== 'string')
    throw new ConfigError('blindIndexKey', 'must be the wrapped key text (fsk1:…)');
  const envelopeOptions = {
    keyring: options.keyring,
    ...(options.readMode ? { readMode: options.readMode } : {}),
    ...(options.encryptionContext ? { encryptionContext: options.encryptionContext } : {}),
    ...(options.keyringFor === undefined ? {} : { keyringFor: options.keyringFor }),
  };
  if (options.encryptionNames === undefined) return new RowEnvelope(envelopeOptions);
  return new NamedRowEnvelope({ ...envelopeOptions, encryptionNames: options.encryptionNames });
}

/**
 * Checks that a blind-index key is given when something declares blind indexes.
 * `declaredBy` names what does (models, entities), for the message. Synchronous, so an
 * integration can fail at setup even when it unwraps the key later.
 */
export function assertBlindIndexKey(
  options: FieldEncryptionBaseOptions,
  declaredBy: readonly string[],
): void {
  if (declaredBy.length === 0) return;
  if (typeof options.blindIndexKey !== 'string' || options.blindIndexKey === '') {
    throw new ConfigError(
      'blindIndexKey',
      `${declaredBy.join(', ')} declare${declaredBy.length === 1 ? 's' : ''} blind indexes; pass the key made by BlindIndex.generateKey(keyring)`,
    );
  }
}

/**
 * Unwraps the blind-index key the options name, or resolves to undefined when nothing
 * declares blind indexes (see {@link assertBlindIndexKey}).
 */
export async function openBlindIndex(
  options: FieldEncryptionBaseOptions,
  declaredBy: readonly string[],
): Promise<BlindIndex | undefined> {
  assertBlindIndexKey(options, declaredBy);
  if (declaredBy.length === 0) return undefined;
  return BlindIndex.open({
    keyring: options.keyring,
    wrappedKey: options.blindIndexKey as string,
    ...(options.blindIndexBytes === undefined ? {} : { bytes: options.blindIndexBytes }),
    ...(options.encryptionNames === undefined ? {} : { encryptionNames: options.encryptionNames }),
  });
}
