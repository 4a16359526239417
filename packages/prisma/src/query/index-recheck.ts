import { unsupported } from '../errors.js';
import type { ModelInfo } from '../setup/encryption-schema.js';
import { asList, isPlainObject } from './context.js';

/** Plaintext values an encrypted field of the returned rows must have (normalized as the index is). */
export interface IndexCheck {
  readonly field: string;
  readonly accepts: (value: unknown) => boolean;
}

/**
 * The equalities on blind-indexed fields that every returned row must meet: those at the top of
 * a read's `where` (directly or under `AND`). A blind index keeps 8–32 bytes of a keyed hash, so
 * two values can share one; after decryption each row is checked against the value asked for.
 */
export function indexChecks(model: ModelInfo, where: unknown): IndexCheck[] {
  if (!isPlainObject(where)) return [];
  const checks: IndexCheck[] = [];
  for (const [key, filter] of Object.entries(where)) {
    if (key === 'AND') for (const item of asList(filter)) checks.push(...indexChecks(model, item));
    const field = model.encrypted.get(key);
    if (!field?.blindIndex) continue;
    const wanted = isPlainObject(filter)
      ? 'equals' in filter
        ? [filter.equals]
        : Array.isArray(filter.in)
          ? filter.in
          : undefined
      : [filter];
    if (!wanted || wanted.some((value) => typeof value !== 'string' && !(value instanceof Uint8Array)))
      continue;
    const normalize = (value: unknown) =>
      typeof value === 'string' && field.normalize ? field.normalize(value) : value;
    const set = wanted.map(normalize);
    checks.push({ field: key, accepts: (value) => set.some((each) => same(each, normalize(value))) });
  }
  return checks;
}

/** Makes sure the checked fields are returned; gives the ones added (to remove again). */
export function selectChecked(args: Record<string, unknown>, checks: readonly IndexCheck[]): string[] {
  const added: string[] = [];
  const select = isPlainObject(args.select) ? args.select : undefined;
  const omit = isPlainObject(args.omit) ? args.omit : undefined;
  for (const { field } of checks) {
    if (select && !select[field]) select[field] = true;
    else if (!select && omit?.[field] === true) omit[field] = false;
    else continue;
    added.push(field);
  }
  return added;
}

/** Drops rows whose decrypted value differs from the one looked up (an index collision). */
export function dropCollisions(
  model: ModelInfo,
  operation: string,
  result: unknown,
  checks: readonly IndexCheck[],
  added: readonly string[],
): unknown {
  if (checks.length === 0) return result;
  const keep = (row: unknown): boolean => {
    if (!isPlainObject(row)) return true;
    const ok = checks.every(({ field, accepts }) => accepts(row[field]));
    for (const field of added) delete row[field];
    return ok;
  };
  if (Array.isArray(result)) return result.filter(keep);
  if (result === null || keep(result)) return result;
  if (operation.endsWith('OrThrow'))
    throw unsupported(
      'unsupported-filter',
      `${model.name}.${operation}: the only row found was a blind-index collision`,
      model,
    );
  return null;
}

function same(a: unknown, b: unknown): boolean {
  if (a instanceof Uint8Array && b instanceof Uint8Array)
    return a.length === b.length && a.every((byte, i) => byte === b[i]);
  return a === b;
}
