import Database from 'better-sqlite3';
import pg from 'pg';

/** One statement as the driver received it. */
export interface LoggedStatement {
  readonly sql: string;
}

/**
 * Counts what reaches the database drivers, below every ORM: each `pg` `Client.query` call is one
 * round trip to PostgreSQL (node-postgres sends queries one at a time; `BEGIN`/`COMMIT` included),
 * and each better-sqlite3 statement execution (`run`/`get`/`all`/`iterate`, `exec`) one call into
 * SQLite. Installed once per process by patching the two drivers' prototypes; `take()` returns
 * and clears what was logged since the last call. Patching the prototype (not an ORM hook) counts
 * statements an ORM issues on its own (transactions, reloads) as well as an adapter's.
 */
export class StatementLog {
  static #installed: StatementLog | undefined;
  #entries: LoggedStatement[] = [];
  #recording = false;

  static install(): StatementLog {
    if (StatementLog.#installed) return StatementLog.#installed;
    const log = new StatementLog();
    const record = (sql: unknown) => {
      if (log.#recording) log.#entries.push({ sql: sqlText(sql) });
    };
    const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      record(args[0]);
      return query.apply(this, args);
    } as typeof pg.Client.prototype.query;
    const probe = new Database(':memory:');
    const statement = Object.getPrototypeOf(probe.prepare('SELECT 1')) as Record<string, unknown>;
    probe.close();
    for (const method of ['run', 'get', 'all', 'iterate'] as const) {
      const original = statement[method] as (...args: unknown[]) => unknown;
      statement[method] = function (this: { source: string }, ...args: unknown[]) {
        record(this.source);
        return original.apply(this, args);
      };
    }
    const exec = Database.prototype.exec;
    Database.prototype.exec = function (this: Database.Database, sql: string) {
      record(sql);
      return exec.call(this, sql);
    };
    StatementLog.#installed = log;
    return log;
  }

  /** Starts (or stops) recording; statements outside a recording are not kept. */
  record(on: boolean): void {
    this.#recording = on;
    this.#entries = [];
  }

  /** What was logged since the last `take()` (or `record()`), and clears it. */
  take(): LoggedStatement[] {
    const entries = this.#entries;
    this.#entries = [];
    return entries;
  }
}

function sqlText(query: unknown): string {
  if (typeof query === 'string') return query;
  if (query && typeof query === 'object' && 'text' in query) return String((query as { text: unknown }).text);
  return String(query);
}

/** Statements of a SQL text: `;`-separated parts outside quotes (SQLite `exec` may take several). */
export function statementCount(sql: string): number {
  let count = 0;
  let quote: string | undefined;
  let content = false;
  for (const ch of sql) {
    if (quote) {
      if (ch === quote) quote = undefined;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      content = true;
    } else if (ch === ';') {
      if (content) count++;
      content = false;
    } else if (!/\s/.test(ch)) content = true;
  }
  return count + (content ? 1 : 0);
}
