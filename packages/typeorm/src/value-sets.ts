import { EncryptionError } from '@fieldseal/core';
import type { EntityMetadata, ObjectLiteral } from 'typeorm';
import type { EncryptedField, EntityPlan } from './entity-plan.js';
import { UnsupportedOperationError } from './errors.js';

/**
 * Value sets fieldseal built itself, holding ciphertext and the row's managed columns. The
 * SQL-building tripwire lets only these through when a value set writes an encrypted,
 * blind-index or data-key column: anything else reaching the SQL is refused.
 */
export const sealed = new WeakSet<object>();

/**
 * A copy of a value set that can be changed without touching the caller's object: same
 * prototype, and each embedded object copied too (TypeORM writes embedded values in place).
 */
export function copyValueSet(metadata: EntityMetadata, valueSet: ObjectLiteral): ObjectLiteral {
  const copy = Object.assign(Object.create(Object.getPrototypeOf(valueSet) as object), valueSet);
  copyEmbeddeds(metadata.embeddeds, copy);
  return copy;
}

function copyEmbeddeds(embeddeds: EntityMetadata['embeddeds'], target: ObjectLiteral): void {
  for (const embedded of embeddeds) {
    const value = target[embedded.propertyName];
    if (value === null || typeof value !== 'object') continue;
    target[embedded.propertyName] = Object.assign(
      Object.create(Object.getPrototypeOf(value) as object),
      value,
    );
    copyEmbeddeds(embedded.embeddeds, target[embedded.propertyName]);
  }
}

/** True when the value set writes any column fieldseal encrypts or maintains. */
export function writesProtected(plan: EntityPlan, valueSet: ObjectLiteral): boolean {
  if (valueSet[plan.dataKey.property] !== undefined) return true;
  for (const index of plan.indexes.values()) if (valueSet[index.property] !== undefined) return true;
  for (const field of plan.encrypted.values())
    if (field.metadata.getEntityValue(valueSet) !== undefined) return true;
  return false;
}

/** Refuses raw SQL expressions (`() => 'CONCAT(…)'`) in encrypted or managed columns. */
export function refuseRawSql(plan: EntityPlan, valueSet: ObjectLiteral): void {
  for (const field of plan.encrypted.values())
    if (typeof field.metadata.getEntityValue(valueSet) === 'function')
      throw rawSql(plan, field.property, field.column);
  for (const index of plan.indexes.values())
    if (typeof valueSet[index.property] === 'function') throw rawSql(plan, index.property, index.column);
  if (typeof valueSet[plan.dataKey.property] === 'function')
    throw rawSql(plan, plan.dataKey.property, plan.dataKey.column);
}

function rawSql(plan: EntityPlan, property: string, column: string): UnsupportedOperationError {
  return new UnsupportedOperationError(
    'unsupported-update',
    'A raw SQL expression (increment(), () => sql) cannot be written into an encrypted, blind-index or data-key column',
    { entity: plan.entity, property, location: { table: plan.table, column } },
  );
}

/** Fails before the write when stored text would not fit its column (PostgreSQL/MariaDB would fail mid-statement, SQLite would store it). */
export function checkFits(plan: EntityPlan, field: EncryptedField | undefined, text: unknown): void {
  const metadata = field ? field.metadata : plan.dataKey.metadata;
  const length = metadata.length ? Number(metadata.length) : undefined;
  if (length === undefined || typeof text !== 'string' || text.length <= length) return;
  const property = field ? field.property : plan.dataKey.property;
  throw new EncryptionError(
    'value-too-large',
    `Stored text of "${property}" needs ${text.length} characters; its column holds ${length}. Widen the column (type 'text') [entity ${plan.entity}, property ${property}]`,
    { location: { table: plan.table, column: metadata.databaseName } },
  );
}

/** The refusal for a write to an encrypted entity through a data source without fieldseal. */
export function unprotected(plan: EntityPlan, what: string): UnsupportedOperationError {
  return new UnsupportedOperationError(
    'unprotected-client',
    `${what} of an entity with @Encrypted() columns through a data source without field encryption; call fieldEncryption(dataSource, …) first`,
    { entity: plan.entity, location: { table: plan.table } },
  );
}
