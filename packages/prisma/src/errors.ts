import { type ErrorLocation, FieldsealError } from '@fieldseal/core';

/** Why a query was refused before anything reached the database. */
export type UnsupportedOperationCode =
  /** A filter on an encrypted field other than equality through its blind index (contains, gt, …). */
  | 'unsupported-filter'
  /** `orderBy`, `distinct` or a cursor on an encrypted field. */
  | 'unsupported-ordering'
  /** `groupBy` by, or `_min`/`_max`/`_avg`/`_sum` of, an encrypted field. */
  | 'unsupported-aggregate'
  /** An update operation other than `set` on an encrypted field. */
  | 'unsupported-update'
  /** The app wrote a data-key or blind-index column itself; fieldseal owns them. */
  | 'forbidden-write'
  /** A write that must read the row's data key, inside a batch `$transaction([...])`. */
  | 'batch-transaction'
  /** A query on an encrypted model sent through a client without the extension. */
  | 'unprotected-client'
  /** An operation this adapter does not know, on a model with encrypted fields. */
  | 'unknown-operation';

/**
 * The query cannot be run safely on encrypted fields, so it was refused before anything was
 * written or read. `location.table` names the model and `location.column` the field.
 */
export class UnsupportedOperationError extends FieldsealError {
  readonly code: UnsupportedOperationCode;
  constructor(code: UnsupportedOperationCode, message: string, location?: ErrorLocation) {
    super(message, location ? { location } : {});
    this.code = code;
  }
}

/**
 * A concurrent writer gave a legacy (key-less) row its data key between this operation's read
 * and its write, so the write was not applied to that row. The operation's own transaction was
 * rolled back when it had one; retry the operation.
 */
export class WriteConflictError extends FieldsealError {
  readonly code = 'write-conflict';
}
