import { type EntityManager, In, type ObjectLiteral, UpdateResult } from 'typeorm';
import { encryptForRow, type RowKey, readRowKeys } from './data-key-claim.js';
import type { EntityPlan } from './entity-plan.js';
import { UnsupportedOperationError } from './errors.js';
import { base, inTransaction, type Runtime } from './runtime.js';

/** Rows per UPDATE … WHERE id IN (…): far below every driver's bound-parameter limit. */
const CHUNK = 500;
/** Attempts for rows whose data key was re-wrapped (rotated) between the read and the write. */
const ATTEMPTS = 3;

/** Rejects values an application must never write, and raw SQL on encrypted columns. */
export function checkPartial(plan: EntityPlan, partial: ObjectLiteral): void {
  for (const property of Object.keys(partial)) {
    const value = partial[property];
    if (value === undefined) continue;
    const fail = (code: 'forbidden-write' | 'unsupported-operation', why: string, column: string) =>
      new UnsupportedOperationError(code, why, {
        entity: plan.entity,
        property,
        location: { table: plan.table, column },
      });
    const index = plan.indexes.get(property);
    if (index)
      throw fail(
        'forbidden-write',
        `"${property}" is a blind-index column that fieldseal maintains; the application must not write it`,
        index.column,
      );
    if (property === plan.dataKey.property)
      throw fail(
        'forbidden-write',
        `"${property}" is the data-key column that fieldseal maintains; the application must not write it`,
        plan.dataKey.column,
      );
    const field = plan.encrypted.get(property);
    if (field && typeof value === 'function')
      throw fail(
        'unsupported-operation',
        'A raw SQL expression cannot be written into an encrypted column',
        field.column,
      );
  }
}

/**
 * `update(criteria, partial)` when `partial` sets encrypted properties, keeping the per-row
 * invariant: in one transaction, read the matching rows' ids and data keys, then write per
 * group of rows sharing a data-key value — one ciphertext serves the group, since values are
 * bound to table and column, not row — with `WHERE id IN (…) AND dataKey = <that value>`.
 * Rows without a key get one first (see `encryptForRow`). A row whose key was re-wrapped
 * meanwhile (`dataKey` no longer equal) is re-read and retried.
 */
export async function encryptedUpdate(
  runtime: Runtime,
  manager: EntityManager,
  plan: EntityPlan,
  where: unknown,
  partial: ObjectLiteral,
): Promise<UpdateResult> {
  return inTransaction(manager, async (tx) => {
    let pending = await readRowKeys(tx, plan, { where });
    let affected = 0;
    for (let attempt = 0; attempt < ATTEMPTS && pending.length > 0; attempt++) {
      const missed: RowKey[] = [];
      for (const row of pending.filter((r) => r.dataKey === null)) {
        const write = await encryptForRow(runtime, tx, plan, row, partial);
        const updated = await writeGroup(runtime, tx, plan, [row], write.dataKey, {
          ...partial,
          ...write.values,
        });
        affected += updated;
        if (updated === 0) missed.push(row);
      }
      const groups = new Map<string, RowKey[]>();
      for (const row of pending)
        if (row.dataKey !== null) groups.set(row.dataKey, [...(groups.get(row.dataKey) ?? []), row]);
      for (const [dataKey, rows] of groups) {
        const write = await runtime.cipher.encrypt(plan, partial, dataKey);
        for (let at = 0; at < rows.length; at += CHUNK) {
          const chunk = rows.slice(at, at + CHUNK);
          const updated = await writeGroup(runtime, tx, plan, chunk, dataKey, {
            ...partial,
            ...write.values,
          });
          affected += updated;
          if (updated < chunk.length) missed.push(...chunk);
        }
      }
      if (missed.length === 0) break;
      // Updated rows of a short chunk still hold the same key; only re-wrapped ones are retried.
      const current = await readRowKeys(tx, plan, { ids: missed.map((r) => r.id), lock: true });
      const before = new Map(missed.map((r) => [key(r.id), r.dataKey]));
      pending = current.filter((r) => r.dataKey !== before.get(key(r.id)));
    }
    const result = new UpdateResult();
    result.affected = affected;
    result.raw = [];
    return result;
  });
}

async function writeGroup(
  runtime: Runtime,
  tx: EntityManager,
  plan: EntityPlan,
  rows: readonly RowKey[],
  dataKey: string,
  values: ObjectLiteral,
): Promise<number> {
  runtime.internal.add(values);
  const primary = plan.metadata.primaryColumns;
  const where =
    primary.length === 1
      ? {
          [primary[0]!.propertyName]: In(rows.map((r) => r.id[primary[0]!.propertyName])),
          [plan.dataKey.property]: dataKey,
        }
      : rows.map((r) => ({ ...r.id, [plan.dataKey.property]: dataKey }));
  const result = await base.update.call(tx, plan.metadata.target, where, values);
  return result.affected ?? rows.length;
}

function key(id: ObjectLiteral): string {
  return JSON.stringify(Object.entries(id).sort(([a], [b]) => (a < b ? -1 : 1)));
}
