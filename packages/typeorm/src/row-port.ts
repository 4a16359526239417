import type { GuardedRowWrite, RowKeyGuard, RowKeyPort, RowKeyRead } from '@fieldseal/core';
import type { ObjectLiteral, QueryRunner, UpdateQueryBuilder } from 'typeorm';
import { type EntityPlan, rowIdOf } from './entity-plan.js';
import { managedOf } from './insert-path.js';
import type { Runtime } from './runtime.js';
import { tenantAfterUpdate, tenantInput, tenantText } from './tenant-scope.js';
import type { UpdateBuilder } from './update-path.js';
import { checkFits, copyValueSet, sealed } from './value-sets.js';

/** The TypeORM side of the row-key protocol for one update, plus its transaction. */
export interface TypeormRowPort extends RowKeyPort<ObjectLiteral> {
  /** Keys already known for `save()`'s rows (loaded just before), or undefined. */
  known(): RowKeyRead<ObjectLiteral>[] | undefined;
  idOf(id: ObjectLiteral): string | number;
  /** Commits (or rolls back) the transaction the port opened, if it opened one. */
  finish(ok: boolean): Promise<void>;
  readonly generatedMaps: ObjectLiteral[];
}

/**
 * Reads ids and data keys of the update's rows with the builder's own WHERE (or of given ids,
 * still within that WHERE), then writes one `UPDATE … WHERE <the update's WHERE> AND <id> AND
 * <key guard>` per row with the update's plain columns. No lock and no transaction of its own
 * for one row: the statement re-checks the caller's WHERE and the row's key identity, and a miss
 * makes the protocol read the row again (a row that stopped matching drops out, as if this update
 * had run after the change). Several rows are written in one transaction (opened when none is
 * active) so the update stays all-or-nothing; inside a caller's transaction the read locks the
 * rows (`FOR UPDATE` on PostgreSQL and MariaDB). The guard compares a prefix with `substr(…) =`,
 * never `LIKE` (base64url text contains `_`).
 */
