import { WriteConflictError } from './errors.js';
import type { EncryptedRowWrite, EncryptRowInput, RowValues } from './row-envelope.js';

/** One row's id (in the adapter's terms) and its data-key column as read. */
export interface RowKeyRead<Id> {
  readonly id: Id;
  readonly dataKey: string | null;
  /**
   * The row's tenant column, for models scoped to a tenant: a port that reads it lets one
   * operation write rows of several tenants. Overrides `WriteToRowsInput.tenant`.
   */
  readonly tenant?: string | undefined;
}

/**
 * The condition on a row's data-key column under which a write made for that row is valid.
 * - `absent`: the column is still NULL (claiming a key for a legacy row);
 * - `prefix`: the column starts with `prefix`, the row's key identity `fsk2:<salt>.` that
 *   rotation keeps. In SQL: `substr(column, 1, <length>) = ?` — never `LIKE`, since base64url
 *   contains `_`, a `LIKE` wildcard;
 * - `exact`: the column equals `text` (a v1 row, upgraded to v2 by this write).
 */
export type RowKeyGuard =
  | { readonly kind: 'absent' }
  | { readonly kind: 'prefix'; readonly prefix: string }
  | { readonly kind: 'exact'; readonly text: string };

/** One guarded write the protocol asks a port to make. */
export interface GuardedRowWrite<Id> {
  readonly id: Id;
  readonly guard: RowKeyGuard;
  /** Stored values (ciphertext or null) of the encrypted columns, by the names given in `values`. */
  readonly values: Readonly<Record<string, string | Uint8Array | null>>;
  /** New data-key column text to write in the same statement, or `undefined` to leave the column alone. */
  readonly dataKey: string | undefined;
}

/**
 * What an adapter (or the CLI) implements so core can write encrypted values into existing
 * rows. Two calls; no race handling of its own.
 */
export interface RowKeyPort<Id> {
  /**
   * Reads ids and data-key columns: of the operation's own rows when `ids` is undefined, else
   * of exactly `ids` (rows that no longer exist are left out). Inside the operation's
   * transaction when it has one, with a locking read (`FOR UPDATE`) where the database has one.
   */
  readKeys(ids?: readonly Id[]): Promise<readonly RowKeyRead<Id>[]>;
  /**
   * Makes each write as one statement `UPDATE … SET <values>[, <data key>][, <the operation's
   * plain columns>] WHERE <id> AND <guard>`, and resolves, per write, whether it hit the row.
   */
  write(writes: readonly GuardedRowWrite<Id>[]): Promise<readonly boolean[]>;
}

/** Input of `RowEnvelope.writeToRows`. */
export interface WriteToRowsInput<Id> {
  /** The table name bound into values and data keys. */
  readonly table: string;
  /** Plaintext of the encrypted columns to write (`null` clears a column; `undefined` leaves it). */
  readonly values: RowValues;
  readonly port: RowKeyPort<Id>;
  /** The row id as named in errors (and used to match re-read rows with missed ones). */
  readonly idOf: (id: Id) => string | number | bigint;
  /** Data keys the adapter already holds for the rows (e.g. of a loaded entity): skips the first read. */
  readonly known?: readonly RowKeyRead<Id>[];
  /** Passes through write-read-retry before giving up with `WriteConflictError`. Defaults to 3. */
  readonly maxAttempts?: number;
  /** Per column `text` or `binary`; see `EncryptRowInput.output`. */
  readonly output?: EncryptRowInput['output'];
  /** The rows' tenant, when every row has the same one; see `EncryptRowInput.tenant` and `RowKeyRead.tenant`. */
  readonly tenant?: string | undefined;
}

/** What `writeToRows` did. */
export interface WriteToRowsResult<Id> {
  /** Rows written (each exactly once). */
  readonly written: readonly Id[];
  /** Rows that were read but deleted before they could be written. Nothing was written to them. */
  readonly vanished: readonly Id[];
}

/** The part of `RowEnvelope` the protocol uses. */
interface RowEncryptor {
  encryptForRow(input: EncryptRowInput & { readonly dataKey: unknown }): Promise<EncryptedRowWrite>;
}

/**
 * The row-key protocol: the one implementation of "every encrypted value of a row opens with
 * the data key stored in that row" for writes to existing rows. See `RowEnvelope.writeToRows`.
 */
export async function writeToRows<Id>(
  envelope: RowEncryptor,
  input: WriteToRowsInput<Id>,
): Promise<WriteToRowsResult<Id>> {
  const { table, port, idOf } = input;
  const maxAttempts = input.maxAttempts ?? 3;
  const written: Id[] = [];
  const vanished: Id[] = [];
  let pending = input.known ?? (await port.readKeys());
  for (let attempt = 1; pending.length > 0; attempt++) {
    const writes: GuardedRowWrite<Id>[] = [];
    for (const row of pending) {
      const tenant = row.tenant ?? input.tenant;
      const encrypted = await envelope.encryptForRow({
        ...(tenant === undefined ? {} : { tenant }),
        table,
        values: input.values,
        dataKey: row.dataKey,
        errorRowId: idOf(row.id),
        ...(input.output ? { output: input.output } : {}),
      });
      const values: Record<string, string | Uint8Array | null> = {};
      for (const column in encrypted.values) {
        const value = encrypted.values[column];
        if (value !== undefined) values[column] = value;
      }
      writes.push({
        id: row.id,
        guard: encrypted.guard,
        values,
        dataKey: encrypted.dataKeyChanged ? encrypted.dataKey : undefined,
      });
    }
    const hits = await port.write(writes);
    const missed: Id[] = [];
    writes.forEach((write, i) => {
      if (hits[i] === true) written.push(write.id);
      else missed.push(write.id);
    });
    if (missed.length === 0) break;
    if (attempt >= maxAttempts) {
      throw new WriteConflictError(
        `${missed.length} row(s) changed their data key between read and write ${maxAttempts} times in a row (deleted and re-inserted, or claimed by another writer); nothing more was written to them — retry the operation`,
        { location: { table, rowId: idOf(missed[0] as Id) } },
      );
    }
    // Re-read the rows that missed: a row still there has a new key identity; one gone vanished.
    const current = await port.readKeys(missed);
    const present = new Set(current.map((row) => String(idOf(row.id))));
    for (const id of missed) if (!present.has(String(idOf(id)))) vanished.push(id);
    pending = current;
  }
  return { written, vanished };
}
