import { FieldsealError, type FieldsealErrorOptions, isFieldsealError } from '@fieldseal/core';

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
  | 'job-busy'
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
  'job-busy': EXIT.runtime,
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
  if (isFieldsealError(error) && error.name === 'CliError' && error.code in EXIT_OF)
    return EXIT_OF[error.code as CliErrorCode];
  if (isFieldsealError(error) && error.code === 'invalid-config') return EXIT.config;
  return EXIT.runtime;
}

/**
 * The meaningful text of a driver or loader error. Prisma's messages start with a newline and an
 * "Invalid `prisma.$queryRawUnsafe()` invocation:" line before the database's own words, so
 * the first line alone is empty: keep the first `maxLines` non-empty lines but that one, joined.
 */
export function detailOf(error: unknown, maxLines = 6): string {
  const text = error instanceof Error ? error.message : String(error);
  const lines = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !/^Invalid `[^`]*` invocation:?$/.test(line))
    .slice(0, maxLines);
  const detail = lines.join(' ') || (error instanceof Error ? error.name : 'unknown error');
  return detail.length > 600 ? `${detail.slice(0, 600)}…` : detail;
}

/** Wraps a database driver failure, naming the model and what was being done; keeps fieldseal errors. */
export function databaseError(cause: unknown, doing: string, table?: string): FieldsealError {
  if (isFieldsealError(cause)) return cause;
  return new CliError('database-error', `Database error while ${doing}: ${detailOf(cause)}`, {
    cause,
    ...(table ? { location: { table } } : {}),
  });
}

/**
 * Wraps a keyring failure met before any write (the pre-flight checks). The cause's message
 * already names its place, so it is not appended twice; `code` stays the cause's in `cause`.
 */
export function keyringUnavailable(cause: unknown, doing = 'is not usable'): FieldsealError {
  const code = isFieldsealError(cause) ? ` [${cause.code}]` : '';
  return new CliError('keyring-unavailable', `The keyring ${doing}: ${detailOf(cause)}${code}`, { cause });
}
