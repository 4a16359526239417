import { type GuardPlace, guardPlaces, guardViolationOf } from '@fieldseal/core';
import type { DataSource } from 'typeorm';
import { storedTables } from './stored-tables.js';

const placesOf = new WeakMap<DataSource, ReadonlyMap<string, GuardPlace>>();

/**
 * Rethrows a write refused by a database guard (`fieldseal_guard_…`) as core's
 * `GuardViolationError` naming table and column; any other error unchanged.
 */
export function rethrowGuardViolation(dataSource: DataSource, error: unknown): never {
  if (error === null || typeof error !== 'object') throw error;
  let places = placesOf.get(dataSource);
  if (!places) {
    places = guardPlaces(storedTables(dataSource));
    placesOf.set(dataSource, places);
  }
  throw guardViolationOf(error, places) ?? error;
}
