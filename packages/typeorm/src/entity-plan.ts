import {
  ConfigError,
  type EncryptedValueType,
  encodeValue,
  isValueType,
  MIN_BODY_LENGTH,
  normalizerOf,
  VALUE_PREFIX,
  ValueTypeMismatch,
  valueTypeFromDesign,
} from '@fieldseal/core';
import type { EntityMetadata, ObjectLiteral, ValueTransformer } from 'typeorm';
import { type BlindIndexDecoratorOptions, declarationsOf, type EncryptedOptions } from './decorators.js';

/** TypeORM's column metadata (not exported from the package root). */
export type ColumnMetadata = EntityMetadata['columns'][number];

/** An `@Encrypted()` property, resolved against TypeORM's metadata. */
export interface EncryptedField {
  /** Property path: `email`, or `address.street` inside an embedded entity. */
  readonly property: string;
  /** Database column name: bound into each value, so renaming the property is harmless. */
  readonly column: string;
  readonly type: EncryptedValueType;
  /** `binary` for binary columns (blob, bytea), `text` otherwise. */
  readonly output: 'text' | 'binary';
  readonly metadata: ColumnMetadata;
}

/** A `@BlindIndex()` property. */
export interface IndexField {
  readonly property: string;
  readonly column: string;
  /** The encrypted property it indexes. */
  readonly source: string;
  readonly normalize: ((text: string) => string) | undefined;
  readonly metadata: ColumnMetadata;
}

/** Everything fieldseal needs to know about one entity, computed once per data source. */
export interface EntityPlan {
  readonly metadata: EntityMetadata;
  /** Entity name, for messages (`User`). */
  readonly entity: string;
  /** Table name: the `table` every value and data key is bound to. */
  readonly table: string;
  /** Encrypted fields by property path. */
  readonly encrypted: ReadonlyMap<string, EncryptedField>;
  /** Property names of embedded entities holding encrypted fields (`address`). */
  readonly embedded: ReadonlySet<string>;
  readonly indexes: ReadonlyMap<string, IndexField>;
  /** Blind index by the encrypted property it indexes. */
  readonly indexBySource: ReadonlyMap<string, IndexField>;
  readonly dataKey: { readonly property: string; readonly column: string; readonly metadata: ColumnMetadata };
  /** The `@Tenant()` column, for tenant-scoped entities. */
  readonly tenant:
    | { readonly property: string; readonly column: string; readonly metadata: ColumnMetadata }
    | undefined;
}

const TEXT_TYPES = new Set<unknown>([
  'text',
  'varchar',
  'character varying',
  'nvarchar',
  'char',
  'character',
  'nchar',
  'tinytext',
  'mediumtext',
  'longtext',
  'string',
  'clob',
  'citext',
  String,
]);
const BINARY_TYPES = new Set<unknown>([
  'blob',
  'bytea',
  'binary',
  'varbinary',
  'tinyblob',
  'mediumblob',
  'longblob',
  Buffer,
  Uint8Array,
]);

/**
 * Builds the plan of an entity from the decorators on its class and its base classes, or
 * returns undefined when it declares nothing. Checks every rule a plan relies on and fails
 * with a `ConfigError` naming entity and property.
 */
