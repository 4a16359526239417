import { ConfigError, normalizerOf } from '@fieldseal/core';
import type { FieldEncryptionMetadata, ModelEncryptionMetadata } from './metadata.js';

/** An encrypted field, resolved. */
export interface EncryptedField {
  readonly name: string;
  readonly column: string;
  readonly binary: boolean;
  readonly blindIndex: string | undefined;
  /** Applied to text before its blind index is computed (writes and lookups). */
  readonly normalize: ((text: string) => string) | undefined;
}

/** A relation field, resolved. */
export interface Relation {
  readonly field: string;
  readonly model: string;
  readonly list: boolean;
  readonly name: string;
  readonly fields?: readonly string[];
}

/** A model as the adapter uses it: validated metadata with lookups. */
export interface ModelInfo {
  readonly name: string;
  readonly table: string;
  readonly idFields: readonly string[];
  readonly dataKey: string | undefined;
  /** The `@tenant` field, for tenant-scoped models. */
  readonly tenant: string | undefined;
  /** Relation fields whose foreign key is the tenant field (writing them changes the tenant). */
  readonly tenantVia: readonly string[];
  readonly encrypted: ReadonlyMap<string, EncryptedField>;
  /** Blind-index field → the encrypted field it indexes. */
  readonly indexOf: ReadonlyMap<string, string>;
  readonly relations: ReadonlyMap<string, Relation>;
  /** True when this model, or a model reachable through its relations, has encrypted fields. */
  readonly touchesEncryption: boolean;
}

/**
 * The validated, indexed form of {@link FieldEncryptionMetadata}. Every rule is checked here,
 * once, when the extension is built, so a bad configuration fails at start-up rather than on
 * the first query that happens to need it.
 */
export class EncryptionSchema {
  readonly #models = new Map<string, ModelInfo>();

  constructor(metadata: FieldEncryptionMetadata) {
    if (!metadata || typeof metadata !== 'object' || metadata.version !== 1 || !isRecord(metadata.models)) {
      throw new ConfigError(
        'metadata',
        'expected the object written by the fieldseal-prisma generator ({ version: 1, models })',
      );
    }
    const resolved = Object.entries(metadata.models).map(([name, model]) => resolveModel(name, model));
    const reaches = new Set(resolved.filter((model) => model.encrypted.size > 0).map((model) => model.name));
    // A model touches encryption when a relation leads, at any depth, to an encrypted model.
    for (let changed = true; changed; ) {
      changed = false;
      for (const model of resolved) {
        if (reaches.has(model.name)) continue;
        if ([...model.relations.values()].some((relation) => reaches.has(relation.model))) {
          reaches.add(model.name);
          changed = true;
        }
      }
    }
    for (const model of resolved)
      this.#models.set(model.name, { ...model, touchesEncryption: reaches.has(model.name) });
  }

  /** The model, or `undefined` when the metadata does not list it (then it holds nothing encrypted). */
  model(name: string | undefined): ModelInfo | undefined {
    return name === undefined ? undefined : this.#models.get(name);
  }

  /** Every listed model. */
  get models(): IterableIterator<ModelInfo> {
    return this.#models.values();
  }

  /** The field on the related model that points back along `relation` (its other side). */
  backRelation(model: ModelInfo, relation: Relation): Relation | undefined {
    const target = this.#models.get(relation.model);
    if (!target) return undefined;
    for (const candidate of target.relations.values()) {
      if (candidate.name !== relation.name || candidate.model !== model.name) continue;
      if (target.name === model.name && candidate.field === relation.field) continue; // self-relation: the other side
      return candidate;
    }
    return undefined;
  }
}

