/** Byte helpers shared by the value format and the keyrings. Strict where Node is lenient. */

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const BASE64URL = /^[A-Za-z0-9_-]*$/;
const BASE64URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Encodes bytes as unpadded base64url. */
export function toBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

/**
 * Decodes unpadded base64url, or returns `undefined` when the text is not exactly that.
 * (Node's own decoder silently skips invalid characters, which would hide tampering.)
 */
export function fromBase64Url(text: string): Buffer | undefined {
  const rest = text.length % 4;
  if (rest === 1 || !BASE64URL.test(text)) return undefined;
  // Canonical only: the unused low bits of a final partial group must be zero, or several texts
  // would decode to the same bytes (an altered stored value would go unnoticed).
  if (
    rest !== 0 &&
    (BASE64URL_ALPHABET.indexOf(text[text.length - 1] as string) & (rest === 2 ? 0b1111 : 0b11)) !== 0
  ) {
    return undefined;
  }
  return Buffer.from(text, 'base64url');
}

/** Decodes standard base64 (padding optional), or returns `undefined` when malformed. */
export function fromBase64(text: string): Buffer | undefined {
  const trimmed = text.trim();
  if (!BASE64.test(trimmed) || trimmed.replace(/=+$/, '').length % 4 === 1) return undefined;
  return Buffer.from(trimmed, 'base64');
}

/** A `Buffer` view of `bytes` without copying. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** True when every byte is zero (a wiped or never-filled key). */
export function isAllZero(bytes: Uint8Array): boolean {
  let acc = 0;
  for (let i = 0; i < bytes.length; i++) acc |= bytes[i] as number;
  return acc === 0;
}
