import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { canonicalContext, type EncryptionContext, KeyringError } from '@fieldseal/core';
import { deriveWrappingKey, u32, WRAP_SALT_LENGTH } from './branch-key-kdf.js';

/** First byte of a data key wrapped under a branch key. */
const FORMAT = 0x42;
const IV_LENGTH = 12;
const TAG_LENGTH = 16;
const DATA_KEY_LENGTH = 32;

/** What a wrapped data key says about the branch key that wrapped it (readable without unwrapping). */
export interface BranchRef {
  readonly scope: string;
  readonly version: number;
}

/** The key id a branch-key-wrapped data key carries: `branch:<version>:<scope>` (scope '' = global). */
export function branchKeyId(ref: BranchRef): string {
  return `branch:${ref.version}:${ref.scope}`;
}

/**
 * `0x42 | len16(scope) scope | u32(version) | salt (16) | IV (12) | AES-256-GCM(WK, DK) (32) | tag (16)`
 * with `AAD = header (everything before the IV) | canonical(context)` in UTF-8, so the scope,
 * version, salt and the row's encryption context (table, tenant) are all authenticated.
 */
export function wrapDataKey(
  branchKey: Uint8Array,
  ref: BranchRef,
  dataKey: Uint8Array,
  context: EncryptionContext,
  /** Fixed salt and IV, for test vectors only: both must be fresh random bytes in real use. */
  fixed?: { readonly salt: Uint8Array; readonly iv: Uint8Array },
): Buffer {
  const scope = Buffer.from(ref.scope, 'utf8');
  const scopeLength = Buffer.allocUnsafe(2);
  scopeLength.writeUInt16BE(scope.length, 0);
  const salt = fixed ? Buffer.from(fixed.salt) : randomBytes(WRAP_SALT_LENGTH);
  const header = Buffer.concat([Buffer.of(FORMAT), scopeLength, scope, u32(ref.version), salt]);
  const key = deriveWrappingKey(branchKey, salt, ref.scope, ref.version);
  const iv = fixed ? Buffer.from(fixed.iv) : randomBytes(IV_LENGTH);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.concat([header, Buffer.from(canonicalContext(context), 'utf8')]));
  const ciphertext = Buffer.concat([cipher.update(dataKey), cipher.final()]);
  key.fill(0);
  return Buffer.concat([header, iv, ciphertext, cipher.getAuthTag()]);
}

interface ParsedWrap extends BranchRef {
  readonly header: Buffer;
  readonly salt: Buffer;
  readonly iv: Buffer;
  readonly ciphertext: Buffer;
  readonly tag: Buffer;
}

/** Parses a branch-wrapped data key; `undefined` when the bytes are not one. */
export function parseBranchWrap(encryptedKey: Uint8Array): ParsedWrap | undefined {
  const bytes = Buffer.from(encryptedKey.buffer, encryptedKey.byteOffset, encryptedKey.byteLength);
  if (bytes.length < 3 || bytes[0] !== FORMAT) return undefined;
  const scopeLength = bytes.readUInt16BE(1);
  const saltEnd = 3 + scopeLength + 4 + WRAP_SALT_LENGTH;
  if (bytes.length !== saltEnd + IV_LENGTH + DATA_KEY_LENGTH + TAG_LENGTH) return undefined;
  return {
    scope: bytes.subarray(3, 3 + scopeLength).toString('utf8'),
    version: bytes.readUInt32BE(3 + scopeLength),
    header: bytes.subarray(0, saltEnd),
    salt: bytes.subarray(saltEnd - WRAP_SALT_LENGTH, saltEnd),
    iv: bytes.subarray(saltEnd, saltEnd + IV_LENGTH),
    ciphertext: bytes.subarray(saltEnd + IV_LENGTH, saltEnd + IV_LENGTH + DATA_KEY_LENGTH),
    tag: bytes.subarray(saltEnd + IV_LENGTH + DATA_KEY_LENGTH),
  };
}

/** Unwraps a data key parsed by {@link parseBranchWrap}; `unwrap-failed` when it was altered or the context differs. */
export function unwrapDataKey(branchKey: Uint8Array, parsed: ParsedWrap, context: EncryptionContext): Buffer {
  const key = deriveWrappingKey(branchKey, parsed.salt, parsed.scope, parsed.version);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, parsed.iv, { authTagLength: TAG_LENGTH });
    decipher.setAAD(Buffer.concat([parsed.header, Buffer.from(canonicalContext(context), 'utf8')]));
    decipher.setAuthTag(parsed.tag);
    return Buffer.concat([decipher.update(parsed.ciphertext), decipher.final()]);
  } catch (cause) {
    throw new KeyringError(
      'unwrap-failed',
      `Data key failed to unwrap under ${branchKeyId(parsed)}: it was altered, or moved from another table or tenant`,
      { keyId: branchKeyId(parsed), cause },
    );
  } finally {
    key.fill(0);
  }
}
