/**
 * Where a failure happened: the table (or model), column (or field) and row id.
 * Only names and ids are ever recorded here — never values or key bytes.
 */
export interface ErrorLocation {
  readonly table?: string;
  readonly column?: string;
  readonly rowId?: string | number | bigint;
}

/** Options accepted by every fieldseal error. */
export interface FieldsealErrorOptions {
  readonly cause?: unknown;
  readonly location?: ErrorLocation | undefined;
}

/** Formats a location as it is appended to error messages: ` (table "T", column "C", row 1)`. */
export function describeLocation(location: ErrorLocation | undefined): string {
  if (!location) return '';
  const parts: string[] = [];
  if (location.table !== undefined) parts.push(`table "${location.table}"`);
  if (location.column !== undefined) parts.push(`column "${location.column}"`);
  if (location.rowId !== undefined) parts.push(`row ${String(location.rowId)}`);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}

/** Registered symbol carried by every fieldseal error (see {@link isFieldsealError}). */
export const FIELDSEAL_ERROR_BRAND: unique symbol = Symbol.for('fieldseal.error') as never;

/**
 * Base class of every error fieldseal throws. `code` is stable and meant for programs;
 * `message` is for people. Messages name the place (table, column, row id) and never
 * contain plaintext, ciphertext or key bytes.
 */
export abstract class FieldsealError extends Error {
  /** A stable, machine-readable reason, e.g. `authentication-failed`. */
  abstract readonly code: string;
  /**
   * Brand recognised by {@link isFieldsealError} and the `isXxxError` guards. Two installed
   * copies of `@fieldseal/core` (or a config loaded through tsx) have two class objects, so
   * `instanceof` fails across them; the brand, a registered symbol, does not.
   */
  readonly [FIELDSEAL_ERROR_BRAND] = true;
  /** Where it happened, when known. */
  readonly location: ErrorLocation | undefined;

  constructor(message: string, options: FieldsealErrorOptions = {}) {
    super(
      `${message}${describeLocation(options.location)}`,
      options.cause === undefined ? {} : { cause: options.cause },
    );
    this.name = new.target.name;
    this.location = options.location;
  }
}

/** Why a stored value could not be decrypted. */
export type DecryptionErrorCode =
  | 'malformed-value'
  | 'unsupported-version'
  | 'wrong-data-key'
  | 'authentication-failed'
  | 'missing-data-key'
  | 'malformed-data-key'
  | 'plaintext-in-strict-mode';

/**
 * A stored value could not be turned back into plaintext. fieldseal never returns
 * wrong plaintext: altered, truncated or misplaced ciphertext always ends here.
 */
