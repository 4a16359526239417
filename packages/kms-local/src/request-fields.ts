import type { EncryptionContext } from './ciphertext-format.js';
import { KmsError, validation } from './kms-error.js';

/** A parsed JSON request body. */
export type RequestBody = Readonly<Record<string, unknown>>;

function serialization(member: string, expected: string): KmsError {
  return new KmsError('SerializationException', `Member ${member} must be ${expected}.`);
}

function missing(member: string): KmsError {
  return validation(
    `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`,
  );
}

/** A required string member. */
export function requireString(body: RequestBody, member: string): string {
  const value = optionalString(body, member);
  if (value === undefined || value === '') throw missing(member);
  return value;
}

/** An optional string member. */
export function optionalString(body: RequestBody, member: string): string | undefined {
  const value = body[member];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw serialization(member, 'a string');
  return value;
}

/** An optional boolean member. */
export function optionalBoolean(body: RequestBody, member: string): boolean | undefined {
  const value = body[member];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw serialization(member, 'a boolean');
  return value;
}

/** An optional integer member within `[min, max]`. */
export function optionalInteger(
  body: RequestBody,
  member: string,
  min: number,
  max: number,
): number | undefined {
  const value = body[member];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw serialization(member, 'an integer');
  if (value < min || value > max) {
    throw validation(
      `Value '${value}' at '${member}' failed to satisfy constraint: Member must be between ${min} and ${max}`,
    );
  }
  return value;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** A required blob member (base64 on the wire), between `min` and `max` bytes. */
export function requireBlob(body: RequestBody, member: string, min: number, max: number): Buffer {
  const value = body[member];
  if (value === undefined || value === null) throw missing(member);
  if (typeof value !== 'string' || !BASE64.test(value)) throw serialization(member, 'base64 text');
  const bytes = Buffer.from(value, 'base64');
  if (bytes.length < min || bytes.length > max) {
    throw validation(
      `Value at '${member}' failed to satisfy constraint: Member must have length between ${min} and ${max}`,
    );
  }
  return bytes;
}

/** An optional encryption context: a flat map of strings. Absent means empty. */
export function optionalContext(body: RequestBody, member: string): EncryptionContext {
  const value = body[member];
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw serialization(member, 'a map of strings');
  for (const entry of Object.values(value)) {
    if (typeof entry !== 'string') throw serialization(member, 'a map of strings');
  }
  return value as EncryptionContext;
}

/** Rejects any encryption algorithm but `SYMMETRIC_DEFAULT`, the only one a symmetric key has. */
export function checkAlgorithm(body: RequestBody, member: string): void {
  const value = optionalString(body, member);
  if (value !== undefined && value !== 'SYMMETRIC_DEFAULT') {
    throw new KmsError(
      'InvalidKeyUsageException',
      `${value} is not a valid encryption algorithm for a symmetric key.`,
    );
  }
}

/** A page of `items` per KMS's `Limit` / `Marker` / `NextMarker` / `Truncated`. */
export function paginate<T>(
  body: RequestBody,
  items: readonly T[],
): { page: T[]; NextMarker?: string; Truncated: boolean } {
  const limit = optionalInteger(body, 'Limit', 1, 1000) ?? 100;
  const marker = optionalString(body, 'Marker');
  const start = marker === undefined ? 0 : Number(marker);
  if (!Number.isInteger(start) || start < 0 || start > items.length) {
    throw new KmsError('InvalidMarkerException', 'The marker is not valid.');
  }
  const page = items.slice(start, start + limit);
  const next = start + page.length;
  return next < items.length
    ? { page, NextMarker: String(next), Truncated: true }
    : { page, Truncated: false };
}
