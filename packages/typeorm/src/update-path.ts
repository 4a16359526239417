import type { ObjectLiteral, QueryRunner, UpdateQueryBuilder } from 'typeorm';
import { UpdateResult } from 'typeorm';
import type { EncryptedField, EntityPlan } from './entity-plan.js';
import { UnsupportedOperationError } from './errors.js';
import { rowPort } from './row-port.js';
import type { Runtime } from './runtime.js';
import { touchesTenant } from './tenant-scope.js';
import { copyValueSet, refuseRawSql, sealed } from './value-sets.js';

/** The parts of TypeORM's update builder fieldseal uses (protected in its typings). */
export type UpdateBuilder = Pick<UpdateQueryBuilder<ObjectLiteral>, 'expressionMap' | 'getParameters'> & {
  createWhereExpression(): string;
  replacePropertyNamesForTheWholeQuery(sql: string): string;
  getTableName(path: string): string;
  getMainTableName(): string;
};

/**
 * The last step before TypeORM builds an UPDATE (every listener has run). Values that need no
 * key (nulls, plain columns) go out in TypeORM's own statement, with blind indexes cleared
 * beside cleared values. Encrypted values go to each matched row under the data key that row
 * holds: the rows and their keys are read (locked) in one transaction, then one UPDATE per
 * row guarded by the row's key identity, retried when a row changed key meanwhile.
 */
export async function runUpdate(
  runtime: Runtime,
  plan: EntityPlan,
  builder: UpdateBuilder,
  queryRunner: QueryRunner,
  original: () => Promise<UpdateResult>,
): Promise<UpdateResult> {
  const map = builder.expressionMap;
  const valuesSet = map.valuesSet as ObjectLiteral;
  refuseRawSql(plan, valuesSet);
  const saving = map.whereEntities.length > 0;
  const copy = copyValueSet(plan.metadata, valuesSet);
  dropManaged(plan, valuesSet, copy, saving);
  const plaintext = runtime.cipher.encode(plan, valuesSet);
  const indexValues: ObjectLiteral = {};
  const keyed: EncryptedField[] = [];
  for (const field of plan.encrypted.values()) {
    if (!(field.column in plaintext)) continue;
    const value = plaintext[field.column] ?? null;
    const index = plan.indexBySource.get(field.property);
    if (index) indexValues[index.property] = runtime.cipher.indexOfEncoded(plan, field, value);
    if (value === null) field.metadata.setEntityValue(copy, null);
    else keyed.push(field);
  }
  Object.assign(copy, indexValues);
  // A write of the tenant column goes through the rows' keys too: a row holding encrypted values must not move.
  if (keyed.length === 0 && !touchesTenant(plan, valuesSet)) {
    // Nothing to encrypt: nulls and plain columns need no data key.
    sealed.add(copy);
    map.valuesSet = copy;
    try {
      return await original();
    } finally {
      map.valuesSet = valuesSet;
    }
  }
  if (map.returning !== undefined && map.returning !== '') {
    throw new UnsupportedOperationError(
      'unsupported-operation',
      'update … returning of an encrypted column is not supported: each row is written under its own key; read the rows after the update',
      { entity: plan.entity, location: { table: plan.table } },
    );
  }
  for (const field of keyed) removeField(copy, field);
  const values: Record<string, string | Uint8Array> = {};
  const output: Record<string, 'text' | 'binary'> = {};
  for (const field of keyed) {
    values[field.column] = plaintext[field.column] as string | Uint8Array;
    output[field.column] = field.output;
  }
  const port = rowPort(runtime, plan, builder, queryRunner, copy, indexValues, saving, valuesSet);
  try {
    const known = port.known();
    const { written } = await runtime.cipher.envelope.writeToRows({
      table: plan.table,
      values,
      output,
      port,
      idOf: (id: ObjectLiteral) => port.idOf(id),
      ...(known ? { known } : {}),
    });
    await port.finish(true);
    const result = new UpdateResult();
    result.affected = written.length;
    result.raw = [];
    result.generatedMaps = port.generatedMaps;
    return result;
  } catch (error) {
    await port.finish(false);
    throw error;
  }
}

/**
 * The data-key and blind-index columns are fieldseal's. `save()` carries the values it loaded
 * or copied (dropped here: the row keeps its own); anything else writing them is refused.
 */
function dropManaged(plan: EntityPlan, valuesSet: ObjectLiteral, copy: ObjectLiteral, saving: boolean): void {
  const forbidden = (property: string, column: string) =>
    new UnsupportedOperationError(
      'forbidden-write',
      `"${property}" is a data-key or blind-index column that fieldseal maintains; the application must not write it`,
      { entity: plan.entity, property, location: { table: plan.table, column } },
    );
  if (valuesSet[plan.dataKey.property] !== undefined) {
    if (!saving) throw forbidden(plan.dataKey.property, plan.dataKey.column);
    delete copy[plan.dataKey.property];
  }
  for (const index of plan.indexes.values()) {
    if (valuesSet[index.property] === undefined) continue;
    const source = plan.encrypted.get(index.source) as EncryptedField;
    if (source.metadata.getEntityValue(valuesSet) !== undefined) continue; // recomputed
    if (!saving) throw forbidden(index.property, index.column);
    delete copy[index.property];
  }
}

/** Removes a field from a value-set copy (its embedded objects are copies too). */
function removeField(copy: ObjectLiteral, field: EncryptedField): void {
  const path = field.property.split('.');
  let target: ObjectLiteral | undefined = copy;
  for (const part of path.slice(0, -1)) target = target?.[part] as ObjectLiteral | undefined;
  if (target) delete target[path[path.length - 1] as string];
}
