import type { InsertQueryBuilder, InsertResult, ObjectLiteral } from 'typeorm';
import { type EntityPlan, rowIdOf } from './entity-plan.js';
import { UnsupportedOperationError } from './errors.js';
import type { Runtime } from './runtime.js';
import { checkFits, copyValueSet, refuseRawSql, sealed } from './value-sets.js';

/** The parts of TypeORM's insert builder fieldseal reads (protected in its typings). */
export type InsertBuilder = Pick<InsertQueryBuilder<ObjectLiteral>, 'expressionMap'> & {
  getValueSets(): ObjectLiteral[];
};

/**
 * The last step before TypeORM builds an INSERT: every listener has run. Replaces the
 * builder's value sets with sealed copies (ciphertext, a fresh data key per row, blind
 * indexes), adds the managed columns to an explicit column list, and returns a function that
 * puts the caller's objects back and copies generated values (ids, dates) into them.
 */
export async function sealInsert(runtime: Runtime, plan: EntityPlan, builder: InsertBuilder) {
  const map = builder.expressionMap;
  if (map.onUpdate) {
    throw new UnsupportedOperationError(
      'unsupported-operation',
      'INSERT … ON CONFLICT DO UPDATE (orUpdate) on an entity with encrypted columns could mix two data keys in one row; use repository.upsert() or save()',
      { entity: plan.entity, location: { table: plan.table } },
    );
  }
  if (map.insertFromSelect) {
    throw new UnsupportedOperationError(
      'unsupported-operation',
      'INSERT … SELECT into an entity with encrypted columns copies values the database cannot re-encrypt; insert entities instead',
      { entity: plan.entity, location: { table: plan.table } },
    );
  }
  const originals = builder.getValueSets();
  const copies = await Promise.all(originals.map((valueSet) => sealRow(runtime, plan, valueSet)));
  const valuesSet = map.valuesSet;
  const insertColumns = map.insertColumns;
  (map as { valuesSet?: ObjectLiteral | ObjectLiteral[] | undefined }).valuesSet = Array.isArray(valuesSet)
    ? copies
    : copies[0];
  if (insertColumns.length > 0) map.insertColumns = withManaged(plan, insertColumns);
  return (result: InsertResult | undefined): void => {
    (map as { valuesSet?: ObjectLiteral | ObjectLiteral[] | undefined }).valuesSet = valuesSet;
    map.insertColumns = insertColumns;
    if (!result) return;
    copies.forEach((copy, i) => {
      copyGenerated(plan, copy, originals[i] as ObjectLiteral);
      // Like generated ids, the row's data key and blind indexes come back to the caller
      // (save() merges generated maps into the entity).
      const managed = managedOf(plan, copy);
      Object.assign(originals[i] as ObjectLiteral, managed);
      result.generatedMaps[i] = { ...result.generatedMaps[i], ...managed };
      // A later `update(id, …)` of this row can guess its key instead of reading it (a wrong
      // guess, e.g. after a rollback, only misses the write's guard and is read again).
      const rowId = rowIdOf(plan, result.identifiers[i]);
      const dataKey = copy[plan.dataKey.property];
      if (rowId !== undefined && typeof dataKey === 'string')
        runtime.knownKeys.remember(plan.table, rowId, dataKey);
    });
  };
}

async function sealRow(runtime: Runtime, plan: EntityPlan, valueSet: ObjectLiteral): Promise<ObjectLiteral> {
  refuseRawSql(plan, valueSet);
  const copy = copyValueSet(plan.metadata, valueSet);
  const write = await runtime.cipher.encrypt(plan, valueSet, undefined);
  for (const field of plan.encrypted.values()) {
    if (!(field.property in write.values)) continue;
    const stored = write.values[field.property];
    checkFits(plan, field, stored);
    field.metadata.setEntityValue(copy, stored);
  }
  // A new row's managed columns are fieldseal's: whatever the object carried (a copy of a
  // loaded entity, a re-save after remove()) is replaced, never written.
  for (const index of plan.indexes.values()) copy[index.property] = write.values[index.property] ?? null;
  checkFits(plan, undefined, write.dataKey);
  copy[plan.dataKey.property] = write.dataKey;
  sealed.add(copy);
  return copy;
}

/** `into(User, ['email'])`: the data key and blind index go with the value, always. */
function withManaged(plan: EntityPlan, columns: readonly string[]): string[] {
  const out = [...columns];
  const add = (path: string) => {
    if (!out.includes(path)) out.push(path);
  };
  for (const field of plan.encrypted.values()) {
    if (!columns.includes(field.property)) continue;
    add(plan.dataKey.property);
    const index = plan.indexBySource.get(field.property);
    if (index) add(index.property);
  }
  return out;
}

/** The data-key and blind-index values of a sealed value set. */
export function managedOf(plan: EntityPlan, sealedSet: ObjectLiteral): ObjectLiteral {
  const out: ObjectLiteral = {};
  if (sealedSet[plan.dataKey.property] !== undefined)
    out[plan.dataKey.property] = sealedSet[plan.dataKey.property];
  for (const index of plan.indexes.values())
    if (sealedSet[index.property] !== undefined) out[index.property] = sealedSet[index.property];
  return out;
}

/** Ids, dates and versions TypeORM wrote into the copy go to the caller's object too. */
function copyGenerated(plan: EntityPlan, copy: ObjectLiteral, original: ObjectLiteral): void {
  for (const column of plan.metadata.columns) {
    if (plan.encrypted.has(column.propertyPath) || column === plan.dataKey.metadata) continue;
    if (plan.indexes.has(column.propertyPath)) continue;
    const value = column.getEntityValue(copy);
    if (value !== undefined && !Object.is(value, column.getEntityValue(original)))
      column.setEntityValue(original, value);
  }
}
