import { fromBase64Url, toBase64Url } from './bytes.js';
import { DecryptionError, type ErrorLocation } from './errors.js';
import { IV_LENGTH } from './iv-source.js';
import { COMMITMENT_LENGTH } from './key-derivation.js';

/** The format version this library writes. */
export const FORMAT_VERSION = 1;
/** Prefix of every v1 value, in both text and binary forms. */
export const VALUE_PREFIX = 'fs1:';
/** Bytes of the AES-GCM authentication tag. */
export const TAG_LENGTH = 16;

/** Flag bit: the plaintext is bytes (else UTF-8 text). */
export const FLAG_BINARY = 0b01;
/** Flag bit: the row id is part of the authenticated data. */
export const FLAG_ROW_BOUND = 0b10;
const KNOWN_FLAGS = FLAG_BINARY | FLAG_ROW_BOUND;

const HEADER_LENGTH = 1 + COMMITMENT_LENGTH + IV_LENGTH;
/** Smallest body: header and tag around an empty ciphertext. */
export const MIN_BODY_LENGTH = HEADER_LENGTH + TAG_LENGTH;
const PREFIX_BYTES = Buffer.from(VALUE_PREFIX, 'latin1');
// Any `fs<digits>:` prefix is ours: a reader must never mistake a future version for plaintext.
const ANY_VERSION = /^fs(\d{1,3}):/;

/** The parts of a stored value. All are views into one buffer. */
export interface ParsedValue {
  readonly flags: number;
  readonly commitment: Buffer;
  readonly iv: Buffer;
  readonly ciphertext: Buffer;
  readonly tag: Buffer;
}

/**
 * True when a stored value is fieldseal ciphertext of any version (text or binary form),
 * false for anything else (legacy plaintext). Decides tolerant reads and prevents double
 * encryption, so a plaintext that itself starts with `fs1:` is refused rather than guessed.
 */
export function isEncryptedValue(stored: unknown): boolean {
  if (typeof stored === 'string') return ANY_VERSION.test(stored);
  if (stored instanceof Uint8Array)
    return ANY_VERSION.test(Buffer.from(stored.subarray(0, 8)).toString('latin1'));
  return false;
}

/** Assembles the body `flags | commitment | iv | ciphertext | tag` into the stored form. */
export function serializeValue(
  parts: Omit<ParsedValue, 'ciphertext'> & { readonly ciphertext: Buffer },
  output: 'text' | 'binary',
): string | Uint8Array {
  const prefix = output === 'binary' ? PREFIX_BYTES.length : 0;
  const body = Buffer.allocUnsafe(prefix + HEADER_LENGTH + parts.ciphertext.length + TAG_LENGTH);
  if (prefix) PREFIX_BYTES.copy(body, 0);
  let at = prefix;
  body[at++] = parts.flags;
  at += parts.commitment.copy(body, at);
  at += parts.iv.copy(body, at);
  at += parts.ciphertext.copy(body, at);
  parts.tag.copy(body, at);
  return output === 'binary' ? body : VALUE_PREFIX + toBase64Url(body);
}

function malformed(why: string, location?: ErrorLocation): DecryptionError {
  return new DecryptionError('malformed-value', `Stored value is not valid fieldseal ciphertext: ${why}`, {
    location,
  });
}

/**
 * Parses a stored value. Throws `DecryptionError` (`malformed-value` or `unsupported-version`)
 * for anything that is not a well-formed v1 value; never returns partial data.
 */
export function parseValue(stored: string | Uint8Array, location?: ErrorLocation): ParsedValue {
  let body: Buffer | undefined;
  if (typeof stored === 'string') {
    checkVersion(stored.slice(0, 8), location);
    body = fromBase64Url(stored.slice(VALUE_PREFIX.length));
    if (!body) throw malformed('the part after the prefix is not unpadded base64url', location);
  } else if (stored instanceof Uint8Array) {
    checkVersion(Buffer.from(stored.subarray(0, 8)).toString('latin1'), location);
    body = Buffer.from(
      stored.buffer,
      stored.byteOffset + PREFIX_BYTES.length,
      stored.byteLength - PREFIX_BYTES.length,
    );
  } else {
    throw malformed(`expected a string or bytes, got ${stored === null ? 'null' : typeof stored}`, location);
  }
  if (body.length < MIN_BODY_LENGTH) {
    throw malformed(
      `too short (${body.length} bytes, at least ${MIN_BODY_LENGTH}); was it truncated?`,
      location,
    );
  }
  const flags = body[0] as number;
  if ((flags & ~KNOWN_FLAGS) !== 0) throw malformed(`unknown flag bits 0x${flags.toString(16)}`, location);
  const tagStart = body.length - TAG_LENGTH;
  return {
    flags,
    commitment: body.subarray(1, 1 + COMMITMENT_LENGTH),
    iv: body.subarray(1 + COMMITMENT_LENGTH, HEADER_LENGTH),
    ciphertext: body.subarray(HEADER_LENGTH, tagStart),
    tag: body.subarray(tagStart),
  };
}

function checkVersion(head: string, location?: ErrorLocation): void {
  if (head.startsWith(VALUE_PREFIX)) return;
  const match = ANY_VERSION.exec(head);
  if (match) {
    throw new DecryptionError(
      'unsupported-version',
      `Stored value uses format version ${match[1]}, which this version of fieldseal cannot read (it reads version ${FORMAT_VERSION}); upgrade fieldseal`,
      { location },
    );
  }
  throw malformed(`missing the "${VALUE_PREFIX}" prefix`, location);
}
