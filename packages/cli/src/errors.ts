import { FieldsealError, type FieldsealErrorOptions, isFieldsealError, KeyringError } from '@fieldseal/core';

/** Why a CLI command could not run or finish. */
export type CliErrorCode =
  | 'config-not-found'
  | 'invalid-config'
  | 'unknown-model'
  | 'unsupported-table'
  | 'database-unreachable'
  | 'database-error'
  | 'keyring-unavailable'
  | 'lease-lost'
  | 'usage';

/** Exit codes of the `fieldseal` binary (see docs/cli.md). */
export const EXIT = Object.freeze({
  ok: 0,
  /** verify found undecryptable values, or work was left undone (conflicts, row errors). */
  incomplete: 1,
  /** The command line or the configuration is wrong; nothing was changed. */
  config: 2,
  /** The database or the keyring failed; work done so far is committed and resumable. */
  runtime: 3,
});

const EXIT_OF: Record<CliErrorCode, number> = {
  'config-not-found': EXIT.config,
  'invalid-config': EXIT.config,
  'unknown-model': EXIT.config,
  'unsupported-table': EXIT.config,
  usage: EXIT.config,
  'database-unreachable': EXIT.runtime,
  'database-error': EXIT.runtime,
  'keyring-unavailable': EXIT.runtime,
  'lease-lost': EXIT.runtime,
};

/** A failure of the CLI, with a stable `code` and the process exit code it maps to. */
export class CliError extends FieldsealError {
  readonly code: CliErrorCode;
  constructor(code: CliErrorCode, message: string, options?: FieldsealErrorOptions) {
    super(message, options);
    this.code = code;
  }

  /** The exit code of the binary for this error. */
  get exitCode(): number {
    return EXIT_OF[this.code];
  }
}

/** The exit code for any error: CLI errors carry one; keyring failures are runtime failures. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof CliError) return error.exitCode;
  if (isFieldsealError(error) && error.code === 'invalid-config') return EXIT.config;
  return EXIT.runtime;
}

/** Wraps a database driver failure, naming the model and what was being done; keeps fieldseal errors. */
export function databaseError(cause: unknown, doing: string, table?: string): FieldsealError {
  if (isFieldsealError(cause)) return cause;
  const detail = cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
  return new CliError('database-error', `Database error while ${doing}: ${detail}`, {
    cause,
    ...(table ? { location: { table } } : {}),
  });
}

/** Wraps a keyring failure met before any write (the pre-flight check). */
export function keyringUnavailable(cause: unknown): FieldsealError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new CliError('keyring-unavailable', `The keyring (KMS) is not usable: ${detail}`, {
    cause,
    ...(cause instanceof KeyringError && cause.location ? { location: cause.location } : {}),
  });
}
