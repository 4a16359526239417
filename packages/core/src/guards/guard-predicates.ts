import type { SqlDialect } from '../stored-tables.js';
import { MIN_BODY_LENGTH } from '../value-format.js';

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

/** Characters of the smallest text value, prefix included. */
const MIN_TEXT = 4 + Math.ceil((MIN_BODY_LENGTH * 4) / 3);
/** Bytes of the smallest binary value, prefix included. */
const MIN_BINARY = 4 + MIN_BODY_LENGTH;
const B64 = 'A-Za-z0-9_-';
const VALUE_RE = `fs[12]:[AB][${B64}]{${MIN_TEXT - 5},}`;
const DATA_KEY_RE = `(fsk1:[${B64}]{4,}|fsk2:[${B64}]{22}[.][${B64}]{4,})`;
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
    return `${sqliteAscii(column)} AND length(${column}) >= ${MIN_TEXT} AND length(${column}) % 4 <> 1 AND ${column} GLOB 'fs[12]:[AB]*' AND ${sqliteOnly(column, 6)}`;
  const length = dialect === 'postgres' ? `length(${column})` : `LENGTH(${column})`;
  return `${regex(dialect, column, VALUE_RE)} AND ${length} % 4 <> 1`;
}

/** A well-formed binary value (the column is not NULL). */
export function binaryValueCheck(dialect: SqlDialect, column: string): string {
  if (dialect === 'postgres')
    // CASE: PostgreSQL does not promise to evaluate AND left to right, and get_byte fails past the end.
    return `CASE WHEN octet_length(${column}) >= ${MIN_BINARY} THEN substr(${column}, 1, 4) IN (decode('${FS1}', 'hex'), decode('${FS2}', 'hex')) AND get_byte(${column}, 4) < 8 ELSE false END`;
  if (dialect === 'mysql')
    return `LENGTH(${column}) >= ${MIN_BINARY} AND LEFT(${column}, 4) IN (X'${FS1}', X'${FS2}') AND ASCII(SUBSTRING(${column}, 5, 1)) < 8`;
  return `typeof(${column}) = 'blob' AND length(${column}) >= ${MIN_BINARY} AND substr(${column}, 1, 4) IN (X'${FS1}', X'${FS2}') AND substr(${column}, 5, 1) < X'08'`;
}

/** A well-formed data key (the column is not NULL). */
export function dataKeyCheck(dialect: SqlDialect, column: string): string {
  if (dialect !== 'sqlite') return regex(dialect, column, DATA_KEY_RE);
  const v1 = `${column} GLOB 'fsk1:*' AND length(${column}) >= 9 AND ${sqliteOnly(column, 6)}`;
  const v2 = `${column} GLOB 'fsk2:*' AND length(${column}) >= 32 AND ${sqliteOnly(column, 6, 22)} AND substr(${column}, 28, 1) = '.' AND ${sqliteOnly(column, 29)}`;
  return `${sqliteAscii(column)} AND ((${v1}) OR (${v2}))`;
}

/** A well-formed blind-index value of `hexLength` characters (the column is not NULL). */
export function blindIndexCheck(dialect: SqlDialect, column: string, hexLength: number): string {
  if (dialect !== 'sqlite') return regex(dialect, column, `[0-9a-f]{${hexLength}}`);
  return `${sqliteAscii(column)} AND length(${column}) = ${hexLength} AND ${column} NOT GLOB '*[^0-9a-f]*'`;
}
