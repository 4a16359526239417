import { inspect } from 'node:util';
import type { EncryptionContext } from './encryption-context.js';

/** Length in bytes of every data key: AES-256. */
export const DATA_KEY_LENGTH = 32;

/**
 * A fresh data key: its plaintext (used at once, then dropped) and its wrapped form
 * (stored in the row's data-key column). Build one with {@link dataKeyMaterial}, so logging it
 * never prints the plaintext key.
 */
export interface DataKeyMaterial {
  /**
   * The 32-byte plaintext data key. It belongs to the keyring: a caching keyring may
   * zero-fill it after eviction, so use it right away and do not keep it across awaits.
   */
  readonly plaintextKey: Uint8Array;
  /** The data key wrapped by the master key; opaque to everyone but the keyring. */
  readonly encryptedKey: Uint8Array;
  /** The id (or ARN) of the master key that wrapped it. Not secret. */
  readonly keyId: string;
}

/**
 * What the caller is about to protect with a data key, so a caching keyring can enforce
 * its bounds. A keyring that does not cache may ignore it.
 */
export interface DataKeyHint {
  /** Plaintext bytes to be encrypted under the key by this call (all values of the row). */
  readonly plaintextBytes?: number;
  /** AES-GCM encryptions (values) to be made under the key by this call. Defaults to 1. */
  readonly encryptions?: number;
  /**
   * The key will be stored and used indefinitely (a blind-index key), not for one row: a
   * caching keyring must make a fresh key for this call and never cache or reuse it.
   * Defaults to false.
   */
  readonly longLived?: boolean;
}

const REDACTED = '[redacted]';

/**
 * A {@link DataKeyMaterial} whose plaintext key is hidden from `util.inspect`, `console.log`
 * and `JSON.stringify` (they show `plaintextKey: '[redacted]'`); the property itself is the
 * given array, unchanged. Keyrings build their results with it.
 */
export function dataKeyMaterial(material: DataKeyMaterial): DataKeyMaterial {
  const { plaintextKey, encryptedKey, keyId } = material;
  const visible = () => ({ plaintextKey: REDACTED, encryptedKey, keyId });
  const result = { plaintextKey, encryptedKey, keyId };
  Object.defineProperties(result, {
    toJSON: { value: () => ({ ...visible(), encryptedKey: Buffer.from(encryptedKey).toString('base64') }) },
    [inspect.custom]: {
      value: (depth: number, options: object) =>
        `DataKeyMaterial ${inspect(visible(), { ...options, depth: Math.max(depth, 0) })}`,
    },
  });
  return Object.freeze(result);
}

/**
 * The seam every master-key provider implements (local keys, AWS KMS, a cache in front of
 * either). Two methods, both asynchronous because a remote service may sit behind them.
 */
export interface Keyring {
  /**
   * A stable, human-readable name of this keyring and its master key(s). A caching keyring
   * partitions its cache by it, so two keyrings never share a data key. Not secret.
   */
  readonly name: string;
  /** Makes a new data key wrapped under the primary master key, bound to `context`. */
  generateDataKey(context: EncryptionContext, hint?: DataKeyHint): Promise<DataKeyMaterial>;
  /**
   * Unwraps a data key made by `generateDataKey` with the same `context`. Fails with a
   * `KeyringError` when the key was wrapped under another context or an unknown master key.
   */
  decryptDataKey(encryptedKey: Uint8Array, context: EncryptionContext): Promise<Uint8Array>;
  /**
   * Optional: the id of the master key that wrapped `encryptedKey`, read from the wrapped key
   * itself (where it is authenticated), or `undefined` when this keyring cannot tell offline.
   * The row envelope uses it to reject a data-key column whose readable key id was altered.
   */
  keyIdOf?(encryptedKey: Uint8Array): string | undefined;
}

/**
 * A keyring that can re-wrap a data key under another master key without the caller
 * seeing the plaintext key (KMS `ReEncrypt`); used by key rotation.
 */
export interface RewrappingKeyring extends Keyring {
  reEncryptDataKey(
    encryptedKey: Uint8Array,
    context: EncryptionContext,
    options: { readonly destinationKeyId: string },
  ): Promise<{ readonly encryptedKey: Uint8Array; readonly keyId: string }>;
  /**
   * The key ids a destination stands for right now, when it is symbolic (a branch-key keyring's
   * `branch:active` is a different key per tenant): rotation treats data keys already wrapped
   * under one of them as done, so a rerun re-wraps nothing. Optional; without it a destination
   * is its own id.
   */
  currentKeyIds?(destinationKeyId: string): Promise<readonly string[]>;
}

/** True when `keyring` can re-wrap data keys itself. */
export function isRewrappingKeyring(keyring: Keyring): keyring is RewrappingKeyring {
  return typeof (keyring as Partial<RewrappingKeyring>).reEncryptDataKey === 'function';
}
