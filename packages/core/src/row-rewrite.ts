/**
 * The rewrite protocol: how bulk tools (`fieldseal migrate`, `rotate`, `upgrade`, `--decrypt`,
 * `rebind`) rewrite existing rows from the rows' own stored content, beside a live app.
 *
 * It is the bulk sibling of `writeToRows` (row-protocol.ts), which writes an app's *new* values
 * into rows and only has to keep each row's data key. Here the new values are computed from what
 * the row held when it was read (its plaintext, its ciphertext, its wrapped key), so every write
 * must be guarded on all of that content, and a row the app changed in between is re-read and
 * re-planned from its new content. A row that keeps changing is reported, not thrown: a bulk
 * job passes over it and says so, and a rerun finishes it.
 */

/**
 * What a bulk tool implements: how to plan writes from rows as read, write them guarded on that
 * content, and re-read rows by id. No retry logic of its own.
 */
export interface RowRewritePort<Id, Row, Write> {
  /**
   * The writes `rows` need, each made from the row's content as read (rows needing nothing give
   * none). Throws to stop the whole rewrite (e.g. the keyring is down); nothing is written then.
   */
  plan(rows: readonly Row[]): Promise<readonly Write[]>;
  /**
   * Makes each write, guarded on the content it was planned from (`WHERE <id> AND <every
   * column read> IS NOT DISTINCT FROM <what was read>`), and resolves, per write, whether it
   * landed. A miss means the row changed (or vanished) since it was read.
   */
  write(writes: readonly Write[]): Promise<readonly boolean[]>;
  /**
   * Reads rows by id, as `plan` needs them; rows deleted since are left out. Inside a
   * transaction, a locking read where the database has one, so the next pass cannot miss.
   */
  reread(ids: readonly Id[]): Promise<readonly Row[]>;
}

/** Input of {@link rewriteRows}. */
export interface RewriteRowsInput<Id, Row, Write> {
  /** The rows as read. */
  readonly rows: readonly Row[];
  /**
   * Writes already planned for `rows` (e.g. before a transaction began, so keyring calls hold no
   * locks); when absent, `port.plan(rows)` makes them.
   */
  readonly planned?: readonly Write[];
  readonly port: RowRewritePort<Id, Row, Write>;
  /** The row id a write is for (matched with re-read rows). */
  readonly idOf: (write: Write) => Id;
  /**
   * Passes of write, re-read and re-plan before a row whose write still misses is reported as
   * a conflict. Defaults to 3.
   */
  readonly maxAttempts?: number;
}

/** What {@link rewriteRows} did. */
export interface RewriteRowsResult<Id, Write> {
  /** Writes that landed, each row at most once. */
  readonly written: readonly Write[];
  /** Rows whose write missed on every pass (the app kept changing them); nothing was written to them. */
  readonly conflicts: readonly Id[];
  /**
   * Guarded writes that missed over all passes. Rows that missed and were then found deleted,
   * or no longer needing a write, are in neither `written` nor `conflicts`.
   */
  readonly misses: number;
}

/**
 * Writes planned rewrites, then re-reads, re-plans and re-writes the rows whose guarded write
 * missed, up to `maxAttempts` passes. The only implementation of that loop: every bulk job and
 * `rebind` call it, so one race has one outcome in all of them.
 */
export async function rewriteRows<Id, Row, Write>(
  input: RewriteRowsInput<Id, Row, Write>,
): Promise<RewriteRowsResult<Id, Write>> {
  const { port, idOf } = input;
  const maxAttempts = Math.max(1, input.maxAttempts ?? 3);
  const written: Write[] = [];
  let misses = 0;
  let writes = input.planned ?? (await port.plan(input.rows));
  for (let attempt = 1; writes.length > 0; attempt++) {
    const hits = await port.write(writes);
    if (hits.length !== writes.length)
      throw new TypeError(`A rewrite port answered ${hits.length} results for ${writes.length} writes`);
    const missed: Id[] = [];
    writes.forEach((write, i) => {
      if (hits[i] === true) written.push(write);
      else missed.push(idOf(write));
    });
    misses += missed.length;
    if (missed.length === 0) break;
    if (attempt >= maxAttempts) return { written, conflicts: missed, misses };
    // The rows as they are now: a deleted one is gone; one already done (by another worker, or
    // the app's own write through fieldseal) plans no write; the rest are planned again.
    writes = await port.plan(await port.reread(missed));
  }
  return { written, conflicts: [], misses };
}