function resolveModel(name: string, model: ModelEncryptionMetadata): Omit<ModelInfo, 'touchesEncryption'> {
  const option = `metadata.models.${name}`;
  // Metadata may be written by hand: check its shape so a mistake is a ConfigError, not a TypeError.
  if (!isRecord(model)) throw new ConfigError(option, 'must be an object');
  for (const key of ['table', 'dataKey', 'tenant'] as const)
    if (model[key] !== undefined && (typeof model[key] !== 'string' || model[key] === ''))
      throw new ConfigError(`${option}.${key}`, 'must be a non-empty string');
  for (const key of ['encrypted', 'relations'] as const)
    if (model[key] !== undefined && !isRecord(model[key]))
      throw new ConfigError(`${option}.${key}`, 'must be an object keyed by field name');
  if (
    model.idFields !== undefined &&
    (!Array.isArray(model.idFields) || model.idFields.some((field) => typeof field !== 'string'))
  )
    throw new ConfigError(`${option}.idFields`, 'must be an array of field names');
  const encrypted = new Map<string, EncryptedField>();
  const indexOf = new Map<string, string>();
  for (const [field, entry] of Object.entries(model.encrypted ?? {})) {
    if (!isRecord(entry))
      throw new ConfigError(`${option}.encrypted.${field}`, 'must be an object ({} for defaults)');
    for (const key of ['column', 'blindIndex'] as const)
      if (entry[key] !== undefined && (typeof entry[key] !== 'string' || entry[key] === ''))
        throw new ConfigError(`${option}.encrypted.${field}.${key}`, 'must be a non-empty string');
    const type = entry.type ?? 'String';
    if (type !== 'String' && type !== 'Bytes')
      throw new ConfigError(`${option}.encrypted.${field}.type`, 'must be "String" or "Bytes"');
    encrypted.set(field, {
      name: field,
      column: entry.column ?? field,
      binary: type === 'Bytes',
      blindIndex: entry.blindIndex,
      normalize: normalizerOf(entry.normalize, `${option}.encrypted.${field}.normalize`),
    });
    if (entry.normalize !== undefined && entry.blindIndex === undefined)
      throw new ConfigError(
        `${option}.encrypted.${field}.normalize`,
        'normalizes a blind index, but the field has none',
      );
    if (entry.blindIndex !== undefined) {
      if (
        indexOf.has(entry.blindIndex) ||
        model.encrypted?.[entry.blindIndex] ||
        entry.blindIndex === model.dataKey
      ) {
        throw new ConfigError(
          `${option}.encrypted.${field}.blindIndex`,
          `"${entry.blindIndex}" must be a plain field of its own`,
        );
      }
      indexOf.set(entry.blindIndex, field);
    }
  }
  if (encrypted.size > 0 && !model.dataKey) {
    throw new ConfigError(
      `${option}.dataKey`,
      `model ${name} has encrypted fields but no data-key field (add "dataKey String? /// @dataKey")`,
    );
  }
  if (model.dataKey !== undefined && encrypted.has(model.dataKey)) {
    throw new ConfigError(`${option}.dataKey`, 'the data-key field cannot itself be encrypted');
  }
  if (model.tenant !== undefined) {
    const tenant = model.tenant;
    if (encrypted.size === 0)
      throw new ConfigError(`${option}.tenant`, `model ${name} has no encrypted fields to scope to a tenant`);
    if (encrypted.has(tenant) || tenant === model.dataKey || indexOf.has(tenant))
      throw new ConfigError(
        `${option}.tenant`,
        `"${tenant}" must be a plain field (not encrypted, the data key or a blind index)`,
      );
  }
  for (const [field, relation] of Object.entries(model.relations ?? {}))
    if (!isRecord(relation) || typeof relation.model !== 'string' || typeof relation.list !== 'boolean')
      throw new ConfigError(`${option}.relations.${field}`, 'must be { model, list, name }');
  const relations = new Map(
    Object.entries(model.relations ?? {}).map(
      ([field, relation]) => [field, { field, ...relation }] as const,
    ),
  );
  const idFields = model.idFields ?? ['id'];
  if (idFields.length === 0 || idFields.some((field) => encrypted.has(field))) {
    throw new ConfigError(`${option}.idFields`, 'must name at least one field, none of them encrypted');
  }
  return {
    name,
    table: model.table ?? name,
    idFields,
    dataKey: model.dataKey,
    tenant: model.tenant,
    tenantVia: [...relations.values()]
      .filter((relation) => model.tenant !== undefined && relation.fields?.includes(model.tenant))
      .map((relation) => relation.field),
    encrypted,
    indexOf,
    relations,
  };
}

function isRecord(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
