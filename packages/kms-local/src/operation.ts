import type { KeyStore } from './key-store.js';
import type { RequestBody } from './request-fields.js';

/** A KMS operation: reads a JSON request, returns a JSON response or throws a `KmsError`. */
export type Operation = (store: KeyStore, body: RequestBody) => Record<string, unknown>;

/** Operations that count against KMS's shared quota for cryptographic requests. */
export const CRYPTOGRAPHIC_OPERATIONS: ReadonlySet<string> = new Set([
  'Encrypt',
  'Decrypt',
  'ReEncrypt',
  'GenerateDataKey',
  'GenerateDataKeyWithoutPlaintext',
]);
