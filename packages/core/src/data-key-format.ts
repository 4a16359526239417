import { fromBase64Url, toBase64Url } from './bytes.js';
import { DecryptionError, type ErrorLocation } from './errors.js';

/** Prefix of the value stored in a row's data-key column (format version 1). */
export const DATA_KEY_PREFIX = 'fsk1:';

/** What a row's data-key column holds: the master key id (readable without unwrapping) and the wrapped key. */
export interface StoredDataKey {
  readonly keyId: string;
  readonly encryptedKey: Uint8Array;
}

// The same wrapped key serves many rows while it is cached; encode it once.
const formatted = new WeakMap<Uint8Array, string>();

/** Encodes `fsk1:` + base64url(`len16(keyId) keyId | encryptedKey`). */
export function formatDataKey(dataKey: StoredDataKey): string {
  const known = formatted.get(dataKey.encryptedKey);
  if (known !== undefined) return known;
  const id = Buffer.from(dataKey.keyId, 'utf8');
  const body = Buffer.allocUnsafe(2 + id.length + dataKey.encryptedKey.length);
  body.writeUInt16BE(id.length, 0);
  id.copy(body, 2);
  body.set(dataKey.encryptedKey, 2 + id.length);
  const text = DATA_KEY_PREFIX + toBase64Url(body);
  formatted.set(dataKey.encryptedKey, text);
  return text;
}

/** Parses a data-key column value; throws `DecryptionError('malformed-data-key')` when it is not one. */
export function parseDataKey(text: unknown, location?: ErrorLocation): StoredDataKey {
  const fail = (why: string) =>
    new DecryptionError(
      'malformed-data-key',
      `Data-key column does not hold a valid fieldseal data key: ${why}`,
      { location },
    );
  if (typeof text !== 'string') throw fail(`expected a string, got ${text === null ? 'null' : typeof text}`);
  if (!text.startsWith(DATA_KEY_PREFIX)) throw fail(`missing the "${DATA_KEY_PREFIX}" prefix`);
  const body = fromBase64Url(text.slice(DATA_KEY_PREFIX.length));
  if (!body || body.length < 3) throw fail('not unpadded base64url, or too short');
  const idLength = body.readUInt16BE(0);
  if (body.length <= 2 + idLength) throw fail('truncated');
  return {
    keyId: body.subarray(2, 2 + idLength).toString('utf8'),
    encryptedKey: body.subarray(2 + idLength),
  };
}
