import { fromBase64Url, toBase64Url } from './bytes.js';
import { DecryptionError, type ErrorLocation } from './errors.js';
import { IV_LENGTH } from './iv-source.js';

/** The format version this library writes (v1 values stay readable). */
export const FORMAT_VERSION = 2;
/** Format versions this library reads. */
export type FormatVersion = 1 | 2;
/** Prefix of every value written today (v2), in both text and binary forms. */
export const VALUE_PREFIX = 'fs2:';
/** Prefix of a v1 value. */
export const VALUE_PREFIX_V1 = 'fs1:';
/** Bytes of the AES-GCM authentication tag. */
export const TAG_LENGTH = 16;

/** Flag bit: the plaintext is bytes (else UTF-8 text). */
export const FLAG_BINARY = 0b001;
/** Flag bit: the row id is part of the authenticated data. */
export const FLAG_ROW_BOUND = 0b010;
/**
 * Flag bit (v2 only): the value is scoped to a tenant, whose id is part of the authenticated data
 * (see docs/tenants.md). A v1 value never has it.
 */
export const FLAG_SCOPED = 0b100;
/** Flag bits a reader accepts, by version: v1 knows binary and row-bound; v2 adds scoped. */
const KNOWN_FLAGS: Readonly<Record<FormatVersion, number>> = Object.freeze({
  1: FLAG_BINARY | FLAG_ROW_BOUND,
  2: FLAG_BINARY | FLAG_ROW_BOUND | FLAG_SCOPED,
});

/** Bytes of the key commitment stored in each value, by version: 128 bits in v1, 256 bits in v2. */
export const COMMITMENT_LENGTHS: Readonly<Record<FormatVersion, number>> = Object.freeze({ 1: 16, 2: 32 });

const headerLength = (version: FormatVersion) => 1 + COMMITMENT_LENGTHS[version] + IV_LENGTH;
/** Smallest body of a value of each version: header and tag around an empty ciphertext. */
export const MIN_BODY_LENGTHS: Readonly<Record<FormatVersion, number>> = Object.freeze({
  1: headerLength(1) + TAG_LENGTH,
  2: headerLength(2) + TAG_LENGTH,
});
/** Smallest body of a value written today. */
export const MIN_BODY_LENGTH = MIN_BODY_LENGTHS[2];

const PREFIXES: Readonly<Record<FormatVersion, Buffer>> = {
  1: Buffer.from(VALUE_PREFIX_V1, 'latin1'),
  2: Buffer.from(VALUE_PREFIX, 'latin1'),
};
// Any `fs<digits>:` prefix is ours: a reader must never mistake a future version for plaintext.
const ANY_VERSION = /^fs(\d{1,3}):/;
// The text form of any version: its prefix followed only by base64url (so "fs2: a note" is plaintext).
const CIPHERTEXT_TEXT = /^fs\d{1,3}:[A-Za-z0-9_-]*$/;

/** The parts of a stored value. All are views into one buffer. */
export interface ParsedValue {
  readonly version: FormatVersion;
  readonly flags: number;
  readonly commitment: Buffer;
  readonly iv: Buffer;
  readonly ciphertext: Buffer;
  readonly tag: Buffer;
}

function knownVersion(head: string): FormatVersion | undefined {
  if (head.startsWith(VALUE_PREFIX)) return 2;
  if (head.startsWith(VALUE_PREFIX_V1)) return 1;
  return undefined;
}

/**
 * True when a stored value has the shape of fieldseal ciphertext of any version: text
 * `fs<1–3 digits>:` followed only by base64url characters, or bytes starting with such a prefix.
 * False for anything else (legacy plaintext), so text such as "fs2: fasting sugar" is plaintext
 * and can be encrypted, while a truncated or damaged ciphertext is still recognised as one (and
 * fails to decrypt) instead of being returned as plaintext by a tolerant read. A future version's
 * values are never mistaken for plaintext. Decides tolerant reads and prevents double encryption.
 */
