import { randomFillSync } from 'node:crypto';
import { fromBase64Url, toBase64Url } from './bytes.js';
import { DecryptionError, type ErrorLocation } from './errors.js';
import { ROW_SALT_LENGTH } from './key-derivation.js';

/** Prefix of a v1 data-key column (and of a wrapped blind-index key): no row salt. */
export const DATA_KEY_PREFIX = 'fsk1:';
/** Prefix of a v2 data-key column: `fsk2:<salt>.<wrapped key>`. */
export const DATA_KEY_PREFIX_V2 = 'fsk2:';
/** Characters of a v2 row salt in the data-key column (base64url of 16 bytes). */
const SALT_CHARS = 22;
/**
 * Characters of a v2 column's key identity `fsk2:<salt>.`: the part rotation never changes, so
 * writers guard on it (`substr(column, 1, 28) = identity`).
 */
export const KEY_IDENTITY_LENGTH = DATA_KEY_PREFIX_V2.length + SALT_CHARS + 1;

/** A wrapped data key: the master key id (readable without unwrapping) and the wrapped bytes. */
export interface WrappedDataKey {
  readonly keyId: string;
  readonly encryptedKey: Uint8Array;
}

/** What a row's data-key column holds, parsed. */
export interface StoredDataKey extends WrappedDataKey {
  /** 1: `fsk1:` (no salt: values are v1 or the row is upgraded on its next write); 2: `fsk2:`. */
  readonly version: 1 | 2;
  /** The row's 16-byte salt (v2 only). */
  readonly salt: Buffer | undefined;
  /**
   * What identifies the row's key across rotations: `fsk2:<salt>.` for v2; the whole column
   * text for v1 (rotation changes it, so a v1 guard can miss during a rotation and is retried).
   */
  readonly identity: string;
}

// The same wrapped key serves many rows while it is cached; encode it once per (key id, bytes).
const formatted = new WeakMap<Uint8Array, Map<string, string>>();

/** base64url(`len16(keyId) keyId | encryptedKey`), memoised per wrapped key and key id. */
function wrappedText(dataKey: WrappedDataKey): string {
  let byId = formatted.get(dataKey.encryptedKey);
  const known = byId?.get(dataKey.keyId);
  if (known !== undefined) return known;
  const id = Buffer.from(dataKey.keyId, 'utf8');
  const body = Buffer.allocUnsafe(2 + id.length + dataKey.encryptedKey.length);
  body.writeUInt16BE(id.length, 0);
  id.copy(body, 2);
  body.set(dataKey.encryptedKey, 2 + id.length);
  const text = toBase64Url(body);
  if (!byId) {
    byId = new Map();
    formatted.set(dataKey.encryptedKey, byId);
  }
  byId.set(dataKey.keyId, text);
  return text;
}

/** Encodes a v1 wrapped key: `fsk1:` + base64url(...). Used for blind-index keys. */
export function formatDataKey(dataKey: WrappedDataKey): string {
  return DATA_KEY_PREFIX + wrappedText(dataKey);
}

/** Encodes a v2 data-key column: `fsk2:` + base64url(salt) + `.` + base64url(...). */
export function formatRowDataKey(dataKey: WrappedDataKey, salt: Uint8Array): string {
  return `${DATA_KEY_PREFIX_V2}${toBase64Url(salt)}.${wrappedText(dataKey)}`;
}

/** The v2 column text of a row whose key was re-wrapped: same salt (same identity), new wrapping. */
export function rewrapRowDataKey(stored: StoredDataKey, rewrapped: WrappedDataKey): string {
  if (stored.version === 1 || stored.salt === undefined) return formatDataKey(rewrapped);
  return formatRowDataKey(rewrapped, stored.salt);
}

// One CSPRNG call per 256 salts (see iv-source.ts); each salt is handed out once.
let saltPool = Buffer.alloc(0);
let saltOffset = 0;

/** A fresh random 16-byte row salt. */
export function newRowSalt(): Buffer {
  if (saltOffset + ROW_SALT_LENGTH > saltPool.length) {
    saltPool = randomFillSync(Buffer.allocUnsafe(ROW_SALT_LENGTH * 256));
    saltOffset = 0;
  }
  const salt = saltPool.subarray(saltOffset, saltOffset + ROW_SALT_LENGTH);
  saltOffset += ROW_SALT_LENGTH;
  return salt;
}

/** The part of a data-key column after its salt: equal for every row wrapped together. */
export function wrappedPartOf(text: string): string {
  return text.startsWith(DATA_KEY_PREFIX_V2)
    ? text.slice(KEY_IDENTITY_LENGTH)
    : text.slice(DATA_KEY_PREFIX.length);
}

function failure(why: string, location?: ErrorLocation): DecryptionError {
  return new DecryptionError(
    'malformed-data-key',
    `Data-key column does not hold a valid fieldseal data key: ${why}`,
    {
      location,
    },
  );
}

/** Decodes base64url(`len16(keyId) keyId | encryptedKey`). */
export function parseWrapped(text: string, location?: ErrorLocation): WrappedDataKey {
  const body = fromBase64Url(text);
  if (!body || body.length < 3) throw failure('not unpadded base64url, or too short', location);
  const idLength = body.readUInt16BE(0);
  if (body.length <= 2 + idLength) throw failure('truncated', location);
  return {
    keyId: body.subarray(2, 2 + idLength).toString('utf8'),
    encryptedKey: body.subarray(2 + idLength),
  };
}

/** Splits a data-key column into its version, salt and wrapped-part text, without decoding the wrapped part. */
export function splitDataKey(
  text: unknown,
  location?: ErrorLocation,
): { version: 1 | 2; salt: Buffer | undefined; identity: string; wrapped: string } {
  if (typeof text !== 'string')
    throw failure(`expected a string, got ${text === null ? 'null' : typeof text}`, location);
  if (text.startsWith(DATA_KEY_PREFIX)) {
    return { version: 1, salt: undefined, identity: text, wrapped: text.slice(DATA_KEY_PREFIX.length) };
  }
  if (!text.startsWith(DATA_KEY_PREFIX_V2))
    throw failure(`missing the "${DATA_KEY_PREFIX_V2}" prefix`, location);
  const salt = fromBase64Url(text.slice(DATA_KEY_PREFIX_V2.length, KEY_IDENTITY_LENGTH - 1));
  if (!salt || salt.length !== ROW_SALT_LENGTH || text[KEY_IDENTITY_LENGTH - 1] !== '.')
    throw failure('the row salt is not 22 characters of base64url followed by "."', location);
  return {
    version: 2,
    salt,
    identity: text.slice(0, KEY_IDENTITY_LENGTH),
    wrapped: text.slice(KEY_IDENTITY_LENGTH),
  };
}

/** Parses a data-key column value (v1 or v2); throws `DecryptionError('malformed-data-key')` when it is not one. */
export function parseDataKey(text: unknown, location?: ErrorLocation): StoredDataKey {
  const parts = splitDataKey(text, location);
  return {
    version: parts.version,
    salt: parts.salt,
    identity: parts.identity,
    ...parseWrapped(parts.wrapped, location),
  };
}
