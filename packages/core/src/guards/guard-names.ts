import { createHash } from 'node:crypto';

/** Every guard's name starts with this, so tools and error mapping recognise them. */
export const GUARD_PREFIX = 'fieldseal_guard_';

/**
 * Longest guard name, in bytes: PostgreSQL truncates identifiers at 63 bytes (MariaDB allows
 * 64 characters). One limit for every dialect keeps a table's guard names the same everywhere.
 */
export const GUARD_NAME_LIMIT = 63;

const HASH_CHARS = 8;

/**
 * The guard name `fieldseal_guard_<table>_<suffix>`. A name longer than
 * {@link GUARD_NAME_LIMIT} bytes keeps its first bytes and ends in `_` + 8 hex characters of
 * the SHA-256 of the full name, so it is predictable and two long names do not collide.
 */
export function guardName(table: string, suffix: string): string {
  const full = `${GUARD_PREFIX}${table}_${suffix}`;
  if (Buffer.byteLength(full, 'utf8') <= GUARD_NAME_LIMIT) return full;
  return `${cutToBytes(full, GUARD_NAME_LIMIT - HASH_CHARS - 1)}_${hashOf(full)}`;
}

/** A distinct name for a second guard that would otherwise share `name` (always hashed). */
export function disambiguatedGuardName(table: string, suffix: string, kind: string): string {
  const full = `${GUARD_PREFIX}${table}_${suffix}`;
  return `${cutToBytes(full, GUARD_NAME_LIMIT - HASH_CHARS - 1)}_${hashOf(`${full}\u0000${kind}`)}`;
}

function hashOf(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, HASH_CHARS);
}

/** The longest prefix of `text` of at most `bytes` UTF-8 bytes, never splitting a character. */
function cutToBytes(text: string, bytes: number): string {
  let out = '';
  let used = 0;
  for (const char of text) {
    const size = Buffer.byteLength(char, 'utf8');
    if (used + size > bytes) break;
    out += char;
    used += size;
  }
  return out;
}
