import {
  ConfigError,
  DecryptionError,
  describeLocation,
  EncryptionError,
  type ErrorLocation,
  FieldsealError,
  type FieldsealErrorOptions,
  KeyringError,
} from '@fieldseal/core';

/** Why an operation on encrypted columns was refused. */
export type UnsupportedOperationCode =
  /** A condition on an encrypted property other than equality through its blind index (Like, MoreThan, …), or on one without a blind index. */
  | 'unsupported-filter'
  /** `order` by an encrypted property. */
  | 'unsupported-ordering'
  /** `sum`/`average`/`minimum`/`maximum`/`increment`/`decrement` of an encrypted property. */
  | 'unsupported-aggregate'
  /** The app wrote a data-key or blind-index column itself; fieldseal owns them. */
  | 'forbidden-write'
  /** A write whose rows (and so data keys) fieldseal cannot know: QueryBuilder `update().set()`, `orUpdate()`, raw SQL values, `returning`. */
  | 'unsupported-operation';

/** Options of {@link UnsupportedOperationError}. */
export interface UnsupportedOperationErrorOptions extends FieldsealErrorOptions {
  /** The entity class name (e.g. `User`). */
  readonly entity: string;
  /** The entity property involved (e.g. `email`), when one is. */
  readonly property?: string;
}

/**
 * An ORM operation that fieldseal cannot carry out safely on encrypted columns (a raw SQL
 * value, a `LIKE` on ciphertext, a QueryBuilder update whose rows cannot be known, a direct
 * write of a blind-index or data-key column). It is thrown *before* anything is written.
 * The message names the entity, property, table, column and row id — never a value.
 */
export class UnsupportedOperationError extends FieldsealError {
  readonly code: UnsupportedOperationCode;
  /** The entity class name. */
  readonly entity: string;
  /** The entity property, when one is involved. */
  readonly property: string | undefined;

  constructor(code: UnsupportedOperationCode, message: string, options: UnsupportedOperationErrorOptions) {
    super(
      `${message} [entity ${options.entity}${options.property ? `, property ${options.property}` : ''}]`,
      options,
    );
    this.code = code;
    this.entity = options.entity;
    this.property = options.property;
  }
}

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
