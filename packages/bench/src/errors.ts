import { FieldsealError, type FieldsealErrorOptions } from '@fieldseal/core';

/** Why the bench stopped. */
export type BenchErrorCode = 'wrong-plaintext' | 'workload-failed' | 'missing-dependency';

/**
 * A benchmark run went wrong: a row read back differs from what was written, a workload
 * could not run, or a package a suite needs is not installed. Names the target, workload and row id; never a value.
 */
export class BenchError extends FieldsealError {
  readonly code: BenchErrorCode;
  constructor(code: BenchErrorCode, message: string, options?: FieldsealErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
