import { type GuardPlace, guardPlaces, guardViolationOf } from '@fieldseal/core';
import type { FieldEncryptionMetadata } from './metadata.js';
import { storedTables } from './stored-tables.js';

/**
 * A rejection handler turning a write refused by a database guard (`fieldseal_guard_…`) into
 * core's `GuardViolationError` naming table and column; other errors pass unchanged.
 */
export function guardErrors(metadata: FieldEncryptionMetadata): (error: unknown) => never {
  let places: ReadonlyMap<string, GuardPlace> | undefined;
  return (error) => {
    if (error === null || typeof error !== 'object') throw error;
    places ??= guardPlaces(storedTables(metadata));
    throw guardViolationOf(error, places) ?? error;
  };
}
