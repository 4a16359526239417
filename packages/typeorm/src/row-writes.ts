import { type RowEnvelope, type RowValues, WriteConflictError } from '@fieldseal/core';

/** One row's id and data-key column as read. */
export interface RowKeyRead<Id> {
  readonly id: Id;
  readonly dataKey: string | null;
}

/** What a guarded write checks about the row's data-key column. */
export type RowKeyGuard =
  | { kind: 'absent' }
  | { kind: 'prefix'; prefix: string }
  | { kind: 'exact'; text: string };

/** One guarded UPDATE of one row. */
export interface GuardedRowWrite<Id> {
  readonly id: Id;
  readonly guard: RowKeyGuard;
  readonly values: Readonly<Record<string, string | Uint8Array | null>>;
  readonly dataKey: string | undefined;
}

/** What an adapter provides to write existing rows. */
export interface RowKeyPort<Id> {
  readKeys(ids?: readonly Id[]): Promise<readonly RowKeyRead<Id>[]>;
  write(writes: readonly GuardedRowWrite<Id>[]): Promise<readonly boolean[]>;
}

/** Input of {@link writeToRows}. */
export interface WriteToRowsInput<Id> {
  readonly table: string;
  readonly values: RowValues;
  readonly port: RowKeyPort<Id>;
  idOf(id: Id): string | number | bigint;
  readonly known?: readonly RowKeyRead<Id>[];
  readonly maxAttempts?: number;
  readonly output?: Readonly<Record<string, 'text' | 'binary'>>;
}

/**
 * Writes `values` into existing rows, each under the data key it holds, with one guarded
 * statement per row; rows whose key changed or vanished between read and write are re-read
 * and retried. Stand-in with core's `RowEnvelope.writeToRows` contract until it lands.
 */
export async function writeToRows<Id>(
  envelope: RowEnvelope,
  input: WriteToRowsInput<Id>,
): Promise<{ written: Id[]; vanished: Id[] }> {
  const written: Id[] = [];
  const vanished: Id[] = [];
  let pending = input.known ?? (await input.port.readKeys());
  for (let attempt = 0; attempt < (input.maxAttempts ?? 3); attempt++) {
    if (pending.length === 0) return { written, vanished };
    const writes = await Promise.all(
      pending.map(async (row): Promise<GuardedRowWrite<Id>> => {
        const sealed = await envelope.encryptForRow({
          table: input.table,
          values: input.values,
          dataKey: row.dataKey,
          ...(input.output ? { output: input.output } : {}),
        });
        return {
          id: row.id,
          guard: row.dataKey === null ? { kind: 'absent' } : { kind: 'exact', text: row.dataKey },
          values: sealed.values as GuardedRowWrite<Id>['values'],
          dataKey: sealed.isNewKey ? sealed.dataKey : undefined,
        };
      }),
    );
    const hits = await input.port.write(writes);
    const missed = pending.filter((_, i) => !hits[i]);
    pending.forEach((row, i) => {
      if (hits[i]) written.push(row.id);
    });
    if (missed.length === 0) return { written, vanished };
    const current = await input.port.readKeys(missed.map((row) => row.id));
    const ids = new Set(current.map((row) => String(input.idOf(row.id))));
    for (const row of missed) if (!ids.has(String(input.idOf(row.id)))) vanished.push(row.id);
    pending = current;
  }
  if (pending.length === 0) return { written, vanished };
  throw new WriteConflictError(
    `${pending.length} row(s) of ${input.table} changed data key between read and write on every attempt; retry`,
    { location: { table: input.table } },
  );
}