export class DecryptionError extends FieldsealError {
  readonly code: DecryptionErrorCode;
  constructor(code: DecryptionErrorCode, message: string, options?: FieldsealErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** Why a value could not be encrypted. */
export type EncryptionErrorCode = 'unsupported-type' | 'already-encrypted' | 'value-too-large';

/** A value could not be encrypted; nothing was written. */
export class EncryptionError extends FieldsealError {
  readonly code: EncryptionErrorCode;
  constructor(code: EncryptionErrorCode, message: string, options?: FieldsealErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** Why a keyring (master-key provider) failed. */
export type KeyringErrorCode =
  | 'unknown-master-key'
  | 'unwrap-failed'
  | 'malformed-encrypted-key'
  | 'key-not-found'
  | 'key-disabled'
  | 'key-pending-deletion'
  | 'access-denied'
  | 'invalid-ciphertext'
  | 'throttled'
  | 'unavailable'
  | 'invalid-key-material'
  | 'not-allowed'
  /** A failure the keyring does not recognise; never treated as a temporary outage. */
  | 'unknown-error'
  /** The key was destroyed on purpose (crypto-shredding): the data is gone by design, not damaged. */
  | 'key-shredded'
  /** A key store row (e.g. a branch key in `fieldseal_branch_keys`) is missing or failed its integrity check. */
  | 'key-store-damaged';

/** A keyring could not make, unwrap or re-wrap a data key. */
export class KeyringError extends FieldsealError {
  readonly code: KeyringErrorCode;
  /** The master key involved, when known (an id or ARN — never key bytes). */
  readonly keyId: string | undefined;
  constructor(
    code: KeyringErrorCode,
    message: string,
    options: FieldsealErrorOptions & { keyId?: string } = {},
  ) {
    super(message, options);
    this.code = code;
    this.keyId = options.keyId;
  }
}

/**
 * Invalid configuration, reported when the object is built — not on first use.
 * `option` names the offending option, e.g. `maxUses`.
 */
export class ConfigError extends FieldsealError {
  readonly code = 'invalid-config';
  readonly option: string;
  constructor(option: string, message: string, options?: FieldsealErrorOptions) {
    super(`Invalid option "${option}": ${message}`, options);
    this.option = option;
  }
}

/** Why an operation on encrypted fields was refused before anything reached the database. */
export type UnsupportedOperationCode =
  /** A filter on an encrypted field other than equality through its blind index (contains, gt, …). */
  | 'unsupported-filter'
  /** Ordering, `distinct` or a cursor on an encrypted field. */
  | 'unsupported-ordering'
  /** Grouping by, or min/max/avg/sum of, an encrypted field. */
  | 'unsupported-aggregate'
  /** An update operation other than setting a value on an encrypted field (increment, …). */
  | 'unsupported-update'
  /** The app wrote a data-key or blind-index column itself; fieldseal owns them. */
  | 'forbidden-write'
  /** A write that must read the row's data key, where it cannot (e.g. a Prisma batch `$transaction([...])`). */
  | 'batch-transaction'
  /** A query on an encrypted model sent through a client or data source without fieldseal. */
  | 'unprotected-client'
  /** An operation the adapter does not know, on a model with encrypted fields. */
  | 'unknown-operation'
  /** A write whose rows (and so data keys) fieldseal cannot know, or a raw SQL value. */
  | 'unsupported-operation';

/** Options of {@link UnsupportedOperationError}. */
export interface UnsupportedOperationErrorOptions extends FieldsealErrorOptions {
  /** The model or entity name (e.g. `User`), when the adapter knows it. */
  readonly entity?: string;
  /** The model field or entity property involved (e.g. `email`), when one is. */
  readonly property?: string;
}

/**
 * An ORM operation that fieldseal cannot carry out safely on encrypted fields (a `LIKE` on
 * ciphertext, a raw SQL value, a write whose rows cannot be known, a direct write of a
 * blind-index or data-key column). Thrown *before* anything is written or read. The message
 * names the model, field, table, column and row id — never a value.
 */
export class UnsupportedOperationError extends FieldsealError {
  readonly code: UnsupportedOperationCode;
  /** The model or entity name, when known. */
  readonly entity: string | undefined;
  /** The field or property involved, when one is. */
  readonly property: string | undefined;

  constructor(
    code: UnsupportedOperationCode,
    message: string,
    options: UnsupportedOperationErrorOptions = {},
  ) {
    const place =
      options.entity === undefined
        ? ''
        : ` [entity ${options.entity}${options.property ? `, property ${options.property}` : ''}]`;
    super(`${message}${place}`, options);
    this.code = code;
    this.entity = options.entity;
    this.property = options.property;
  }
}

/**
 * Rows kept changing identity between reading their data keys and writing them (deleted and
 * re-inserted, or claimed by another writer) more times than the retry budget allows. Nothing
 * was left half-written: the operation's transaction was rolled back where it had one. Retry it.
 */
export class WriteConflictError extends FieldsealError {
  readonly code = 'write-conflict';
}

/**
 * A write committed, but what it returns could not be decrypted afterwards: a Prisma batch
 * `$transaction([...])` commits before any result comes back, so fieldseal cannot roll it back.
 * The write **is** in the database: do not retry it blindly (an increment would apply twice);
 * fix the cause (`cause`: a `KeyringError` or `DecryptionError`) and read the rows again. An
 * interactive transaction (`$transaction(async (tx) => …)`) makes such a failure roll the write
 * back instead.
 */
export class CommittedWriteResultError extends FieldsealError {
  readonly code = 'write-committed';
}

/** True when `error` is any fieldseal error, from this or any other installed copy of core. */
export function isFieldsealError(error: unknown): error is FieldsealError {
  return (
    error instanceof FieldsealError ||
    (typeof error === 'object' &&
      error !== null &&
      (error as Record<symbol, unknown>)[FIELDSEAL_ERROR_BRAND] === true)
  );
}

/** A recogniser for one error class that works across installed copies of core (by brand and name). */
function guardFor<T extends FieldsealError>(name: string): (error: unknown) => error is T {
  return (error: unknown): error is T => isFieldsealError(error) && error.name === name;
}

/** True for a {@link KeyringError} from any installed copy of core. */
export const isKeyringError = guardFor<KeyringError>('KeyringError');
/** True for a {@link DecryptionError} from any installed copy of core. */
export const isDecryptionError = guardFor<DecryptionError>('DecryptionError');
/** True for an {@link EncryptionError} from any installed copy of core. */
export const isEncryptionError = guardFor<EncryptionError>('EncryptionError');
/** True for a {@link ConfigError} from any installed copy of core. */
export const isConfigError = guardFor<ConfigError>('ConfigError');
/** True for an {@link UnsupportedOperationError} from any installed copy of core. */
export const isUnsupportedOperationError = guardFor<UnsupportedOperationError>('UnsupportedOperationError');
/** True for a {@link WriteConflictError} from any installed copy of core. */
export const isWriteConflictError = guardFor<WriteConflictError>('WriteConflictError');
/** True for a {@link CommittedWriteResultError} from any installed copy of core. */
export const isCommittedWriteResultError = guardFor<CommittedWriteResultError>('CommittedWriteResultError');