export function isEncryptedValue(stored: unknown): boolean {
  if (typeof stored === 'string') return CIPHERTEXT_TEXT.test(stored);
  if (stored instanceof Uint8Array)
    return ANY_VERSION.test(Buffer.from(stored.subarray(0, 8)).toString('latin1'));
  return false;
}

/** Assembles the body `flags | commitment | iv | ciphertext | tag` into the stored form. */
export function serializeValue(parts: ParsedValue, output: 'text' | 'binary'): string | Uint8Array {
  const prefixBytes = PREFIXES[parts.version];
  const prefix = output === 'binary' ? prefixBytes.length : 0;
  const head = headerLength(parts.version);
  const body = Buffer.allocUnsafe(prefix + head + parts.ciphertext.length + TAG_LENGTH);
  if (prefix) prefixBytes.copy(body, 0);
  let at = prefix;
  body[at++] = parts.flags;
  at += parts.commitment.copy(body, at);
  at += parts.iv.copy(body, at);
  at += parts.ciphertext.copy(body, at);
  parts.tag.copy(body, at);
  return output === 'binary' ? body : prefixBytes.toString('latin1') + toBase64Url(body);
}

function malformed(why: string, location?: ErrorLocation): DecryptionError {
  return new DecryptionError('malformed-value', `Stored value is not valid fieldseal ciphertext: ${why}`, {
    location,
  });
}

/**
 * Parses a stored value of version 1 or 2. Throws `DecryptionError` (`malformed-value` or
 * `unsupported-version`) for anything else; never returns partial data.
 */
export function parseValue(stored: string | Uint8Array, location?: ErrorLocation): ParsedValue {
  let body: Buffer | undefined;
  let version: FormatVersion;
  if (typeof stored === 'string') {
    version = checkVersion(stored.slice(0, 8), location);
    body = fromBase64Url(stored.slice(4));
    if (!body) throw malformed('the part after the prefix is not unpadded base64url', location);
  } else if (stored instanceof Uint8Array) {
    version = checkVersion(Buffer.from(stored.subarray(0, 8)).toString('latin1'), location);
    body = Buffer.from(stored.buffer, stored.byteOffset + 4, stored.byteLength - 4);
  } else {
    throw malformed(`expected a string or bytes, got ${stored === null ? 'null' : typeof stored}`, location);
  }
  const min = MIN_BODY_LENGTHS[version];
  if (body.length < min) {
    throw malformed(`too short (${body.length} bytes, at least ${min}); was it truncated?`, location);
  }
  const flags = body[0] as number;
  if ((flags & ~KNOWN_FLAGS[version]) !== 0)
    throw malformed(`unknown flag bits 0x${flags.toString(16)}`, location);
  const commitmentEnd = 1 + COMMITMENT_LENGTHS[version];
  const tagStart = body.length - TAG_LENGTH;
  return {
    version,
    flags,
    commitment: body.subarray(1, commitmentEnd),
    iv: body.subarray(commitmentEnd, commitmentEnd + IV_LENGTH),
    ciphertext: body.subarray(commitmentEnd + IV_LENGTH, tagStart),
    tag: body.subarray(tagStart),
  };
}

/** The format version of a stored value (1 or 2), or `undefined` when it is not a readable value. */
export function valueVersion(stored: unknown): FormatVersion | undefined {
  if (!isEncryptedValue(stored)) return undefined;
  const head =
    typeof stored === 'string'
      ? stored
      : Buffer.from((stored as Uint8Array).subarray(0, 8)).toString('latin1');
  return knownVersion(head);
}

function checkVersion(head: string, location?: ErrorLocation): FormatVersion {
  const version = knownVersion(head);
  if (version !== undefined) return version;
  const match = ANY_VERSION.exec(head);
  if (match) {
    throw new DecryptionError(
      'unsupported-version',
      `Stored value uses format version ${match[1]}, which this version of fieldseal cannot read (it reads versions 1 and ${FORMAT_VERSION}); upgrade fieldseal`,
      { location },
    );
  }
  throw malformed(`missing the "${VALUE_PREFIX}" prefix`, location);
}