export function planEntity(metadata: EntityMetadata): EntityPlan | undefined {
  const encryptedDecl = new Map<string, { options: EncryptedOptions; designType: unknown }>();
  const indexDecl = new Map<string, { source: string; options: BlindIndexDecoratorOptions }>();
  let dataKeyProperty: string | undefined;
  const tenantDecl = new Set<string>();
  // Base classes first, so a subclass's declaration wins.
  for (const ctor of [...metadata.inheritanceTree].reverse()) {
    const found = declarationsOf(ctor);
    if (!found) continue;
    for (const [property, decl] of found.encrypted) encryptedDecl.set(property, decl);
    for (const [property, decl] of found.indexes) indexDecl.set(property, decl);
    if (found.dataKey) dataKeyProperty = found.dataKey;
    for (const property of found.tenants) tenantDecl.add(property);
  }
  const entity = metadata.name;
  const fail = (option: string, why: string) => new ConfigError(option, `${why} (entity ${entity})`);
  // Embedded entities (`@Column(() => Address)`): their @Encrypted() properties are fields of
  // this entity at `address.street`; blind indexes and data keys belong to the entity itself.
  const embeddedColumns = new Map<string, ColumnMetadata>();
  for (const embedded of allEmbeddeds(metadata.embeddeds)) {
    const ctor = embedded.type as unknown;
    const chain: object[] = [];
    for (let c = ctor; typeof c === 'function' && c !== Function.prototype; c = Object.getPrototypeOf(c))
      chain.unshift(c as object);
    for (const c of chain) {
      const found = declarationsOf(c);
      if (!found) continue;
      if (found.indexes.size > 0 || found.dataKey || found.tenants.size > 0)
        throw fail(
          '@BlindIndex',
          `embedded "${embedded.propertyPath}" declares a blind index, data-key or tenant column; declare them on the entity itself`,
        );
      for (const [property, decl] of found.encrypted) {
        const column = embedded.columns.find((c) => c.propertyName === property);
        if (!column)
          throw fail('@Encrypted', `"${embedded.propertyPath}.${property}" is not a TypeORM column`);
        encryptedDecl.set(column.propertyPath, decl);
        embeddedColumns.set(column.propertyPath, column);
      }
    }
  }
  if (encryptedDecl.size === 0 && indexDecl.size === 0 && tenantDecl.size === 0) return undefined;
  const columnOf = (property: string, decorator: string): ColumnMetadata => {
    const nested = embeddedColumns.get(property);
    if (nested) return nested;
    const column = metadata.columns.find((c) => c.propertyName === property && !c.embeddedMetadata);
    if (!column)
      throw fail(decorator, `"${property}" is not a TypeORM column; add @Column() beside ${decorator}`);
    return column;
  };

  if (encryptedDecl.size === 0 && tenantDecl.size > 0)
    throw fail('@Tenant', `"${[...tenantDecl].join(', ')}" scopes encrypted columns, but there are none`);
  if (!dataKeyProperty)
    throw fail(
      '@DataKeyColumn',
      'declares encrypted columns but no @DataKeyColumn() property to hold the row data key',
    );
  const dataKeyColumn = columnOf(dataKeyProperty, '@DataKeyColumn');
  if (!dataKeyColumn.isNullable)
    throw fail(
      '@DataKeyColumn',
      `"${dataKeyProperty}" must be nullable (rows written before encryption have no data key)`,
    );

  const encrypted = new Map<string, EncryptedField>();
  for (const [property, decl] of encryptedDecl) {
    const column = columnOf(property, '@Encrypted');
    if (column.isPrimary || column.relationMetadata || column.isGenerated)
      throw fail(
        '@Encrypted',
        `"${property}" is a primary, generated or join column and cannot be encrypted`,
      );
    if (column.transformer && !ours.has(column.transformer as object))
      throw fail(
        '@Encrypted',
        `"${property}" has a TypeORM transformer, which would see ciphertext; use @Encrypted({ type }) instead`,
      );
    const binary = BINARY_TYPES.has(column.type);
    if (!binary && !TEXT_TYPES.has(column.type)) {
      throw fail(
        '@Encrypted',
        `"${property}" must be a text column (e.g. @Column({ type: 'text' })) or a binary one; ciphertext is longer than the value`,
      );
    }
    const length = column.length ? Number(column.length) : undefined;
    const minimum = minimumLength();
    if (!binary && length !== undefined && length < minimum) {
      throw fail(
        '@Encrypted',
        `"${property}" holds ${length} characters, but ciphertext needs at least ${minimum} (plus 4 per 3 bytes of value); use type 'text' or length >= ${minimum + 64}`,
      );
    }
    const type = decl.options.type ?? valueTypeFromDesign(decl.designType);
    if (!isValueType(type)) throw fail('@Encrypted', `"${property}" has unknown type "${String(type)}"`);
    encrypted.set(property, {
      property,
      column: column.databaseName,
      type,
      output: binary ? 'binary' : 'text',
      metadata: column,
    });
  }
  // Installed once every column passed the checks above (which refuse user transformers).
  for (const field of encrypted.values()) field.metadata.transformer = comparisonTransformer(field.type);

  const indexes = new Map<string, IndexField>();
  const indexBySource = new Map<string, IndexField>();
  for (const [property, decl] of indexDecl) {
    const column = columnOf(property, '@BlindIndex');
    if (!encrypted.has(decl.source))
      throw fail(
        '@BlindIndex',
        `"${property}" indexes "${decl.source}", which is not an @Encrypted() property`,
      );
    if (indexBySource.has(decl.source)) throw fail('@BlindIndex', `"${decl.source}" has two blind indexes`);
    if (!TEXT_TYPES.has(column.type))
      throw fail('@BlindIndex', `"${property}" must be a text column (varchar(64))`);
    const field: IndexField = {
      property,
      column: column.databaseName,
      source: decl.source,
      normalize: normalizerOf(
        decl.options.normalize,
        `@BlindIndex normalize of ${metadata.name}.${property}`,
      ),
      metadata: column,
    };
    indexes.set(property, field);
    indexBySource.set(decl.source, field);
  }

  return Object.freeze({
    metadata,
    entity,
    table: metadata.tableName,
    encrypted,
    embedded: new Set([...embeddedColumns.keys()].map((path) => path.split('.')[0] as string)),
    indexes,
    indexBySource,
    dataKey: { property: dataKeyProperty, column: dataKeyColumn.databaseName, metadata: dataKeyColumn },
    tenant: planTenant(tenantDecl, encrypted, indexes, dataKeyProperty, columnOf, fail),
  });
}

