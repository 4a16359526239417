import { FLAG_ROW_BOUND, FLAG_SCOPED, type FormatVersion } from './value-format.js';

/**
 * The place a value belongs to. The table and column (and row id, when given) are
 * authenticated with the value, so a value copied elsewhere fails to decrypt.
 */
export interface ValuePlace {
  readonly table: string;
  readonly column: string;
  /** Bind the value to its row too. Only usable where the id is known before the write. */
  readonly rowId?: string | number | bigint;
  /** Bind the value to this tenant too (format v2 only; see docs/tenants.md). */
  readonly tenant?: string;
}

const DOMAIN = Buffer.from('fieldseal', 'latin1');
const MAX_CACHED_TABLES = 1_000;
// Tables and columns are few and fixed; building their AAD once saves work on every value.
// Nested maps, not a joined string key: any separator could also occur inside a name.
const cache = new Map<string, Map<string, Buffer[]>>();
// Index into a column's cached AADs: the flags byte plus 256 per version above 1.
const slot = (version: FormatVersion, flags: number) => (version - 1) * 256 + flags;

function lengthPrefixed(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  const out = Buffer.allocUnsafe(4 + bytes.length);
  out.writeUInt32BE(bytes.length, 0);
  bytes.copy(out, 4);
  return out;
}

/**
 * Additional authenticated data of a value (both versions):
 * `"fieldseal" | version | flags | len32(table) table | len32(column) column [| len32(rowId) rowId]
 * [| len32(tenant) tenant]` (the row id when flags has row-bound, the tenant when it has scoped).
 */
export function buildAad(place: ValuePlace, flags: number, version: FormatVersion = 2): Buffer {
  let columns = cache.get(place.table);
  if (!columns) {
    if (cache.size >= MAX_CACHED_TABLES) cache.clear();
    columns = new Map();
    cache.set(place.table, columns);
  }
  let byFlags = columns.get(place.column);
  if (!byFlags) {
    byFlags = [];
    columns.set(place.column, byFlags);
  }
  let base = byFlags[slot(version, flags)];
  if (!base) {
    base = Buffer.concat([
      DOMAIN,
      Buffer.from([version, flags]),
      lengthPrefixed(place.table),
      lengthPrefixed(place.column),
    ]);
    byFlags[slot(version, flags)] = base;
  }
  const rowBound = (flags & FLAG_ROW_BOUND) !== 0;
  const scoped = (flags & FLAG_SCOPED) !== 0;
  if (!rowBound && !scoped) return base;
  const parts = [base];
  if (rowBound) parts.push(rowIdSuffix(String(place.rowId)));
  if (scoped) parts.push(lengthPrefixed(place.tenant ?? ''));
  return Buffer.concat(parts);
}

// The columns of one row share its row-id suffix, and a row's values are encrypted (or
// decrypted) one after the other: remember the last one. Only read (copied) by the caller.
let lastRowId: string | undefined;
let lastSuffix: Buffer = Buffer.alloc(0);

function rowIdSuffix(rowId: string): Buffer {
  if (rowId !== lastRowId) {
    lastSuffix = lengthPrefixed(rowId);
    lastRowId = rowId;
  }
  return lastSuffix;
}
