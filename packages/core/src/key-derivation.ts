import { timingSafeEqual } from 'node:crypto';
import { asBuffer, isAllZero } from './bytes.js';
import { KeyringError } from './errors.js';
import { DATA_KEY_LENGTH } from './keyring.js';
import { type HmacKey, hmacFinish, hmacKey, wipeHmacKey } from './sha256.js';
import { COMMITMENT_LENGTHS, type FormatVersion } from './value-format.js';

/** Bytes of the key commitment stored in every v1 value (128 bits). v2 stores 256 bits. */
export const COMMITMENT_LENGTH = COMMITMENT_LENGTHS[1];
/** Bytes of a v2 row salt (128 bits, random per row). */
export const ROW_SALT_LENGTH = 16;

const LABELS = {
  1: {
    encryption: Buffer.from('fieldseal v1 encryption key\x01', 'latin1'),
    commitment: Buffer.from('fieldseal v1 key commitment\x01', 'latin1'),
  },
  2: {
    encryption: Buffer.from('fieldseal v2 encryption key\x01', 'latin1'),
    commitment: Buffer.from('fieldseal v2 key commitment\x01', 'latin1'),
  },
} as const;

/** Shared by every key derived from one data key, so wiping the data key disables them all. */
interface KeyState {
  wiped: boolean;
}

/**
 * What a data key yields for one format version: a separate AES-256-GCM key and a public
 * commitment. v1 derives both from the data key alone; v2 first extracts a per-row key from the
 * data key and the row's salt (HKDF-Extract), so every row has its own encryption key even when
 * rows share a cached data key. See docs/format.md.
 */
export interface DerivedDataKey {
  readonly version: FormatVersion;
  readonly encryptionKey: Buffer;
  readonly commitment: Buffer;
  /** Throws when the data key was wiped (evicted from a cache) after this was derived. */
  assertUsable(): void;
}

// v1 derivation is per data key: rows sharing a cached data key share it. Keyed by identity, so
// entries vanish with the key object. v2 derivations are per row and not kept.
const derivedV1 = new WeakMap<Uint8Array, DerivedDataKey>();
const states = new WeakMap<Uint8Array, KeyState>();

function stateOf(dataKey: Uint8Array): KeyState {
  let state = states.get(dataKey);
  if (state?.wiped) {
    throw new KeyringError(
      'invalid-key-material',
      'A data key was used after its cache wiped it; this is a bug in the caller (keys must be used right after they are obtained)',
    );
  }
  if (!state) {
    if (dataKey.length !== DATA_KEY_LENGTH) {
      throw new KeyringError(
        'invalid-key-material',
        `A data key must be ${DATA_KEY_LENGTH} bytes, got ${dataKey.length}`,
      );
    }
    if (isAllZero(dataKey)) throw new KeyringError('invalid-key-material', 'Refusing an all-zero data key');
    state = { wiped: false };
    states.set(dataKey, state);
  }
  return state;
}

/**
 * HKDF-Expand of the encryption key and the commitment (one block each) from a PRK prepared
 * once for both (its HMAC inner and outer states); the caller wipes `prk`.
 */
function derived(version: FormatVersion, prk: HmacKey, state: KeyState): DerivedDataKey {
  const labels = LABELS[version];
  return Object.freeze({
    version,
    encryptionKey: hmacFinish(prk, labels.encryption),
    commitment: hmacFinish(prk, labels.commitment).subarray(0, COMMITMENT_LENGTHS[version]),
    assertUsable() {
      if (state.wiped)
        throw new KeyringError(
          'invalid-key-material',
          'A key derived from a data key was used after the data key was wiped (evicted from its cache); derive keys right before use',
        );
    },
  });
}

