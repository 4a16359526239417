import type { GuardedRowWrite, RowKeyGuard, RowKeyPort, RowKeyRead } from '@fieldseal/core';
import type { ModelInfo } from '../setup/encryption-schema.js';
import { isPlainObject } from './context.js';
import { rowIdOf } from './result-decryption.js';
import { idFilter, idsFilter, type KeyRow, keySelect } from './row-filters.js';
import { tenantAfterUpdate, tenantInput, tenantOfRow } from './tenant-scope.js';
import type { QueryRunner } from './transaction.js';

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
