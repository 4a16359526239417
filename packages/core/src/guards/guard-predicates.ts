import type { SqlDialect } from '../stored-tables.js';
import { MIN_BODY_LENGTHS } from '../value-format.js';

/*
 * The SQL predicates of the guards, per dialect: each is true for an acceptable value, false
 * otherwise, never NULL (a CHECK passes on NULL). Each is as tight as the dialect allows:
 * - text values: `fs1:`/`fs2:`, a first body character encoding flags below 8 (`A`/`B`), only
 *   base64url characters, at least the smallest body, a length base64url can have;
 * - binary values: bytes `fs1:`/`fs2:`, a flags byte below 8, at least the smallest body;
 * - data keys: `fsk1:<base64url>` or `fsk2:<22-character salt>.<base64url>`;
 * - blind indexes: lower-case hex of exactly the index length.
 * MariaDB: `BINARY` makes REGEXP case-sensitive whatever the column's collation, and
 * `(?s)…(?!.)` ends the match at the true end (PCRE's `$` also matches before a final newline).
 * SQLite: `typeof` refuses values of another storage class (a BLOB in a TEXT column), and a
 * text must have as many bytes as characters (ASCII, no NUL: GLOB and length stop at a NUL).
 */

const B64 = 'A-Za-z0-9_-';
/** Base64url characters of the smallest body of each version (v1 has a shorter commitment). */
const MIN_CHARS = {
  1: Math.ceil((MIN_BODY_LENGTHS[1] * 4) / 3),
  2: Math.ceil((MIN_BODY_LENGTHS[2] * 4) / 3),
};
// No bounded repetition ({n,}) in the regexes: PostgreSQL expands it into a large automaton
// (about 40× slower per row than `+`, measured); lengths are checked with length() instead.
const VALUE_RE = `fs[12]:[AB][${B64}]+`;
const DATA_KEY_RE = `(fsk1:[${B64}]+|fsk2:[${B64}]+[.][${B64}]+)`;
/** Position of the `.` ending the 22-character salt of a v2 data key (1-based). */
const SALT_END = 5 + 22 + 1;
const FS1 = '6673313a';
const FS2 = '6673323a';

function regex(dialect: 'postgres' | 'mysql', column: string, pattern: string): string {
  return dialect === 'postgres'
    ? `${column} ~ '^${pattern}$'`
    : `BINARY ${column} REGEXP '(?s)^${pattern}(?!.)'`;
}

/** SQLite: a text value of ASCII characters without NUL. */
function sqliteAscii(column: string): string {
  return `typeof(${column}) = 'text' AND length(CAST(${column} AS BLOB)) = length(${column})`;
}

function sqliteOnly(column: string, from: number, length?: number): string {
  const part = length === undefined ? `substr(${column}, ${from})` : `substr(${column}, ${from}, ${length})`;
  return `${part} NOT GLOB '*[^${B64}]*'`;
}

/** A well-formed text value (the column is not NULL). */
export function textValueCheck(dialect: SqlDialect, column: string): string {
  if (dialect === 'sqlite')
    return `${sqliteAscii(column)} AND length(${column}) % 4 <> 1 AND ((${column} GLOB 'fs1:[AB]*' AND length(${column}) >= ${4 + MIN_CHARS[1]}) OR (${column} GLOB 'fs2:[AB]*' AND length(${column}) >= ${4 + MIN_CHARS[2]})) AND ${sqliteOnly(column, 6)}`;
  // Bytes, not characters: the regex admits ASCII only, and octet_length needs no UTF-8 decoding.
  const length = dialect === 'postgres' ? `octet_length(${column})` : `length(${column})`;
  return `${regex(dialect, column, VALUE_RE)} AND ${length} % 4 <> 1 AND ${length} >= CASE WHEN left(${column}, 4) = 'fs1:' THEN ${4 + MIN_CHARS[1]} ELSE ${4 + MIN_CHARS[2]} END`;
}

/** A well-formed binary value (the column is not NULL): per version, its prefix, a flags byte below 8, the smallest body. */
export function binaryValueCheck(dialect: SqlDialect, column: string): string {
  const versions = [
    [FS1, 4 + MIN_BODY_LENGTHS[1]],
    [FS2, 4 + MIN_BODY_LENGTHS[2]],
  ] as const;
  if (dialect === 'postgres')
    // CASE: PostgreSQL does not promise to evaluate AND left to right, and get_byte fails past the end.
    return `CASE ${versions.map(([prefix, min]) => `WHEN substr(${column}, 1, 4) = decode('${prefix}', 'hex') THEN octet_length(${column}) >= ${min} AND get_byte(${column}, 4) < 8`).join(' ')} ELSE false END`;
  if (dialect === 'mysql')
    return `ASCII(SUBSTRING(${column}, 5, 1)) < 8 AND (${versions.map(([prefix, min]) => `(LEFT(${column}, 4) = X'${prefix}' AND LENGTH(${column}) >= ${min})`).join(' OR ')})`;
  return `typeof(${column}) = 'blob' AND substr(${column}, 5, 1) < X'08' AND (${versions.map(([prefix, min]) => `(substr(${column}, 1, 4) = X'${prefix}' AND length(${column}) >= ${min})`).join(' OR ')})`;
}

/** A well-formed data key (the column is not NULL). */
export function dataKeyCheck(dialect: SqlDialect, column: string): string {
  if (dialect !== 'sqlite') {
    const dot = dialect === 'postgres' ? `strpos(${column}, '.')` : `LOCATE('.', ${column})`;
    const length = dialect === 'postgres' ? `octet_length(${column})` : `length(${column})`;
    return `${regex(dialect, column, DATA_KEY_RE)} AND ((left(${column}, 5) = 'fsk1:' AND ${length} >= 9) OR (${dot} = ${SALT_END} AND ${length} >= ${SALT_END + 4}))`;
  }
  const v1 = `${column} GLOB 'fsk1:*' AND length(${column}) >= 9 AND ${sqliteOnly(column, 6)}`;
  const v2 = `${column} GLOB 'fsk2:*' AND length(${column}) >= 32 AND ${sqliteOnly(column, 6, 22)} AND substr(${column}, 28, 1) = '.' AND ${sqliteOnly(column, 29)}`;
  return `${sqliteAscii(column)} AND ((${v1}) OR (${v2}))`;
}

/** A well-formed blind-index value of `hexLength` characters (the column is not NULL). */
export function blindIndexCheck(dialect: SqlDialect, column: string, hexLength: number): string {
  if (dialect !== 'sqlite')
    return `${regex(dialect, column, '[0-9a-f]+')} AND length(${column}) = ${hexLength}`;
  return `${sqliteAscii(column)} AND length(${column}) = ${hexLength} AND ${column} NOT GLOB '*[^0-9a-f]*'`;
}