/** Derives (or recalls) the v1 encryption key and commitment of a 32-byte data key. */
export function deriveDataKey(dataKey: Uint8Array): DerivedDataKey {
  const known = derivedV1.get(dataKey);
  if (known) {
    known.assertUsable();
    return known;
  }
  const state = stateOf(dataKey);
  const prk = hmacKey(dataKey);
  const result = derived(1, prk, state);
  wipeHmacKey(prk);
  derivedV1.set(dataKey, result);
  return result;
}

// Scratch of deriveRowKey (synchronous, so one of each serves every call): HKDF-Extract's output
// (the PRK's bytes), zero-filled as soon as the PRK is prepared, and the prepared salt and PRK.
const extracted = Buffer.alloc(32);
const saltKey = new Int32Array(16);
const prkKey = new Int32Array(16);

/**
 * Derives the v2 key of one row: `PRK = HMAC-SHA-256(salt, dataKey)` (HKDF-Extract), then the
 * encryption key and a 256-bit commitment by HKDF-Expand with v2 labels.
 */
export function deriveRowKey(dataKey: Uint8Array, salt: Uint8Array): DerivedDataKey {
  const state = stateOf(dataKey);
  if (salt.length !== ROW_SALT_LENGTH)
    throw new KeyringError(
      'invalid-key-material',
      `A row salt must be ${ROW_SALT_LENGTH} bytes, got ${salt.length}`,
    );
  // The salt is public (stored with the row); the PRK and its prepared state are wiped.
  hmacFinish(hmacKey(salt, saltKey), dataKey, extracted);
  const prk = hmacKey(extracted, prkKey);
  extracted.fill(0);
  const key = derived(2, prk, state);
  wipeHmacKey(prk);
  return key;
}

// Row keys of existing rows, recalled while their data key lives: a read, then an update, of one
// row derive its key once instead of three HMACs per call. Keyed weakly by the data key object (a
// cached key's entries live as long as the cache keeps it; an uncached key's vanish with it) and
// by the salt's bytes; bounded per data key (dropped all at once when full); zero-filled when the
// data key is wiped, and `assertUsable` still refuses them.
const MAX_REMEMBERED_ROWS = 512;
const rowKeys = new WeakMap<Uint8Array, Map<string, DerivedDataKey>>();

/**
 * {@link deriveRowKey} for a row that already exists (a read or an update), remembering the
 * result for the next call on the same row with the same data key object.
 */
export function rememberedRowKey(dataKey: Uint8Array, salt: Uint8Array): DerivedDataKey {
  const id = asBuffer(salt).toString('latin1');
  const known = rowKeys.get(dataKey)?.get(id);
  if (known) {
    known.assertUsable();
    return known;
  }
  const key = deriveRowKey(dataKey, salt);
  let byRow = rowKeys.get(dataKey);
  if (!byRow) {
    byRow = new Map();
    rowKeys.set(dataKey, byRow);
  } else if (byRow.size >= MAX_REMEMBERED_ROWS) byRow.clear();
  byRow.set(id, key);
  return key;
}

/**
 * Zero-fills a plaintext data key and what was derived from it, and refuses any later use of
 * it or of keys derived from it. Best effort: JavaScript may have copied the bytes (e.g. inside
 * OpenSSL contexts or strings), which no library can reach.
 */
export function wipeDataKey(dataKey: Uint8Array): void {
  const known = derivedV1.get(dataKey);
  if (known) {
    known.encryptionKey.fill(0);
    derivedV1.delete(dataKey);
  }
  const rows = rowKeys.get(dataKey);
  if (rows) {
    for (const key of rows.values()) key.encryptionKey.fill(0);
    rowKeys.delete(dataKey);
  }
  const state = states.get(dataKey);
  if (state) state.wiped = true;
  else states.set(dataKey, { wiped: true });
  dataKey.fill(0);
}

/** Compares a stored commitment with the expected one in constant time. */
export function commitmentMatches(expected: Buffer, stored: Uint8Array): boolean {
  return stored.length === expected.length && timingSafeEqual(expected, stored);
}
