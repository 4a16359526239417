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
  readonly location?: ErrorLocation;
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

/**
 * Base class of every error fieldseal throws. `code` is stable and meant for programs;
 * `message` is for people. Messages name the place (table, column, row id) and never
 * contain plaintext, ciphertext or key bytes.
 */
export abstract class FieldsealError extends Error {
  /** A stable, machine-readable reason, e.g. `authentication-failed`. */
  abstract readonly code: string;
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
  | 'not-allowed';

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

/** True when `error` is any fieldseal error. */
export function isFieldsealError(error: unknown): error is FieldsealError {
  return error instanceof FieldsealError;
}
