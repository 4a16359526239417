import {
  type GuardedRowWrite,
  type RowKeyGuard,
  type RowKeyPort,
  type RowKeyRead,
  type RowValues,
  WriteConflictError,
} from '@fieldseal/core';
import type { ModelInfo } from '../setup/encryption-schema.js';
import { isPlainObject, outputs, rowIdOf } from './context.js';
import { tenantAfterUpdate, tenantInput, tenantOfRow } from './tenant-scope.js';
import type { QueryRunner } from './transaction.js';

/** A row as read for its data key: its id fields and its data-key column. */
export type KeyRow = Record<string, unknown>;

/** The `select` that reads a row's id and data key (and its tenant, for a tenant-scoped model). */
function keySelect(model: ModelInfo): Record<string, true> {
  const select: Record<string, true> = {};
  for (const field of model.idFields) select[field] = true;
  if (model.dataKey) select[model.dataKey] = true;
  if (model.tenant) select[model.tenant] = true;
  return select;
}

/** A filter matching exactly this row. */
function idFilter(model: ModelInfo, row: KeyRow): Record<string, unknown> {
  return Object.fromEntries(model.idFields.map((field) => [field, row[field]]));
}

/** A filter matching exactly these rows. */
export function idsFilter(model: ModelInfo, rows: readonly KeyRow[]): Record<string, unknown> {
  const [only] = model.idFields;
  if (model.idFields.length === 1 && only !== undefined)
    return { [only]: { in: rows.map((row) => row[only]) } };
  return { OR: rows.map((row) => idFilter(model, row)) };
}

/** How one operation reads its rows and makes one guarded write, in Prisma terms. */
export interface RowKeyPortOptions {
  /** The operation's own filter (already rewritten for the blind index). */
  readonly where: Record<string, unknown>;
  /** `findUnique` for a unique where (update, upsert), `findMany` for updateMany. */
  readonly read: 'findUnique' | 'findMany';
  /** At most this many rows (updateMany's `limit`). */
  readonly take?: number;
  /** More fields to read with each row's id and data key (e.g. the encrypted values a result returns). */
  readonly readAlso?: Readonly<Record<string, true>>;
  /** Sees the rows as read (with `readAlso`), before the protocol does; may throw to stop the write. */
  readonly onRead?: (rows: readonly KeyRow[]) => Promise<void>;
  /**
   * Re-read missed rows within `where` too (not by id alone): a row that no longer matches the
   * operation's filter is then left out (reported vanished) instead of retried until
   * `WriteConflictError`. Nested writes use it: their filter includes "belongs to this parent".
   */
  readonly rereadWithinWhere?: boolean;
  /**
   * Runs one write with `where` (the operation's filter, the row's id and its key guard) and
   * `data` (the operation's plain data with the row's ciphertext and data key). Resolves to
   * `undefined` when no row matched.
   */
  readonly write: (where: Record<string, unknown>, data: Record<string, unknown>) => Promise<unknown>;
  /**
   * The operation's plain data: a tenant-scoped row it would move to another tenant is refused
   * as soon as it is read, and a row without a data key gets one bound to the tenant it will have.
   */
  readonly changes?: Record<string, unknown>;
}

/** A {@link RowKeyPort} for one Prisma operation, and what its writes returned. */
export interface PrismaRowKeyPort extends RowKeyPort<KeyRow> {
  /** What each write that hit returned (the updated row, or a count), in write order. */
  readonly results: unknown[];
  /** The operation's own filter. */
  readonly where: Record<string, unknown>;
}

/**
 * The Prisma side of core's row-key protocol: reads ids and data keys in the operation's
 * transaction, and makes each guarded write as one statement. Prisma cannot lock the rows it
 * reads (no `FOR UPDATE`) and its `startsWith` sends the prefix to `LIKE` unescaped (base64url
 * `_` is a wildcard there; SQLite and MySQL also ignore case), so a `prefix` guard is made as
 * equality with the full column text read for that row: stricter, never looser. A concurrent
 * rotation then makes the write miss, and the protocol reads the row again and retries.
 */
