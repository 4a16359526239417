import { createHmac, timingSafeEqual } from 'node:crypto';
import { asBuffer, isAllZero } from './bytes.js';
import { KeyringError } from './errors.js';
import { DATA_KEY_LENGTH } from './keyring.js';

/** Bytes of the key commitment stored in every value (128 bits). */
export const COMMITMENT_LENGTH = 16;

const ENCRYPTION_LABEL = Buffer.from('fieldseal v1 encryption key\x01', 'latin1');
const COMMITMENT_LABEL = Buffer.from('fieldseal v1 key commitment\x01', 'latin1');

/**
 * What a data key yields: a separate AES-256-GCM key and a public commitment to the data key.
 * Both are HKDF-Expand(SHA-256) outputs of the data key with distinct labels (see docs/format.md),
 * so the key that commits is never the key that encrypts.
 */
export interface DerivedDataKey {
  readonly encryptionKey: Buffer;
  readonly commitment: Buffer;
}

// Derivation costs two HMACs; rows that share a cached data key share one derivation.
// Keyed by the key's identity, so entries vanish with the key object.
const derived = new WeakMap<Uint8Array, DerivedDataKey>();
const wiped = new WeakSet<Uint8Array>();

/** Derives (or recalls) the encryption key and commitment of a 32-byte data key. */
export function deriveDataKey(dataKey: Uint8Array): DerivedDataKey {
  const known = derived.get(dataKey);
  if (known) return known;
  if (wiped.has(dataKey)) {
    throw new KeyringError(
      'invalid-key-material',
      'A data key was used after its cache wiped it; this is a bug in the caller (keys must be used right after they are obtained)',
    );
  }
  if (dataKey.length !== DATA_KEY_LENGTH) {
    throw new KeyringError(
      'invalid-key-material',
      `A data key must be ${DATA_KEY_LENGTH} bytes, got ${dataKey.length}`,
    );
  }
  if (isAllZero(dataKey)) throw new KeyringError('invalid-key-material', 'Refusing an all-zero data key');
  const key = asBuffer(dataKey);
  const result: DerivedDataKey = {
    encryptionKey: createHmac('sha256', key).update(ENCRYPTION_LABEL).digest(),
    commitment: createHmac('sha256', key).update(COMMITMENT_LABEL).digest().subarray(0, COMMITMENT_LENGTH),
  };
  derived.set(dataKey, result);
  return result;
}

/**
 * Zero-fills a plaintext data key and what was derived from it, and refuses any later use of
 * it. Best effort: JavaScript may have copied the bytes (e.g. inside OpenSSL contexts or
 * strings), which no library can reach.
 */
export function wipeDataKey(dataKey: Uint8Array): void {
  const known = derived.get(dataKey);
  if (known) {
    known.encryptionKey.fill(0);
    derived.delete(dataKey);
  }
  dataKey.fill(0);
  wiped.add(dataKey);
}

/** Compares a stored commitment with the expected one in constant time. */
export function commitmentMatches(expected: Buffer, stored: Uint8Array): boolean {
  return stored.length === expected.length && timingSafeEqual(expected, stored);
}
