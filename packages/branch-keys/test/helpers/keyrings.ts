import { randomBytes } from 'node:crypto';
import {
  type DataKeyMaterial,
  type EncryptionContext,
  type Keyring,
  LocalKeyring,
  RowEnvelope,
} from '@fieldseal/core';
import { BranchKeyKeyring, BranchKeyStore, type BranchKeyStoreOptions } from '../../src/index.js';

/** A master keyring (the "KMS") that counts its calls. */
export class CountingKeyring implements Keyring {
  readonly name: string;
  calls = 0;
  constructor(readonly inner: Keyring) {
    this.name = `counting:${inner.name}`;
  }
  generateDataKey(context: EncryptionContext): Promise<DataKeyMaterial> {
    this.calls++;
    return this.inner.generateDataKey(context);
  }
  decryptDataKey(encryptedKey: Uint8Array, context: EncryptionContext): Promise<Uint8Array> {
    this.calls++;
    return this.inner.decryptDataKey(encryptedKey, context);
  }
}

/** A fresh local master key as text, shareable with child processes. */
export function masterKeyText(id = 'master-1'): string {
  return `${id}:${randomBytes(32).toString('base64')}`;
}

/** One "process": its own store (and cache), keyring and envelope over the same database and master key. */
export function instance(
  executor: BranchKeyStoreOptions['executor'],
  master: string,
  options: Partial<BranchKeyStoreOptions> = {},
) {
  const kms = new CountingKeyring(LocalKeyring.fromString(master));
  const store = new BranchKeyStore({ executor, keyring: kms, ...options });
  const keyring = new BranchKeyKeyring({ store });
  const envelope = new RowEnvelope({ keyring });
  return { kms, store, keyring, envelope };
}