export function prismaRowKeyPort(
  model: ModelInfo,
  runner: QueryRunner,
  options: RowKeyPortOptions,
): PrismaRowKeyPort {
  const dataKey = model.dataKey as string;
  const columnTexts = new Map<string, string | null>();
  // The tenant each row had when read: the write is guarded on it too, so a tenant changed in
  // between makes it miss (and the re-read row is encrypted for its new tenant, or refused).
  const tenants = new Map<string, unknown>();
  const results: unknown[] = [];
  const keyOf = (row: KeyRow) => String(rowIdOf(model.idFields, row));
  const remember = (rows: readonly KeyRow[]): RowKeyRead<KeyRow>[] =>
    rows.map((row) => {
      const text = (row[dataKey] ?? null) as string | null;
      const id = idFilter(model, row);
      columnTexts.set(keyOf(id), text);
      if (model.tenant) tenants.set(keyOf(id), row[model.tenant] ?? null);
      const read = { dataKey: text, tenant: tenantOfRow(model, row), rowId: keyOf(id) };
      return { id, dataKey: text, ...tenantInput(tenantAfterUpdate(model, options.changes, read)) };
    });
  const guardFilter = (id: KeyRow, guard: RowKeyGuard): Record<string, unknown> => {
    if (guard.kind === 'absent') return { [dataKey]: null };
    if (guard.kind === 'exact') return { [dataKey]: guard.text };
    const text = columnTexts.get(keyOf(id));
    if (typeof text !== 'string' || !text.startsWith(guard.prefix))
      throw new Error('@fieldseal/prisma: a prefix guard for a row that was not read (bug)');
    return { [dataKey]: text };
  };
  return {
    results,
    where: options.where,
    async readKeys(ids) {
      const where =
        ids === undefined
          ? options.where
          : options.rereadWithinWhere
            ? withConditions(options.where, [idsFilter(model, ids)])
            : idsFilter(model, ids);
      const action = ids === undefined ? options.read : 'findMany';
      const take = ids === undefined && options.take !== undefined ? { take: options.take } : {};
      const select = options.readAlso ? { ...options.readAlso, ...keySelect(model) } : keySelect(model);
      const found = await runner.run(model, action, { where, select, ...take });
      const rows = (Array.isArray(found) ? found : found ? [found] : []) as KeyRow[];
      await options.onRead?.(rows);
      return remember(rows);
    },
    async write(writes: readonly GuardedRowWrite<KeyRow>[]) {
      const hits: boolean[] = [];
      for (const write of writes) {
        const data: Record<string, unknown> = { ...fieldsOf(model, write.values) };
        if (write.dataKey !== undefined) data[dataKey] = write.dataKey;
        const tenant =
          model.tenant === undefined ? undefined : { [model.tenant]: tenants.get(keyOf(write.id)) };
        const where = withConditions(options.where, [write.id, guardFilter(write.id, write.guard), tenant]);
        const result = await options.write(where, data);
        hits.push(result !== undefined);
        if (result !== undefined) results.push(result);
      }
      return hits;
    },
  };
}

/** The protocol's values are keyed by column; Prisma's data by field. */
function fieldsOf(model: ModelInfo, values: GuardedRowWrite<KeyRow>['values']): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of model.encrypted.values())
    if (field.column in values) out[field.name] = values[field.column];
  return out;
}

/** `where` AND `conditions`, keeping `where`'s own keys on top (a unique where stays unique). */
export function withConditions(
  where: Record<string, unknown>,
  conditions: readonly unknown[],
): Record<string, unknown> {
  const previous = where.AND === undefined ? [] : Array.isArray(where.AND) ? where.AND : [where.AND];
  return { ...where, AND: [...previous, ...conditions.filter(isPlainObject)] };
}

/** The input of `envelope.writeToRows` for one model's values (with the port and the rows read, the caller's). */
export function protocolInput(model: ModelInfo, values: RowValues) {
  return {
    table: model.table,
    values,
    idOf: (id: Record<string, unknown>) => rowIdOf(model.idFields, id) ?? JSON.stringify(id),
    output: outputs(model),
  };
}

/** True when `values` writes at least one encrypted column. */
export function hasValues(values: RowValues): boolean {
  return Object.values(values).some((value) => value !== undefined);
}

/** A where no row matches: the data-key column both null and not null. */
export function nothing(model: ModelInfo, where: Record<string, unknown>): Record<string, unknown> {
  const column = model.dataKey as string;
  return withConditions(where, [{ [column]: null }, { NOT: { [column]: null } }]);
}

const ATTEMPTS = 3;

/**
 * A write of no encrypted value (plain fields only, or a delete) through `port`, guarded on the
 * row's data key as read; a miss re-reads the row and retries, as core's protocol does for
 * encrypted values, up to 3 times (then `WriteConflictError`, nothing written).
 */
export async function writeKeyGuarded(
  model: ModelInfo,
  port: PrismaRowKeyPort,
  first: { id: KeyRow; dataKey: string | null },
): Promise<void> {
  let row: typeof first | undefined = first;
  for (let attempt = 1; row; attempt++) {
    const guard =
      row.dataKey === null ? { kind: 'absent' as const } : { kind: 'exact' as const, text: row.dataKey };
    const [hit] = await port.write([{ id: row.id, guard, values: {}, dataKey: undefined }]);
    if (hit) return;
    if (attempt >= ATTEMPTS) {
      throw new WriteConflictError(
        `the row changed between read and write ${ATTEMPTS} times in a row; nothing was written — retry the operation`,
        { location: { table: model.table, rowId: rowIdOf(model.idFields, row.id) ?? '?' } },
      );
    }
    [row] = await port.readKeys([row.id]);
  }
}
