import { FORMAT_VERSION, FLAG_ROW_BOUND } from './value-format.js';

/**
 * The place a value belongs to. The table and column (and row id, when given) are
 * authenticated with the value, so a value copied elsewhere fails to decrypt.
 */
export interface ValuePlace {
  readonly table: string;
  readonly column: string;
  /** Bind the value to its row too. Only usable where the id is known before the write. */
  readonly rowId?: string | number | bigint;
}

const DOMAIN = Buffer.from('fieldseal', 'latin1');
const MAX_CACHED_PLACES = 10_000;
// Tables and columns are few and fixed; building their AAD once saves work on every value.
const cache = new Map<string, Buffer>();

function lengthPrefixed(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  const out = Buffer.allocUnsafe(4 + bytes.length);
  out.writeUInt32BE(bytes.length, 0);
  bytes.copy(out, 4);
  return out;
}

/**
 * Additional authenticated data of a v1 value:
 * `"fieldseal" | version | flags | len32(table) table | len32(column) column [| len32(rowId) rowId]`.
 */
export function buildAad(place: ValuePlace, flags: number): Buffer {
  const key = `${flags}\u0000${place.table}\u0000${place.column}`;
  let base = cache.get(key);
  if (!base) {
    base = Buffer.concat([DOMAIN, Buffer.from([FORMAT_VERSION, flags]), lengthPrefixed(place.table), lengthPrefixed(place.column)]);
    if (cache.size >= MAX_CACHED_PLACES) cache.clear();
    cache.set(key, base);
  }
  if ((flags & FLAG_ROW_BOUND) === 0) return base;
  return Buffer.concat([base, lengthPrefixed(String(place.rowId))]);
}
