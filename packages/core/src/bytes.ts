/** Byte helpers shared by the value format and the keyrings. Strict where Node is lenient. */

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Encodes bytes as unpadded base64url. */
export function toBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

/**
 * Decodes unpadded base64url, or returns `undefined` when the text is not exactly that.
 * (Node's own decoder silently skips invalid characters, which would hide tampering.)
 */
export function fromBase64Url(text: string): Buffer | undefined {
  if (text.length % 4 === 1) return undefined;
  const bytes = Buffer.from(text, 'base64url');
  // Canonical only: re-encoding must give the same text. This rejects characters outside the
  // alphabet, '+', '/', '=' and set unused bits in the last character (which decode silently).
  return bytes.toString('base64url') === text ? bytes : undefined;
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