export function rowPort(
  runtime: Runtime,
  plan: EntityPlan,
  builder: UpdateBuilder,
  queryRunner: QueryRunner,
  plain: ObjectLiteral,
  indexes: ObjectLiteral,
  saving: boolean,
  changes: ObjectLiteral,
): TypeormRowPort {
  const driver = queryRunner.connection.driver;
  const type = queryRunner.connection.options.type;
  const canLock = type === 'postgres' || type === 'mysql' || type === 'mariadb';
  const primary = plan.metadata.primaryColumns;
  const q = (name: string) => driver.escape(name);
  const dataKey = q(plan.dataKey.column);
  let opened = false;
  const generatedMaps: ObjectLiteral[] = [];

  const begin = async () => {
    if (queryRunner.isTransactionActive) return;
    await queryRunner.startTransaction();
    opened = true;
  };
  const idOf = (id: ObjectLiteral) => rowIdOf(plan, id) as string | number;
  const tenantsRead = new Map<string, unknown>();
  // The data-key column text each row had when read (or as known), to remember after a write.
  const keysSeen = new Map<string, string | null>();
  const toRead = (row: ObjectLiteral): RowKeyRead<ObjectLiteral> => {
    const id: ObjectLiteral = {};
    primary.forEach((column, i) => {
      column.setEntityValue(id, driver.prepareHydratedValue(row[`fs_pk${i}`], column));
    });
    const dataKey = (row.fs_dk as string | null | undefined) ?? null;
    keysSeen.set(String(idOf(id)), dataKey);
    if (!plan.tenant) return { id, dataKey };
    // The write is guarded on the tenant as read, too: one changed in between makes it miss.
    tenantsRead.set(String(idOf(id)), row.fs_tn ?? null);
    const read = { dataKey, tenant: tenantText(row.fs_tn), rowId: idOf(id) };
    return { id, dataKey, ...tenantInput(tenantAfterUpdate(plan, changes, read)) };
  };

  return {
    generatedMaps,
    idOf,
    known() {
      // A tenant-scoped row is always read: its tenant is checked and bound as stored.
      if (plan.tenant) return undefined;
      if (!saving) {
        // `update(id, …)`: the row's key as last seen (loaded, inserted or written here) saves
        // the key read; a stale guess misses the guard and the protocol reads the row.
        const id = idOnlyCriteria(plan, builder);
        const dataKey = id === undefined ? undefined : runtime.knownKeys.get(plan.table, idOf(id));
        if (id === undefined || dataKey === undefined) return undefined;
        keysSeen.set(String(idOf(id)), dataKey);
        return [{ id, dataKey }];
      }
      const rows: RowKeyRead<ObjectLiteral>[] = [];
      for (const entity of builder.expressionMap.whereEntities as ObjectLiteral[]) {
        const id = plan.metadata.getEntityIdMap(entity);
        const rowId = rowIdOf(plan, entity);
        const dataKey = rowId === undefined ? undefined : runtime.knownKeys.get(plan.table, rowId);
        if (!id || dataKey === undefined) return undefined;
        keysSeen.set(String(rowId), dataKey);
        rows.push({ id, dataKey });
      }
      return rows;
    },
    async readKeys(ids) {
      const columns = [
        ...primary.map((c, i) => `${q(c.databaseName)} AS ${q(`fs_pk${i}`)}`),
        `${dataKey} AS ${q('fs_dk')}`,
        ...(plan.tenant ? [`${q(plan.tenant.column)} AS ${q('fs_tn')}`] : []),
      ].join(', ');
      const from = builder.getTableName(builder.getMainTableName());
      if (ids !== undefined && ids.length === 0) return [];
      // The update's own WHERE, always: a row re-read after a miss must still match it.
      const own = builder.replacePropertyNamesForTheWholeQuery(builder.createWhereExpression()).trim();
      const conditions = own === '' ? [] : [`(${own.replace(/^WHERE\s+/i, '')})`];
      const parameters: ObjectLiteral = { ...builder.getParameters() };
      if (ids !== undefined) {
        const byId = ids.map((id, i) => {
          const parts = primary.map((c, j) => {
            parameters[`fs_id_${i}_${j}`] = c.getEntityValue(id);
            return `${q(c.databaseName)} = :fs_id_${i}_${j}`;
          });
          return `(${parts.join(' AND ')})`;
        });
        conditions.push(`(${byId.join(' OR ')})`);
      }
      const where = conditions.length === 0 ? '' : ` WHERE ${conditions.join(' AND ')}`;
      const lock = canLock && queryRunner.isTransactionActive ? ' FOR UPDATE' : '';
      const [sql, bound] = driver.escapeQueryWithParameters(
        `SELECT ${columns} FROM ${from}${where}${lock}`,
        parameters,
      );
      const rows = (await queryRunner.query(sql, bound)) as ObjectLiteral[];
      return rows.map(toRead);
    },
    async write(writes) {
      // One row: one statement, atomic on its own. Several: all or none, like TypeORM's UPDATE.
      if (writes.length > 1) await begin();
      const hits: boolean[] = [];
      for (const write of writes) {
        const set = rowValues(plan, plain, indexes, write);
        // A clone of the caller's builder keeps its WHERE (and parameters); the id and the key
        // guard are added to it, with parameter names of their own.
        const update = (builder as unknown as UpdateQueryBuilder<ObjectLiteral>)
          .clone()
          .setQueryRunner(queryRunner)
          .set(set)
          .callListeners(false)
          .updateEntity(saving && builder.expressionMap.updateEntity);
        if (!saving) update.andWhereInIds(write.id);
        const [condition, parameters] = guardSql(dataKey, write.guard);
        update.andWhere(condition, parameters);
        if (plan.tenant) {
          const tenant = tenantsRead.get(String(idOf(write.id)));
          const column = q(plan.tenant.column);
          if (tenant === null || tenant === undefined) update.andWhere(`${column} IS NULL`);
          else update.andWhere(`${column} = :fs_tenant`, { fs_tenant: tenant });
        }
        const result = await update.execute();
        hits.push(result.affected === 1);
        // The row now holds the key written with it, or the one it was read (or known) with.
        if (result.affected === 1) {
          const text = write.dataKey ?? keysSeen.get(String(idOf(write.id)));
          if (typeof text === 'string') runtime.knownKeys.remember(plan.table, idOf(write.id), text);
        }
        if (result.affected === 1 && saving)
          generatedMaps.push({ ...result.generatedMaps[0], ...managedOf(plan, set) });
      }
      return hits;
    },
    async finish(ok) {
      if (!opened) return;
      opened = false;
      if (ok) await queryRunner.commitTransaction();
      else await queryRunner.rollbackTransaction().catch(() => undefined);
    },
  };
}