/** The row id of an entity for messages and binding: the primary key, joined when composite. */
export function rowIdOf(plan: EntityPlan, entity: ObjectLiteral | undefined): string | number | undefined {
  if (!entity) return undefined;
  const values = plan.metadata.primaryColumns.map((c) => c.getEntityValue(entity));
  if (values.some((v) => v === undefined || v === null)) return undefined;
  if (values.length === 1) {
    const only = values[0];
    return typeof only === 'number' || typeof only === 'string' ? only : String(only);
  }
  return values.map(String).join(',');
}

const TENANT_TYPES = new Set<unknown>([
  ...TEXT_TYPES,
  'int',
  'integer',
  'int2',
  'int4',
  'int8',
  'smallint',
  'mediumint',
  'bigint',
  Number,
]);

/** The `@Tenant()` column: one plain string or integer column, not one fieldseal writes. */
function planTenant(
  declared: ReadonlySet<string>,
  encrypted: ReadonlyMap<string, EncryptedField>,
  indexes: ReadonlyMap<string, IndexField>,
  dataKey: string,
  columnOf: (property: string, decorator: string) => ColumnMetadata,
  fail: (option: string, why: string) => ConfigError,
): EntityPlan['tenant'] {
  if (declared.size === 0) return undefined;
  if (declared.size > 1)
    throw fail('@Tenant', `one @Tenant() property per entity, found ${[...declared].join(', ')}`);
  const property = [...declared][0] as string;
  const column = columnOf(property, '@Tenant');
  if (encrypted.size === 0)
    throw fail('@Tenant', `"${property}" scopes encrypted columns, but there are none`);
  if (encrypted.has(property) || indexes.has(property) || property === dataKey)
    throw fail(
      '@Tenant',
      `"${property}" must be a plain column (not encrypted, a blind index or the data key)`,
    );
  if (!TENANT_TYPES.has(column.type))
    throw fail('@Tenant', `"${property}" must be a string or integer column, not ${String(column.type)}`);
  return { property, column: column.databaseName, metadata: column };
}

/** Every embedded metadata, nested ones included. */
function allEmbeddeds(list: EntityMetadata['embeddeds']): EntityMetadata['embeddeds'] {
  return list.flatMap((embedded) => [embedded, ...allEmbeddeds(embedded.embeddeds)]);
}

/** Characters of the shortest ciphertext (an empty value): prefix + unpadded base64url body. */
export function minimumLength(): number {
  return VALUE_PREFIX.length + Math.ceil((MIN_BODY_LENGTH * 4) / 3);
}

/**
 * What TypeORM's change detection compares for an encrypted column: the encoded text, so an
 * equal but not identical Date or object is not a change, NaN equals NaN, and -0 differs
 * from 0 (identity comparison gets all three wrong). Text and bytes — plaintext strings and
 * the ciphertext fieldseal hands TypeORM at the last step — pass unchanged; loads are not
 * transformed.
 */
function comparisonTransformer(type: EncryptedValueType): ValueTransformer {
  const transformer: ValueTransformer = {
    to(value: unknown) {
      if (value === null || value === undefined || typeof value === 'string' || typeof value === 'function')
        return value;
      if (value instanceof Uint8Array) return value;
      const encoded = encodeValue(type, value);
      return encoded instanceof ValueTypeMismatch ? value : encoded;
    },
    from: (value: unknown) => value,
  };
  ours.add(transformer);
  return transformer;
}

/** fieldseal's own comparison transformers: planning the same metadata twice must accept them. */
const ours = new WeakSet<object>();
