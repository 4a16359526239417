import { randomBytes } from 'node:crypto';
import {
  ConfigError,
  type DataKeyMaterial,
  type EncryptionContext,
  KeyringError,
  type RewrappingKeyring,
  TENANT_CONTEXT_KEY,
} from '@fieldseal/core';
import type { BranchKeyStore } from './branch-key-store.js';
import { branchKeyId, parseBranchWrap, unwrapDataKey, wrapDataKey } from './wrapped-data-key.js';

/** Destination key id of `fieldseal rotate --to`: re-wrap each row under its scope's active branch key. */
export const ACTIVE_BRANCH_KEY = 'branch:active';

/** Options of {@link BranchKeyKeyring}. */
export interface BranchKeyKeyringOptions {
  /** Where the branch keys live. */
  readonly store: BranchKeyStore;
  /**
   * The branch-key scope of a data key's encryption context. Defaults to the row's tenant
   * (`fieldseal:tenant`), or `''` (the global branch key) for rows without one.
   */
  readonly scopeOf?: (context: EncryptionContext) => string;
  /**
   * Whether a scope without branch keys gets version 1 on its first write (one KMS call), so a
   * new tenant needs no setup. A shredded scope never does. Defaults to `true`.
   */
  readonly createMissing?: boolean;
}

const defaultScope = (context: EncryptionContext) => context[TENANT_CONTEXT_KEY] ?? '';

/**
 * A keyring that wraps data keys locally under a key derived from the active branch key of the
 * row's scope (HKDF-SHA-256, a fresh salt per wrap; docs/format.md). No KMS call per row: one per
 * branch key per cache TTL per process. The wrapped key names its scope and version, so data keys
 * wrapped under older versions stay readable after a rotation.
 *
 * @example
 * const store = new BranchKeyStore({ executor, keyring: new AwsKmsKeyring({ keyId }) });
 * const envelope = new RowEnvelope({ keyring: new BranchKeyKeyring({ store }) });
 */
export class BranchKeyKeyring implements RewrappingKeyring {
  readonly name: string;
  readonly store: BranchKeyStore;
  readonly #scopeOf: (context: EncryptionContext) => string;
  readonly #createMissing: boolean;

  constructor(options: BranchKeyKeyringOptions) {
    if (!options?.store || typeof options.store.activeKey !== 'function')
      throw new ConfigError('store', 'a BranchKeyStore is required');
    this.store = options.store;
    this.#scopeOf = options.scopeOf ?? defaultScope;
    this.#createMissing = options.createMissing ?? true;
    this.name = `branch-keys:${options.store.table.name}`;
  }

  async generateDataKey(context: EncryptionContext): Promise<DataKeyMaterial> {
    const { ref, key } = await this.store.activeKey(this.#scopeOf(context), this.#createMissing);
    const plaintextKey = randomBytes(32);
    return {
      plaintextKey,
      encryptedKey: wrapDataKey(key, ref, plaintextKey, context),
      keyId: branchKeyId(ref),
    };
  }

  async decryptDataKey(encryptedKey: Uint8Array, context: EncryptionContext): Promise<Uint8Array> {
    const parsed = parseBranchWrap(encryptedKey);
    if (!parsed)
      throw new KeyringError(
        'malformed-encrypted-key',
        'Encrypted data key is not wrapped under a branch key (wrong format or length)',
      );
    const scope = this.#scopeOf(context);
    if (parsed.scope !== scope)
      throw new KeyringError(
        'unwrap-failed',
        `Data key was wrapped under ${branchKeyId(parsed)}, not a branch key of this row's scope: it was moved from another tenant`,
        { keyId: branchKeyId(parsed) },
      );
    return unwrapDataKey(await this.store.key(parsed), parsed, context);
  }

  keyIdOf(encryptedKey: Uint8Array): string | undefined {
    const parsed = parseBranchWrap(encryptedKey);
    return parsed ? branchKeyId(parsed) : undefined;
  }

  /** For `branch:active`: the id of every scope's active branch key (see `RewrappingKeyring`). */
  async currentKeyIds(destinationKeyId: string): Promise<readonly string[]> {
    if (destinationKeyId !== ACTIVE_BRANCH_KEY) return [];
    const keys = await this.store.list();
    return keys.filter((key) => key.status === 'active').map((key) => branchKeyId(key));
  }

  /**
   * Re-wraps a data key under the active branch key of its scope (`destinationKeyId`
   * `branch:active`), so `fieldseal rotate --to branch:active` moves rows onto the newest version
   * resumably; the plaintext data key never leaves this process.
   */
  async reEncryptDataKey(
    encryptedKey: Uint8Array,
    context: EncryptionContext,
    options: { readonly destinationKeyId: string },
  ): Promise<{ readonly encryptedKey: Uint8Array; readonly keyId: string }> {
    if (options.destinationKeyId !== ACTIVE_BRANCH_KEY)
      throw new ConfigError('destinationKeyId', `branch keys re-wrap only onto "${ACTIVE_BRANCH_KEY}"`);
    const plaintextKey = await this.decryptDataKey(encryptedKey, context);
    try {
      const { ref, key } = await this.store.activeKey(this.#scopeOf(context), false);
      return { encryptedKey: wrapDataKey(key, ref, plaintextKey, context), keyId: branchKeyId(ref) };
    } finally {
      plaintextKey.fill(0);
    }
  }
}
