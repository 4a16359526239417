import type { SqlExecutor } from '@fieldseal/core';
import { CliError, databaseError } from './errors.js';
import { insertIgnore, Params, qualified } from './sql-dialect.js';
import { type KeyKind, keyFromText, keyToText, type TableAccess } from './table-access.js';

/** One claimed chunk `[lo, hi)` of a table, with its checkpointed cursor. */
export interface Lease {
  readonly chunk: number;
  readonly kind: KeyKind;
  readonly lo: unknown;
  readonly hi: unknown;
  readonly cursor: unknown;
  readonly attempts: number;
}

/** Options of {@link LeaseTable}. */
export interface LeaseOptions {
  /** Lease table name. */
  readonly name: string;
  /** Schema of the lease table (the schema of the tables it coordinates). */
  readonly schema?: string;
  /** Milliseconds a claim lasts without a checkpoint before others may take it over. */
  readonly leaseMs: number;
  /** Rows per chunk when planning. */
  readonly chunkRows: number;
  /** Clock in milliseconds (shared by every worker; keep machines' clocks in sync). */
  readonly now?: () => number;
}

const PLAN_MARKER = -1;

/**
 * Coordinates workers (in one process or many, on one machine or many) through a table in the
 * application's database: each job's key range is split into chunks; a worker claims a free or
 * expired chunk (`FOR UPDATE SKIP LOCKED` on PostgreSQL and MariaDB/MySQL; a conditional UPDATE in
 * a write transaction on SQLite), checkpoints its cursor in the same transaction as each batch,
 * and marks it done. A crashed worker's chunk is taken over once its lease expires, from its
 * last checkpoint.
 */
export class LeaseTable {
  readonly name: string;
  readonly #now: () => number;

  constructor(
    readonly executor: SqlExecutor,
    readonly options: LeaseOptions,
  ) {
    this.name = qualified(executor.dialect, options.name, options.schema);
    this.#now = options.now ?? Date.now;
  }

  /** Creates the lease table when missing (safe when several workers start at once). */
  async ensure(): Promise<void> {
    const text = this.executor.dialect === 'mysql' ? 'VARCHAR(191)' : 'TEXT';
    const big = this.executor.dialect === 'sqlite' ? 'INTEGER' : 'BIGINT';
    const sql = `CREATE TABLE IF NOT EXISTS ${this.name} (job ${text} NOT NULL, tbl ${text} NOT NULL, chunk INTEGER NOT NULL, lo TEXT NULL, hi TEXT NULL, cursor_key TEXT NULL, key_kind VARCHAR(10) NULL, owner VARCHAR(191) NULL, expires_at ${big} NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0, done INTEGER NOT NULL DEFAULT 0, rows_done ${big} NOT NULL DEFAULT 0, PRIMARY KEY (job, tbl, chunk))`;
    try {
      await this.executor.execute(sql);
    } catch (cause) {
      // Two first runs racing on CREATE TABLE IF NOT EXISTS can collide on PostgreSQL's catalog.
      try {
        await this.executor.query(`SELECT job FROM ${this.name} WHERE 1 = 0`);
      } catch {
        throw databaseError(cause, `creating the lease table ${this.name}`);
      }
    }
  }

