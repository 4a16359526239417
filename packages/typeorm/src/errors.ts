import {
  ConfigError,
  DecryptionError,
  describeLocation,
  EncryptionError,
  type ErrorLocation,
  FieldsealError,
  KeyringError,
  UnsupportedOperationError,
} from '@fieldseal/core';
import type { DataSource } from 'typeorm';
import { rethrowGuardViolation } from './guard-errors.js';

// One error class for both adapters: core's. Re-exported under the same names, so
// `import { UnsupportedOperationError } from '@fieldseal/typeorm'` keeps working.
export {
  type UnsupportedOperationCode,
  UnsupportedOperationError,
  type UnsupportedOperationErrorOptions,
} from '@fieldseal/core';

/** Where an entity value lives, in the entity's terms and the database's. */
export interface EntityPlace {
  readonly entity: string;
  readonly property?: string;
  readonly location: ErrorLocation;
}

/**
 * Re-throws a core error with the entity and property named too, keeping its class and
 * `code` so callers can still `catch (e) { if (e instanceof DecryptionError) … }`. Core
 * messages carry only names and ids, so nothing secret is copied.
 */
export function inEntity(error: unknown, place: EntityPlace): unknown {
  if (!(error instanceof FieldsealError) || error instanceof UnsupportedOperationError) return error;
  const location: ErrorLocation = { ...place.location, ...error.location };
  // Core appends its location to the message; strip it so it is not printed twice.
  const suffix = describeLocation(error.location);
  const bare =
    suffix && error.message.endsWith(suffix) ? error.message.slice(0, -suffix.length) : error.message;
  const property = location.column === place.location.column ? place.property : undefined;
  const message = `${bare} [entity ${place.entity}${property ? `, property ${property}` : ''}]`;
  const options = { location, cause: error };
  if (error instanceof DecryptionError) return new DecryptionError(error.code, message, options);
  if (error instanceof EncryptionError) return new EncryptionError(error.code, message, options);
  if (error instanceof KeyringError)
    return new KeyringError(error.code, message, {
      ...options,
      ...(error.keyId ? { keyId: error.keyId } : {}),
    });
  if (error instanceof ConfigError) return error;
  return error;
}

/**
 * The one place errors leave the adapter's write paths, so every error a caller sees is shaped
 * here: a write refused by a database guard (`fieldseal guard`) becomes core's
 * `GuardViolationError` naming table and column; anything else passes unchanged.
 */
export function leaving(dataSource: DataSource, error: unknown): unknown {
  try {
    return rethrowGuardViolation(dataSource, error);
  } catch (shaped) {
    return shaped;
  }
}
