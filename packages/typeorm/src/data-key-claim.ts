import { type EntityManager, IsNull, type ObjectLiteral, type SelectQueryBuilder } from 'typeorm';
import type { EncryptedWrite } from './entity-cipher.js';
import type { EntityPlan } from './entity-plan.js';
import { base, type Runtime } from './runtime.js';

/** One row's primary key (`{ id: 7 }`) and its data-key column as read. */
export interface RowKey {
  readonly id: ObjectLiteral;
  readonly dataKey: string | null;
}

// MySQL/MariaDB's REPEATABLE READ would otherwise answer a re-read from the transaction's
// snapshot, hiding a data key another writer just committed. SQLite has one writer anyway.
function lockMode(manager: EntityManager): 'pessimistic_write' | undefined {
  const type = manager.connection.options.type;
  return type === 'postgres' || type === 'mysql' || type === 'mariadb' ? 'pessimistic_write' : undefined;
}

/**
 * Reads the primary key and data-key column of the rows matching `where` (a find-options
 * where, already rewritten) — or of exactly `ids` — in the manager's transaction.
 * Soft-deleted rows are included, as TypeORM's `update()` includes them.
 */
export async function readRowKeys(
  manager: EntityManager,
  plan: EntityPlan,
  select: { where?: unknown; ids?: readonly ObjectLiteral[]; lock?: boolean },
): Promise<RowKey[]> {
  const alias = 'fieldseal_row';
  const columns = [
    ...plan.metadata.primaryColumns.map((c) => `${alias}.${c.propertyPath}`),
    `${alias}.${plan.dataKey.property}`,
  ];
  const qb = (
    base.createQueryBuilder as (
      this: EntityManager,
      target: unknown,
      alias: string,
    ) => SelectQueryBuilder<ObjectLiteral>
  )
    .call(manager, plan.metadata.target, alias)
    .select(columns)
    .withDeleted();
  if (select.ids) qb.whereInIds(select.ids as ObjectLiteral[]);
  else if (select.where !== undefined) qb.setFindOptions({ where: select.where as never, withDeleted: true });
  const lock = select.lock ? lockMode(manager) : undefined;
  if (lock && manager.queryRunner?.isTransactionActive) qb.setLock(lock);
  const rows = await qb.getMany();
  return rows.map((row) => ({
    id: plan.metadata.getEntityIdMap(row) as ObjectLiteral,
    dataKey: (row[plan.dataKey.property] as string | null | undefined) ?? null,
  }));
}

/**
 * Encrypts `values` for one existing row under the data key the row holds. A row without one
 * (legacy plaintext) gets a new key, claimed with `UPDATE … SET dataKey = new WHERE id = …
 * AND dataKey IS NULL` *before* any value is written: if another writer claimed first, its key
 * is read back (with a locking read) and used instead, so a row never holds values under two
 * keys. Call it inside the transaction of the write that follows.
 */
export async function encryptForRow(
  runtime: Runtime,
  manager: EntityManager,
  plan: EntityPlan,
  row: RowKey,
  values: ObjectLiteral,
  rowId?: string | number,
): Promise<EncryptedWrite> {
  if (row.dataKey !== null) return runtime.cipher.encrypt(plan, values, row.dataKey, rowId);
  const fresh = await runtime.cipher.encrypt(plan, values, null, rowId);
  const claim = { [plan.dataKey.property]: fresh.dataKey };
  runtime.internal.add(claim);
  const result = await base.update.call(
    manager,
    plan.metadata.target,
    { ...row.id, [plan.dataKey.property]: IsNull() },
    claim,
  );
  if (result.affected === 1) return fresh;
  const [current] = await readRowKeys(manager, plan, { ids: [row.id], lock: true });
  // Row gone: whatever follows updates nothing, so the fresh values are never stored.
  if (!current || current.dataKey === null) return fresh;
  return runtime.cipher.encrypt(plan, values, current.dataKey, rowId);
}