/**
 * The row id when the update's WHERE is exactly "primary key = value" as TypeORM builds it for
 * `update(id, …)`, `update({ id }, …)` and `whereInIds(id)` (a single-column key); otherwise
 * undefined (any other condition, several ids, a raw-string WHERE). Read from the builder's
 * structured conditions, never from SQL text.
 */
function idOnlyCriteria(plan: EntityPlan, builder: UpdateBuilder): ObjectLiteral | undefined {
  const primary = plan.metadata.primaryColumns;
  const wheres = builder.expressionMap.wheres as unknown as readonly {
    type?: unknown;
    condition?: unknown;
  }[];
  if (primary.length !== 1 || wheres.length !== 1) return undefined;
  const [where] = wheres;
  if (where?.type !== 'simple' || !Array.isArray(where.condition) || where.condition.length !== 1)
    return undefined;
  const only = where.condition[0] as {
    type?: unknown;
    condition?: { operator?: unknown; parameters?: unknown };
  };
  const parameters = only.condition?.parameters;
  if (only.type !== 'and' || only.condition?.operator !== 'equal' || !Array.isArray(parameters))
    return undefined;
  const column = primary[0] as (typeof primary)[number];
  const [path, placeholder] = parameters as unknown[];
  if (parameters.length !== 2 || (path !== column.propertyPath && path !== column.databaseName))
    return undefined;
  if (typeof placeholder !== 'string' || !placeholder.startsWith(':')) return undefined;
  const all = builder.getParameters();
  const name = placeholder.slice(1);
  if (!Object.hasOwn(all, name)) return undefined;
  const value = all[name];
  if (typeof value !== 'number' && typeof value !== 'string' && typeof value !== 'bigint') return undefined;
  const id: ObjectLiteral = {};
  column.setEntityValue(id, value);
  return id;
}

/** The update's plain columns plus this row's ciphertext (and new data key, if any). */
function rowValues(
  plan: EntityPlan,
  plain: ObjectLiteral,
  indexes: ObjectLiteral,
  write: GuardedRowWrite<ObjectLiteral>,
) {
  const set = copyValueSet(plan.metadata, plain);
  for (const field of plan.encrypted.values()) {
    if (!(field.column in write.values)) continue;
    const stored = write.values[field.column];
    checkFits(plan, field, stored);
    field.metadata.setEntityValue(set, stored);
  }
  Object.assign(set, indexes);
  if (write.dataKey !== undefined) {
    checkFits(plan, undefined, write.dataKey);
    set[plan.dataKey.property] = write.dataKey;
  }
  sealed.add(set);
  return set;
}

function guardSql(column: string, guard: RowKeyGuard): [string, ObjectLiteral] {
  switch (guard.kind) {
    case 'absent':
      return [`${column} IS NULL`, {}];
    case 'exact':
      return [`${column} = :fs_guard`, { fs_guard: guard.text }];
    case 'prefix':
      return [`substr(${column}, 1, ${guard.prefix.length}) = :fs_guard`, { fs_guard: guard.prefix }];
  }
}
