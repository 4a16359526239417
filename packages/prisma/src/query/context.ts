import type { BlindIndex, RowEnvelope } from '@fieldseal/core';
import { type UnsupportedOperationCode, unsupported } from '../errors.js';
import type { EncryptionSchema, ModelInfo } from '../setup/encryption-schema.js';

/** What every transformation step needs; built once per query. */
export interface QueryContext {
  readonly schema: EncryptionSchema;
  readonly envelope: RowEnvelope;
  /** Open when the schema has blind indexes; `undefined` otherwise. */
  readonly index: BlindIndex | undefined;
  /** The client's `omit` option, when it has one (`{ user: { dataKey: true } }`). */
  readonly globalOmit: Readonly<Record<string, Readonly<Record<string, boolean>>>> | undefined;
  /** The fields of each model, and the computed fields of the client the query was sent through. */
  readonly fields: FieldCatalog;
}

/** Names a model's arguments may use besides relations: its fields, and result-extension fields. */
export interface FieldCatalog {
  /** True for a scalar or relation field of the model (always true when the client does not say). */
  isField(model: ModelInfo, name: string): boolean;
  /** True for a field computed by a result extension (`$extends({ result })`) of this client. */
  isComputed(model: ModelInfo, name: string): boolean;
  /** Every computed field of the model. */
  computedNames(model: ModelInfo): readonly string[];
  /** The fields a computed field needs (transitively), or `undefined` for a name that is not one. */
  needsOf(model: ModelInfo, name: string): readonly string[] | undefined;
}

/** A plain object (args, filters, data) as opposed to a value, a `Uint8Array`, a `Date`, a `Decimal`… */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Prisma accepts one item or an array in most nested positions; `undefined` is none. */
export function asList(value: unknown): unknown[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** Applies an asynchronous `map` to one item or to each item of an array, keeping the shape. */
export async function mapOneOrManyAsync<T>(
  value: unknown,
  map: (item: unknown) => Promise<T>,
): Promise<T | T[]> {
  return Array.isArray(value) ? Promise.all(value.map(map)) : map(value);
}

/** Refuses any use of an encrypted field in a place that would compare or sort ciphertext. */
export function refuse(code: UnsupportedOperationCode, model: ModelInfo, field: string, what: string): never {
  throw unsupported(
    code,
    `${what} on encrypted field ${model.name}.${field} is not supported (the database only holds ciphertext)`,
    model,
    field,
  );
}

/** Deep copy of plain objects and arrays; values (strings, bytes, dates, decimals) are shared. */
export function cloneArgs<T>(value: T): T {
  if (Array.isArray(value)) return value.map(cloneArgs) as T;
  if (!isPlainObject(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, cloneArgs(item)])) as T;
}

/** Prisma's client property name of a model (`User` → `user`). */
export function lowerFirst(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

/** The row id named in errors: the primary key value, or its parts joined with `/`. */
export function rowIdOf(
  idFields: readonly string[],
  row: Record<string, unknown>,
): string | number | bigint | undefined {
  if (idFields.length === 1) {
    const id = row[idFields[0] as string];
    return typeof id === 'string' || typeof id === 'number' || typeof id === 'bigint' ? id : undefined;
  }
  const parts = idFields.map((field) => row[field]);
  return parts.every((part) => part !== undefined && part !== null) ? parts.map(String).join('/') : undefined;
}

/** Ciphertext form per column: text for `String` fields, bytes for `Bytes` fields. */
export function outputs(model: ModelInfo): Record<string, 'text' | 'binary'> {
  return Object.fromEntries(
    [...model.encrypted.values()].map((field) => [field.column, field.binary ? 'binary' : 'text']),
  );
}
