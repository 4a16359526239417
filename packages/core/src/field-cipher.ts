import { createCipheriv, createDecipheriv } from 'node:crypto';
import { buildAad, type ValuePlace } from './aad.js';
import { asBuffer } from './bytes.js';
import { DecryptionError, EncryptionError, type ErrorLocation } from './errors.js';
import { nextIv } from './iv-source.js';
import { commitmentMatches, type DerivedDataKey } from './key-derivation.js';
import {
  FLAG_BINARY,
  FLAG_ROW_BOUND,
  FLAG_SCOPED,
  type FormatVersion,
  isEncryptedValue,
  parseValue,
  serializeValue,
} from './value-format.js';

/** A value fieldseal can encrypt. */
export type PlaintextValue = string | Uint8Array;

/** How a value is encrypted. */
export interface EncryptValueOptions {
  /**
   * `text` (`fs2:` + base64url, for text columns) or `binary` (`fs2:` + raw bytes, for
   * binary columns). Defaults to `text` for strings and `binary` for bytes.
   */
  readonly output?: 'text' | 'binary';
  /** Fixed IV, for test vectors only. Never set it in applications: an IV must not repeat. */
  readonly iv?: Uint8Array;
}

/** `String.prototype.isWellFormed` (Node 20+, ES2024 lib). */
type WellFormedCheck = string & { isWellFormed(): boolean };

/**
 * Throws `EncryptionError` unless `value` is a well-formed string or a `Uint8Array` that is not
 * already fieldseal ciphertext (never encrypt twice).
 */
export function assertEncryptable(value: unknown, location: ErrorLocation): asserts value is PlaintextValue {
  if (typeof value !== 'string' && !(value instanceof Uint8Array)) {
    throw new EncryptionError(
      'unsupported-type',
      `Only strings and Uint8Array can be encrypted, got ${typeof value}`,
      {
        location,
      },
    );
  }
  // UTF-8 cannot carry a lone surrogate: it would be stored as U+FFFD and read back changed.
  if (typeof value === 'string' && !(value as WellFormedCheck).isWellFormed()) {
    throw new EncryptionError(
      'unsupported-type',
      'String contains a lone UTF-16 surrogate, which UTF-8 cannot store; it would read back changed',
      { location },
    );
  }
  if (isEncryptedValue(value)) {
    throw new EncryptionError(
      'already-encrypted',
      'Value is already fieldseal ciphertext; refusing to encrypt it twice',
      {
        location,
      },
    );
  }
}

/**
 * Encrypts one value for its place with AES-256-GCM under the derived data key.
 * Refuses a string that already looks like fieldseal ciphertext (never encrypts twice).
 */
export function encryptValue(
  key: DerivedDataKey,
  place: ValuePlace,
  value: PlaintextValue,
  options: EncryptValueOptions = {},
): string | Uint8Array {
  assertEncryptable(value, place);
  key.assertUsable();
  const binary = typeof value !== 'string';
  if (place.tenant !== undefined && key.version === 1)
    throw new EncryptionError('unsupported-type', 'Only format v2 values can be scoped to a tenant', {
      location: place,
    });
  const flags =
    (binary ? FLAG_BINARY : 0) |
    (place.rowId === undefined ? 0 : FLAG_ROW_BOUND) |
    (place.tenant === undefined ? 0 : FLAG_SCOPED);
  const iv = options.iv ? asBuffer(options.iv) : nextIv();
  const cipher = createCipheriv('aes-256-gcm', key.encryptionKey, iv);
  cipher.setAAD(buildAad(place, flags, key.version));
  const input = binary ? asBuffer(value) : Buffer.from(value, 'utf8');
  const head = cipher.update(input);
  const tail = cipher.final();
  const ciphertext = tail.length === 0 ? head : Buffer.concat([head, tail]);
  return serializeValue(
    { version: key.version, flags, commitment: key.commitment, iv, ciphertext, tag: cipher.getAuthTag() },
    options.output ?? (binary ? 'binary' : 'text'),
  );
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decrypts one stored value with the key derived for its version (see {@link decryptValueWith}
 * to pick the key from the parsed version). Throws `DecryptionError` — never returns wrong plaintext — when
 * the value is malformed, of an unknown version, made with another data key
 * (`wrong-data-key`), or altered or moved from another place (`authentication-failed`).
 */
export function decryptValue(
  key: DerivedDataKey,
  place: ValuePlace,
  stored: string | Uint8Array,
): PlaintextValue {
  return decryptValueWith(() => key, place, stored);
}

/**
 * Decrypts one stored value, asking `keyFor` for the key of the value's format version (v1
 * values open with the data key's v1 derivation, v2 values with the row's salted derivation).
 * `keyFor` returns `undefined` when the row cannot hold a value of that version (a v2 value in
 * a row whose data-key column has no salt): that is a misplaced value, `wrong-data-key`.
 */
export function decryptValueWith(
  keyFor: (version: FormatVersion) => DerivedDataKey | undefined,
  place: ValuePlace,
  stored: string | Uint8Array,
): PlaintextValue {
  const parsed = parseValue(stored, place);
  const key = keyFor(parsed.version);
  if (
    key === undefined ||
    key.version !== parsed.version ||
    !commitmentMatches(key.commitment, parsed.commitment)
  ) {
    throw new DecryptionError(
      'wrong-data-key',
      'Value was not encrypted for this row: it was made with another data key or for another row (was the value or the data key copied from another row?)',
      { location: place },
    );
  }
  key.assertUsable();
  if ((parsed.flags & FLAG_ROW_BOUND) !== 0 && place.rowId === undefined) {
    throw new DecryptionError(
      'authentication-failed',
      'Value is bound to its row id, but no row id was given to decrypt it',
      { location: place },
    );
  }
  const scoped = (parsed.flags & FLAG_SCOPED) !== 0;
  // Both ways: a scoped value needs its tenant, and a tenant's row accepts only values scoped to it
  // (an unscoped value planted there would otherwise open under a key that is not the tenant's).
  if (scoped !== (place.tenant !== undefined)) {
    throw new DecryptionError(
      'authentication-failed',
      scoped
        ? 'Value is scoped to a tenant, but no tenant was given to decrypt it'
        : 'Value is not scoped to a tenant, but it was read in a tenant-scoped row',
      { location: place },
    );
  }
  const boundPlace: ValuePlace = {
    table: place.table,
    column: place.column,
    ...((parsed.flags & FLAG_ROW_BOUND) !== 0 ? { rowId: place.rowId as string | number | bigint } : {}),
    ...(scoped ? { tenant: place.tenant as string } : {}),
  };
  const decipher = createDecipheriv('aes-256-gcm', key.encryptionKey, parsed.iv);
  decipher.setAAD(buildAad(boundPlace, parsed.flags, parsed.version));
  decipher.setAuthTag(parsed.tag);
  let plaintext: Buffer;
  try {
    const head = decipher.update(parsed.ciphertext);
    const tail = decipher.final();
    plaintext = tail.length === 0 ? head : Buffer.concat([head, tail]);
  } catch (cause) {
    throw new DecryptionError(
      'authentication-failed',
      'Value failed authentication: it was altered, truncated, or moved here from another table, column or row',
      { location: place, cause },
    );
  }
  if ((parsed.flags & FLAG_BINARY) !== 0) return new Uint8Array(plaintext);
  return utf8.decode(plaintext);
}
