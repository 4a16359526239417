import { BlindIndex, LocalKeyring } from '@fieldseal/core';
import { type FieldEncryptionOptions, fieldEncryption } from '../../src/index.js';
import { fieldEncryptionMetadata } from '../generated/sqlite/fieldseal/metadata.js';
import type { BaseClient, TestDatabase } from './databases.js';

export const metadata = fieldEncryptionMetadata;
export const keyring = LocalKeyring.fromString(LocalKeyring.generateKeyText('test-key'));
export const blindIndexKey = await BlindIndex.generateKey(keyring);

/** The client with the extension applied (its type is the generated client's, extended). */
export function encrypted(client: BaseClient, options: Partial<FieldEncryptionOptions> = {}) {
  return client.$extends(fieldEncryption({ keyring, metadata, blindIndexKey, ...options }));
}

export type EncryptedClient = ReturnType<typeof encrypted>;

/** Opens a fresh client on the database and extends it. */
export function extendedClient(
  db: TestDatabase,
  options: Partial<FieldEncryptionOptions> = {},
): EncryptedClient {
  return encrypted(db.client(), options);
}

/** Every value of the named columns in a raw row list is ciphertext (or null). */
export function onlyCiphertext(rows: Record<string, unknown>[], columns: readonly string[]): boolean {
  return rows.every((row) =>
    columns.every((column) => {
      const value = row[column];
      if (value === null || value === undefined) return true;
      if (typeof value === 'string') return /^fs2:[A-Za-z0-9_-]+$/.test(value);
      if (value instanceof Uint8Array) return Buffer.from(value.subarray(0, 4)).toString('latin1') === 'fs2:';
      return false;
    }),
  );
}
