import type { SqlExecutor } from '@fieldseal/core';

/**
 * True for a database error that says "try again" rather than "this is wrong": SQLite's busy and
 * locked results (another process holds the write lock, or two transactions would deadlock),
 * PostgreSQL's serialization failure and deadlock, MySQL/MariaDB's deadlock and lock-wait
 * timeout. Several `fieldseal` processes sharing a job (and the live app beside them) meet these
 * as a matter of course; the transaction they interrupt was rolled back, so it can run again.
 */
export function isTransientDatabaseError(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = String((e as { code?: unknown }).code ?? '');
    if (
      ['SQLITE_BUSY', 'SQLITE_LOCKED', '40001', '40P01', 'ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT'].includes(
        code,
      )
    )
      return true;
    const errno = Number((e as { errno?: unknown }).errno);
    if (errno === 1213 || errno === 1205) return true;
    const message = e instanceof Error ? e.message : typeof e === 'string' ? e : '';
    if (
      /SQLITE_BUSY|SQLITE_LOCKED|database is locked|database table is locked|could not serialize access|deadlock detected|Deadlock found|Lock wait timeout exceeded|\b40001\b|\b40P01\b/i.test(
        message,
      )
    )
      return true;
  }
  return false;
}

/** How often and how long {@link retryingExecutor} retries. */
export interface TransientRetryOptions {
  /** Attempts in all, the first included. Defaults to 8. */
  readonly attempts?: number;
  /** Wait before the first retry, doubled each time (with jitter), capped at 2 s. Defaults to 25 ms. */
  readonly baseDelayMs?: number;
}

/**
 * Wraps an executor so that a statement or a whole transaction that failed with a transient
 * error ({@link isTransientDatabaseError}) runs again after a jittered back-off. Statements
 * inside a transaction are not retried on their own (the transaction was rolled back: only the
 * whole of it can run again), so transaction callbacks must be safe to run more than once.
 */
export function retryingExecutor(executor: SqlExecutor, options: TransientRetryOptions = {}): SqlExecutor {
  const attempts = Math.max(1, options.attempts ?? 8);
  const base = options.baseDelayMs ?? 25;
  const retry = async <T>(run: () => Promise<T>): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await run();
      } catch (error) {
        if (attempt >= attempts || !isTransientDatabaseError(error)) throw error;
        const delay = Math.min(2000, base * 2 ** (attempt - 1));
        await new Promise((resolve) => setTimeout(resolve, delay / 2 + Math.random() * delay));
      }
    }
  };
  return {
    dialect: executor.dialect,
    query: (sql, params) => retry(() => executor.query(sql, params)),
    execute: (sql, params) => retry(() => executor.execute(sql, params)),
    transaction: (fn) => retry(() => executor.transaction(fn)),
  };
}
