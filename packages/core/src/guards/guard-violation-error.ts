import { FieldsealError, type FieldsealErrorOptions, isFieldsealError } from '../errors.js';
import { GUARD_PREFIX, guardName } from './guard-names.js';
import type { GuardKind, GuardPlace } from './guard-sql.js';

/**
 * The database refused a write through one of fieldseal's guards (a CHECK constraint
 * `fieldseal_guard_…`): the write would have stored, in an encrypted column, something that is
 * not fieldseal ciphertext (plaintext written past fieldseal, a value without its data key, a
 * malformed data key or blind index). Nothing was written. Names the table, column and
 * constraint, never the value.
 */
export class GuardViolationError extends FieldsealError {
  readonly code = 'guard-violation';
  /** The constraint that refused the write. */
  readonly constraint: string;
  /** The table, when the constraint is one of the configured tables' guards. */
  readonly table: string | undefined;
  /** The column the guard checks, when known. */
  readonly column: string | undefined;
  /** What the guard checks, when known. */
  readonly kind: GuardKind | undefined;

  constructor(constraint: string, place: GuardPlace | undefined, options: FieldsealErrorOptions = {}) {
    const what =
      place?.kind === 'data-key'
        ? 'a missing or malformed data key (encrypted values need their data key in the same row)'
        : place?.kind === 'blind-index'
          ? 'a blind-index value that is not lower-case hex of the index length'
          : 'a value that is not fieldseal ciphertext (plaintext written past fieldseal?)';
    super(`The database refused a write through guard "${constraint}": ${what}`, {
      ...options,
      location: place ? { table: place.table, column: place.column } : options.location,
    });
    this.constraint = constraint;
    this.table = place?.table;
    this.column = place?.column;
    this.kind = place?.kind;
  }
}

/** True for a {@link GuardViolationError} from any installed copy of core. */
export function isGuardViolationError(error: unknown): error is GuardViolationError {
  return isFieldsealError(error) && error.name === 'GuardViolationError';
}

const NAME = `(${GUARD_PREFIX}[^"\`'\\s]*)`;
/** How each driver reports a failed CHECK constraint, with the constraint's name. */
const MESSAGES = [
  new RegExp(`violates check constraint "${NAME}"`), // PostgreSQL (23514)
  new RegExp(`CHECK constraint failed: ${NAME}`), // SQLite (SQLITE_CONSTRAINT_CHECK)
  new RegExp(`CONSTRAINT \`${NAME}\` failed`), // MariaDB (4025)
];

/** The guard name in one error object (its own fields, not nested errors), if it reports a failed guard. */
function guardNameIn(node: Record<string, unknown>): string | undefined {
  const constraint = node.constraint;
  const code = node.code;
  // pg's DatabaseError carries the name; 23514 = check_violation.
  if (typeof constraint === 'string' && constraint.startsWith(GUARD_PREFIX) && code === '23514')
    return constraint;
  for (const key of ['message', 'sqlMessage', 'text']) {
    const text = node[key];
    if (typeof text !== 'string') continue;
    for (const pattern of MESSAGES) {
      const match = pattern.exec(text);
      if (match) return match[1];
    }
  }
  return undefined;
}

/**
 * Recognises a write refused by a fieldseal guard in an error from pg, mariadb/mysql2,
 * better-sqlite3 or Prisma (which wraps the driver's error in `cause` or `meta`), and returns
 * the typed error to throw instead; `undefined` for anything else. The driver's error is not
 * kept as `cause`: PostgreSQL's carries the refused row's values (`Failing row contains (…)`),
 * which are exactly the plaintext the guard kept out.
 * `places` (from {@link guardPlaces}) names the table and column of each guard.
 */
export function guardViolationOf(
  error: unknown,
  places?: ReadonlyMap<string, GuardPlace>,
): GuardViolationError | undefined {
  if (isGuardViolationError(error)) return error;
  const seen = new Set<object>();
  const visit = (node: unknown, depth: number): string | undefined => {
    if (node === null || typeof node !== 'object' || seen.has(node) || depth > 6) return undefined;
    seen.add(node);
    const record = node as Record<string, unknown>;
    const found = guardNameIn(record);
    if (found) return found;
    for (const key of ['cause', 'meta', 'driverAdapterError', 'originalError', 'driverError']) {
      const inner = visit(record[key], depth + 1);
      if (inner) return inner;
    }
    return undefined;
  };
  const name = visit(error, 0);
  if (name === undefined) return undefined;
  return new GuardViolationError(name, places?.get(name) ?? placeByName(name, places));
}

/**
 * A guard the configured tables do not list (the database has a guard the app's metadata
 * lacks, e.g. an app release older than the schema): its table, when the name starts with a
 * known table's prefix, and its column, when the name was not shortened.
 */
function placeByName(name: string, places?: ReadonlyMap<string, GuardPlace>): GuardPlace | undefined {
  const tables = [...new Set([...(places?.values() ?? [])].map((p) => p.table))].sort(
    (a, b) => b.length - a.length,
  );
  const table = tables.find((t) => name.startsWith(`${GUARD_PREFIX}${t}_`));
  if (table === undefined) return undefined;
  const column = name.slice(GUARD_PREFIX.length + table.length + 1);
  if (guardName(table, column) !== name) return undefined;
  return { table, column, kind: column === 'data_key' ? 'data-key' : 'value' };
}
