import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { invalidCiphertext } from './kms-error.js';

/**
 * The ciphertext blob this server returns. Self-describing, like a real KMS blob, so
 * Decrypt needs no KeyId:
 *
 * | bytes | field                                   |
 * |-------|-----------------------------------------|
 * | 1     | format version (1)                      |
 * | 1     | key id length `n`                       |
 * | n     | key id (ASCII, e.g. a UUID)             |
 * | 4     | key material version (uint32, BE)       |
 * | 12    | AES-GCM IV                              |
 * | …     | AES-256-GCM ciphertext                  |
 * | 16    | AES-GCM tag                             |
 *
 * The AAD is the header (everything before the IV) followed by the canonical encryption
 * context, so a blob decrypts only under its own key, key version and context.
 */
const FORMAT_VERSION = 1;
const IV_LENGTH = 12;
const TAG_LENGTH = 16;

/** A parsed blob; nothing in it is secret except what the ciphertext hides. */
export interface ParsedBlob {
  readonly keyId: string;
  readonly materialVersion: number;
  readonly header: Buffer;
  readonly iv: Buffer;
  readonly ciphertext: Buffer;
  readonly tag: Buffer;
}

/** A string→string map, as in KMS requests. */
export type EncryptionContext = Readonly<Record<string, string>>;

/**
 * The context as unambiguous bytes: pairs sorted by key, each key and value prefixed by its
 * UTF-8 length. Two contexts give the same bytes exactly when they hold the same pairs.
 */
export function canonicalContext(context: EncryptionContext): Buffer {
  const parts: Buffer[] = [];
  for (const key of Object.keys(context).sort()) {
    for (const text of [key, context[key] as string]) {
      const bytes = Buffer.from(text, 'utf8');
      const length = Buffer.alloc(4);
      length.writeUInt32BE(bytes.length);
      parts.push(length, bytes);
    }
  }
  return Buffer.concat(parts);
}

function header(keyId: string, materialVersion: number): Buffer {
  const id = Buffer.from(keyId, 'ascii');
  const out = Buffer.alloc(2 + id.length + 4);
  out.writeUInt8(FORMAT_VERSION, 0);
  out.writeUInt8(id.length, 1);
  id.copy(out, 2);
  out.writeUInt32BE(materialVersion, 2 + id.length);
  return out;
}

/** Encrypts `plaintext` under one version of a key's material, bound to `context`. */
export function sealBlob(args: {
  readonly keyId: string;
  readonly materialVersion: number;
  readonly material: Buffer;
  readonly plaintext: Uint8Array;
  readonly context: EncryptionContext;
}): Buffer {
  const head = header(args.keyId, args.materialVersion);
  const iv = randomBytes(IV_LENGTH);
  const cipher = createCipheriv('aes-256-gcm', args.material, iv);
  cipher.setAAD(Buffer.concat([head, canonicalContext(args.context)]));
  const ciphertext = Buffer.concat([cipher.update(args.plaintext), cipher.final()]);
  return Buffer.concat([head, iv, ciphertext, cipher.getAuthTag()]);
}

/** Splits a blob into its fields; throws `InvalidCiphertextException` when it is not one. */
export function parseBlob(blob: Uint8Array): ParsedBlob {
  const buf = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  if (buf.length < 2 || buf.readUInt8(0) !== FORMAT_VERSION) throw invalidCiphertext();
  const idLength = buf.readUInt8(1);
  const ivStart = 2 + idLength + 4;
  if (idLength === 0 || buf.length < ivStart + IV_LENGTH + TAG_LENGTH) throw invalidCiphertext();
  const keyId = buf.subarray(2, 2 + idLength).toString('ascii');
  if (!/^[\w-]+$/.test(keyId)) throw invalidCiphertext();
  return {
    keyId,
    materialVersion: buf.readUInt32BE(2 + idLength),
    header: buf.subarray(0, ivStart),
    iv: buf.subarray(ivStart, ivStart + IV_LENGTH),
    ciphertext: buf.subarray(ivStart + IV_LENGTH, buf.length - TAG_LENGTH),
    tag: buf.subarray(buf.length - TAG_LENGTH),
  };
}

/** Decrypts a parsed blob; any mismatch (key, version, context, tampering) is `InvalidCiphertextException`. */
export function openBlob(parsed: ParsedBlob, material: Buffer, context: EncryptionContext): Buffer {
  try {
    const decipher = createDecipheriv('aes-256-gcm', material, parsed.iv);
    decipher.setAAD(Buffer.concat([parsed.header, canonicalContext(context)]));
    decipher.setAuthTag(parsed.tag);
    return Buffer.concat([decipher.update(parsed.ciphertext), decipher.final()]);
  } catch {
    throw invalidCiphertext();
  }
}