  /**
   * Splits the table's key range into chunks for `job`, once: the first worker inserts a plan
   * marker and the chunks in one transaction; the others find them. Returns the chunk count
   * and the rows already scanned (a resumed job).
   */
  async plan(job: string, access: TableAccess): Promise<{ chunks: number; rowsDone: number }> {
    const tbl = access.name;
    await this.executor.transaction(async (tx) => {
      const p = new Params(tx.dialect);
      // The marker's expires_at tells other jobs this one was planned just now (see adopt).
      const marker = insertIgnore(
        tx.dialect,
        this.name,
        ['job', 'tbl', 'chunk', 'done', 'expires_at'],
        [p.add(job), p.add(tbl), p.add(PLAN_MARKER), p.add(1), p.add(this.#now() + this.options.leaseMs)],
      );
      if ((await tx.execute(marker, p.values)) === 0) return; // planned by another worker
      const ranges = await this.#ranges(access);
      for (const [index, range] of ranges.entries()) {
        const r = new Params(tx.dialect);
        const values = [
          r.add(job),
          r.add(tbl),
          r.add(index),
          r.add(range.lo),
          r.add(range.hi),
          r.add(range.kind),
        ];
        await tx.execute(
          `INSERT INTO ${this.name} (job, tbl, chunk, lo, hi, key_kind) VALUES (${values.join(', ')})`,
          r.values,
        );
      }
    });
    const p = new Params(this.executor.dialect);
    const rows = await this.executor.query<{ n: unknown; scanned: unknown }>(
      `SELECT COUNT(*) AS n, SUM(rows_done) AS scanned FROM ${this.name} WHERE job = ${p.add(job)} AND tbl = ${p.add(tbl)} AND chunk >= 0`,
      p.values,
    );
    return { chunks: Number(rows[0]?.n ?? 0), rowsDone: Number(rows[0]?.scanned ?? 0) };
  }

  async #ranges(access: TableAccess): Promise<{ lo: string | null; hi: string | null; kind: KeyKind }[]> {
    const { min, max, count } = await access.bounds();
    if (count === 0 || min === null || max === null) return [{ lo: null, hi: null, kind: 'number' }];
    const kind = keyToText(min).kind;
    const chunks = Math.max(1, Math.ceil(count / this.options.chunkRows));
    const bounds: string[] = [];
    if (kind === 'string') {
      for (let i = 1; i < chunks; i++) {
        const at = await access.keyAt((i * count) / chunks);
        // Keys come in the database's order (its collation), so only repeats are dropped.
        if (at !== null && String(at) !== bounds.at(-1)) bounds.push(String(at));
      }
    } else {
      const lo = BigInt(min as number | bigint);
      const span = BigInt(max as number | bigint) - lo + 1n;
      for (let i = 1n; i < BigInt(chunks); i++) {
        const b = (lo + (span * i) / BigInt(chunks)).toString();
        if (bounds.at(-1) !== b) bounds.push(b);
      }
    }
    // Unbounded at both ends: rows inserted below the minimum or above the maximum are covered.
    const edges = [null, ...bounds, null];
    return edges.slice(0, -1).map((lo, i) => ({ lo, hi: edges[i + 1] ?? null, kind }));
  }

  /** Claims a free or expired chunk of `job` for `owner`; `undefined` when none is claimable now. */
  async claim(job: string, tbl: string, owner: string): Promise<Lease | undefined> {
    const now = this.#now();
    const expires = now + this.options.leaseMs;
    const dialect = this.executor.dialect;
    const columns = 'chunk, lo, hi, cursor_key, key_kind, attempts';
    try {
      return await this.executor.transaction(async (tx) => {
        let row: Record<string, unknown> | undefined;
        if (dialect === 'sqlite') {
          // The UPDATE comes first so the transaction takes SQLite's write lock at once.
          const p = new Params(dialect);
          const claimed = await tx.execute(
            `UPDATE ${this.name} SET owner = ${p.add(owner)}, expires_at = ${p.add(expires)}, attempts = attempts + 1 WHERE job = ${p.add(job)} AND tbl = ${p.add(tbl)} AND chunk = (SELECT chunk FROM ${this.name} WHERE job = ${p.add(job)} AND tbl = ${p.add(tbl)} AND chunk >= 0 AND done = 0 AND (owner IS NULL OR expires_at < ${p.add(now)}) ORDER BY chunk LIMIT 1)`,
            p.values,
          );
          if (claimed === 0) return undefined;
          const s = new Params(dialect);
          [row] = await tx.query(
            `SELECT ${columns} FROM ${this.name} WHERE job = ${s.add(job)} AND tbl = ${s.add(tbl)} AND owner = ${s.add(owner)} AND done = 0 AND expires_at = ${s.add(expires)} AND chunk >= 0`,
            s.values,
          );
        } else {
          const p = new Params(dialect);
          [row] = await tx.query(
            `SELECT ${columns} FROM ${this.name} WHERE job = ${p.add(job)} AND tbl = ${p.add(tbl)} AND chunk >= 0 AND done = 0 AND (owner IS NULL OR expires_at < ${p.add(now)}) ORDER BY chunk LIMIT 1 FOR UPDATE SKIP LOCKED`,
            p.values,
          );
          if (!row) return undefined;
          const u = new Params(dialect);
          await tx.execute(
            `UPDATE ${this.name} SET owner = ${u.add(owner)}, expires_at = ${u.add(expires)}, attempts = attempts + 1 WHERE job = ${u.add(job)} AND tbl = ${u.add(tbl)} AND chunk = ${u.add(row.chunk)}`,
            u.values,
          );
        }
        if (!row) return undefined;
        const kind = (row.key_kind ?? 'number') as KeyKind;
        const decode = (text: unknown) =>
          text === null || text === undefined ? null : keyFromText(kind, String(text));
        return {
          chunk: Number(row.chunk),
          kind,
          lo: decode(row.lo),
          hi: decode(row.hi),
          cursor: decode(row.cursor_key),
          attempts: Number(row.attempts) + 1,
        };
      });
    } catch (cause) {
      throw databaseError(cause, `claiming a chunk of ${tbl}`);
    }
  }

  /**
   * Records progress inside the batch's own transaction (so cursor and data commit together) and
   * renews the lease. Throws `CliError('lease-lost')` — rolling the batch back — when another
   * worker took the chunk over.
   */
  async checkpoint(
    tx: SqlExecutor,
    job: string,
    tbl: string,
    lease: Lease,
    owner: string,
    cursor: unknown,
    scanned: number,
  ): Promise<void> {
    const p = new Params(tx.dialect);
    const cursorText = cursor === null || cursor === undefined ? null : keyToText(cursor).text;
    const n = await tx.execute(
      `UPDATE ${this.name} SET cursor_key = ${p.add(cursorText)}, expires_at = ${p.add(this.#now() + this.options.leaseMs)}, rows_done = rows_done + ${p.add(scanned)} WHERE job = ${p.add(job)} AND tbl = ${p.add(tbl)} AND chunk = ${p.add(lease.chunk)} AND owner = ${p.add(owner)}`,
      p.values,
    );
    if (n === 0)
      throw new CliError(
        'lease-lost',
        `Chunk ${lease.chunk} of ${tbl} was taken over by another worker (lease expired)`,
      );
  }

  /** Extends the lease without progress (a slow batch). Returns false when it was lost. */
  async renew(job: string, tbl: string, lease: Lease, owner: string): Promise<boolean> {
    const p = new Params(this.executor.dialect);
    const n = await this.executor.execute(
      `UPDATE ${this.name} SET expires_at = ${p.add(this.#now() + this.options.leaseMs)} WHERE job = ${p.add(job)} AND tbl = ${p.add(tbl)} AND chunk = ${p.add(lease.chunk)} AND owner = ${p.add(owner)} AND done = 0`,
      p.values,
    );
    return n > 0;
  }

  /** Marks the chunk done (only while this worker still owns it). */
  async complete(job: string, tbl: string, lease: Lease, owner: string): Promise<void> {
    const p = new Params(this.executor.dialect);
    await this.executor.execute(
      `UPDATE ${this.name} SET done = 1, owner = NULL WHERE job = ${p.add(job)} AND tbl = ${p.add(tbl)} AND chunk = ${p.add(lease.chunk)} AND owner = ${p.add(owner)}`,
      p.values,
    );
  }

  /** Chunks of `job` not done yet (claimed by live workers, or waiting). */
  async remaining(job: string, tbl: string): Promise<number> {
    const p = new Params(this.executor.dialect);
    const rows = await this.executor.query<{ n: unknown }>(
      `SELECT COUNT(*) AS n FROM ${this.name} WHERE job = ${p.add(job)} AND tbl = ${p.add(tbl)} AND chunk >= 0 AND done = 0`,
      p.values,
    );
    return Number(rows[0]?.n ?? 0);
  }

  /**
   * Makes `job` the only job of table `tbl`: checkpoints belong to one job (direction, target
   * key, format), and another job may have changed every row since they were written — a
   * `migrate --decrypt` between two `migrate` runs turns rows the first run checkpointed back
   * into plaintext. So the other jobs' rows are deleted (their runs start afresh next time),
   * unless one of them is live: claimed by a worker whose lease has not expired, or planned
   * within the last lease period; then this job refuses to start.
   */
  async adopt(job: string, tbl: string): Promise<void> {
    const now = this.#now();
    await this.executor.transaction(async (tx) => {
      // SQLite: take the write lock before reading, so two processes starting together queue
      // instead of deadlocking on the upgrade from a read lock (SQLITE_BUSY without waiting).
      if (tx.dialect === 'sqlite') await tx.execute(`UPDATE ${this.name} SET done = done WHERE 1 = 0`);
      const p = new Params(tx.dialect);
      const live = await tx.query<{ job: string; chunk: unknown; owner: unknown; expires_at: unknown }>(
        `SELECT job, chunk, owner, expires_at FROM ${this.name} WHERE tbl = ${p.add(tbl)} AND job <> ${p.add(job)} AND expires_at >= ${p.add(now)} AND ((chunk >= 0 AND done = 0 AND owner IS NOT NULL) OR chunk = ${p.add(PLAN_MARKER)})`,
        p.values,
      );
      const first = live[0];
      if (first) {
        const seconds = Math.ceil((Number(first.expires_at) - now) / 1000);
        throw new CliError(
          'job-busy',
          `Another job ("${first.job}") is running on ${tbl}${first.owner ? ` (worker ${String(first.owner)})` : ''}; its lease expires in ${seconds} s unless it makes progress. Wait for it to finish, or stop it, then run this command again`,
        );
      }
      const d = new Params(tx.dialect);
      await tx.execute(
        `DELETE FROM ${this.name} WHERE tbl = ${d.add(tbl)} AND job <> ${d.add(job)}`,
        d.values,
      );
    });
  }

  /** Gives a claimed chunk back at once (its cursor kept), so a rerun need not wait for the lease to expire. */
  async release(job: string, tbl: string, lease: Lease, owner: string): Promise<void> {
    const p = new Params(this.executor.dialect);
    await this.executor.execute(
      `UPDATE ${this.name} SET owner = NULL, expires_at = 0 WHERE job = ${p.add(job)} AND tbl = ${p.add(tbl)} AND chunk = ${p.add(lease.chunk)} AND owner = ${p.add(owner)} AND done = 0`,
      p.values,
    );
  }

  /** The first chunk of `job` held by a live worker other than those whose owner starts with `mine`. */
  async heldElsewhere(
    job: string,
    tbl: string,
    mine: string,
  ): Promise<{ chunk: number; owner: string; expiresInMs: number } | undefined> {
    const now = this.#now();
    const p = new Params(this.executor.dialect);
    const rows = await this.executor.query<{ chunk: unknown; owner: unknown; expires_at: unknown }>(
      `SELECT chunk, owner, expires_at FROM ${this.name} WHERE job = ${p.add(job)} AND tbl = ${p.add(tbl)} AND chunk >= 0 AND done = 0 AND owner IS NOT NULL AND expires_at >= ${p.add(now)} ORDER BY chunk`,
      p.values,
    );
    const row = rows.find((r) => !String(r.owner).startsWith(mine));
    return row
      ? { chunk: Number(row.chunk), owner: String(row.owner), expiresInMs: Number(row.expires_at) - now }
      : undefined;
  }

  /** Forgets `job` when no chunk of it has made progress (a run that failed before its first batch). */
  async forgetIfUntouched(job: string, tbl: string): Promise<void> {
    const p = new Params(this.executor.dialect);
    const rows = await this.executor.query<{ n: unknown }>(
      `SELECT COUNT(*) AS n FROM ${this.name} WHERE job = ${p.add(job)} AND tbl = ${p.add(tbl)} AND chunk >= 0 AND (rows_done > 0 OR done = 1 OR (owner IS NOT NULL AND expires_at >= ${p.add(this.#now())}))`,
      p.values,
    );
    if (Number(rows[0]?.n ?? 0) === 0) await this.forget(job, tbl);
  }

  /** Forgets a finished job, so the next run makes a fresh (idempotent) pass. */
  async forget(job: string, tbl: string): Promise<void> {
    const p = new Params(this.executor.dialect);
    await this.executor.execute(
      `DELETE FROM ${this.name} WHERE job = ${p.add(job)} AND tbl = ${p.add(tbl)}`,
      p.values,
    );
  }
}
