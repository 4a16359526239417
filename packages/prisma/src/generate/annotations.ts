import { type NormalizerName, normalizerOf } from '@fieldseal/core';
import type { DMMF } from '@prisma/generator-helper';
import type {
  EncryptedFieldMetadata,
  FieldEncryptionMetadata,
  ModelEncryptionMetadata,
  RelationMetadata,
} from '../setup/metadata.js';
import { plainCommentProblems } from './plain-comments.js';

/** Thrown at generate time for annotations that cannot work; lists every problem at once. */
export class AnnotationError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(
      `fieldseal-prisma: invalid encryption annotations:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`,
    );
    this.name = 'AnnotationError';
    this.problems = problems;
  }
}

const ENCRYPTED = /(^|\s)@encrypted(\s|$)/;
const DATA_KEY = /(^|\s)@dataKey(\s|$)/;
const TENANT = /(^|\s)@tenant(\s|$)/;
const BLIND_INDEX = /(^|\s)@blindIndex\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:,\s*normalize:\s*"([^"]*)"\s*)?\)/;
const BLIND_INDEX_WORD = /(^|\s)@blindIndex\b/;
// Near misses of our annotations (typos, wrong case) would otherwise silently leave a column in plaintext.
const ANNOTATION = /(^|\s)@([A-Za-z_]+)/g;
const KNOWN = new Set(['encrypted', 'dataKey', 'blindIndex', 'tenant']);
const LOOKS_LIKE_OURS = /^(encr|data_?k|blind|tenan)/i;

/**
 * Reads `/// @encrypted`, `/// @dataKey`, `/// @blindIndex(field)` and `/// @tenant` from the schema's
 * documentation comments; given the schema text, also refuses `// @encrypted` (two slashes). Throws {@link AnnotationError} naming every model and field at fault.
 */
export function metadataFromDmmf(datamodel: DMMF.Datamodel, schemaText?: string): FieldEncryptionMetadata {
  // Two-slash comments never reach the DMMF: without the schema text they cannot be checked.
  const problems: string[] = schemaText === undefined ? [] : plainCommentProblems(schemaText);
  const models: Record<string, ModelEncryptionMetadata> = {};
  for (const model of datamodel.models) {
    const encrypted: Record<string, EncryptedFieldMetadata> = {};
    const relations: Record<string, RelationMetadata> = {};
    const dataKeys: string[] = [];
    const tenants: string[] = [];
    const indexes: [field: string, source: string, normalize: NormalizerName[] | undefined][] = [];
    const byName = new Map(model.fields.map((field) => [field.name, field]));
    for (const field of model.fields) {
      const where = `${model.name}.${field.name}`;
      const doc = field.documentation ?? '';
      for (const match of doc.matchAll(ANNOTATION)) {
        const word = match[2] as string;
        if (LOOKS_LIKE_OURS.test(word) && !KNOWN.has(word))
          problems.push(
            `${where}: unknown annotation "@${word}" (did you mean @encrypted, @dataKey, @blindIndex(field) or @tenant?)`,
          );
      }
      if (field.kind === 'object' && field.relationName) {
        const fields = field.relationFromFields ?? [];
        relations[field.name] = {
          model: field.type,
          list: field.isList,
          name: field.relationName,
          ...(fields.length > 0 ? { fields: [...fields] } : {}),
        };
      }
      if (ENCRYPTED.test(doc)) {
        if (field.kind !== 'scalar' || (field.type !== 'String' && field.type !== 'Bytes') || field.isList) {
          problems.push(
            `${where}: @encrypted needs a String or Bytes field, not ${field.type}${field.isList ? '[]' : ''}`,
          );
        } else if (field.isId || field.isUnique) {
          problems.push(
            `${where}: @encrypted fields cannot be @id or @unique (ciphertext is random); put @unique on a @blindIndex(${field.name}) field instead`,
          );
        } else if (field.hasDefaultValue) {
          // The database would store the default as it is (plaintext), and no read could open it.
          problems.push(
            `${where}: @encrypted fields cannot have @default (the database would store it in plaintext); set the value in your create instead`,
          );
        } else {
          encrypted[field.name] = { type: field.type, ...(field.dbName ? { column: field.dbName } : {}) };
        }
      }
      if (DATA_KEY.test(doc)) {
        if (field.kind !== 'scalar' || field.type !== 'String' || field.isList)
          problems.push(`${where}: @dataKey needs a String field (String? for tables with legacy rows)`);
        else dataKeys.push(field.name);
      }
      if (TENANT.test(doc)) {
        if (field.kind !== 'scalar' || (field.type !== 'String' && field.type !== 'Int') || field.isList)
          problems.push(
            `${where}: @tenant needs a plain String or Int field, not ${field.type}${field.isList ? '[]' : ''}`,
          );
        else tenants.push(field.name);
      }
      const index = BLIND_INDEX.exec(doc);
      if (!index && BLIND_INDEX_WORD.test(doc))
        problems.push(
          `${where}: malformed @blindIndex; write @blindIndex(field) or @blindIndex(field, normalize: "trim,lowercase")`,
        );
      if (index) {
        const source = index[2] as string;
        const normalize = index[3]
          ?.split(',')
          .map((name) => name.trim())
          .filter((name) => name !== '') as NormalizerName[] | undefined;
        let badNormalize: string | undefined;
        try {
          normalizerOf(normalize, `${where} normalize`);
        } catch (error) {
          badNormalize = (error as Error).message;
        }
        if (field.kind !== 'scalar' || field.type !== 'String' || field.isList)
          problems.push(`${where}: @blindIndex needs a String field`);
        else if (!byName.has(source))
          problems.push(`${where}: @blindIndex(${source}) names no field of ${model.name}`);
        else if (badNormalize) problems.push(`${where}: @blindIndex normalize: ${badNormalize}`);
        else indexes.push([field.name, source, normalize && normalize.length > 0 ? normalize : undefined]);
      }
    }
    for (const [field, source, normalize] of indexes) {
      const target = encrypted[source];
      if (!target)
        problems.push(`${model.name}.${field}: @blindIndex(${source}) must name an @encrypted field`);
      else if (target.blindIndex)
        problems.push(
          `${model.name}.${source}: has two blind indexes (${target.blindIndex}, ${field}); keep one`,
        );
      else if (encrypted[field])
        problems.push(`${model.name}.${field}: a blind-index field cannot also be @encrypted`);
      else encrypted[source] = { ...target, blindIndex: field, ...(normalize ? { normalize } : {}) };
    }
    const encryptedNames = Object.keys(encrypted);
    if (dataKeys.length > 1)
      problems.push(`${model.name}: one @dataKey field per model, found ${dataKeys.join(', ')}`);
    if (encryptedNames.length > 0 && dataKeys.length === 0) {
      problems.push(
        `${model.name}: has @encrypted fields (${encryptedNames.join(', ')}) but no data-key column; add \`dataKey String? /// @dataKey\` to model ${model.name}`,
      );
    }
    if (dataKeys[0] && encrypted[dataKeys[0]])
      problems.push(`${model.name}.${dataKeys[0]}: a @dataKey field cannot also be @encrypted`);
    problems.push(...tenantProblems(model.name, tenants, encryptedNames, dataKeys, indexes));
    const idFields =
      model.primaryKey?.fields ?? model.fields.filter((field) => field.isId).map((field) => field.name);
    const rowIdentity =
      idFields.length > 0
        ? idFields
        : (model.uniqueFields[0] ??
          model.fields
            .filter((f) => f.isUnique)
            .map((f) => f.name)
            .slice(0, 1));
    if (encryptedNames.length > 0 && rowIdentity.length === 0)
      problems.push(`${model.name}: models with @encrypted fields need an @id or @@id`);
    // Renamed columns of the fields SQL tools need besides the encrypted ones (which carry theirs).
    const columns: Record<string, string> = {};
    for (const name of [
      ...rowIdentity,
      ...dataKeys.slice(0, 1),
      ...tenants.slice(0, 1),
      ...indexes.map(([field]) => field),
    ]) {
      const dbName = byName.get(name)?.dbName;
      if (dbName && dbName !== name) columns[name] = dbName;
    }
    models[model.name] = {
      ...(model.dbName ? { table: model.dbName } : {}),
      idFields: [...rowIdentity],
      ...(dataKeys[0] ? { dataKey: dataKeys[0] } : {}),
      ...(tenants[0] ? { tenant: tenants[0] } : {}),
      ...(encryptedNames.length > 0 ? { encrypted } : {}),
      ...(Object.keys(columns).length > 0 ? { columns } : {}),
      ...(Object.keys(relations).length > 0 ? { relations } : {}),
    };
  }
  if (problems.length > 0) throw new AnnotationError(problems);
  return { version: 1, models };
}

/** `/// @tenant`: one plain field per model with encrypted fields, not one fieldseal writes. */
function tenantProblems(
  model: string,
  tenants: readonly string[],
  encrypted: readonly string[],
  dataKeys: readonly string[],
  indexes: readonly (readonly [string, ...unknown[]])[],
): string[] {
  const [tenant] = tenants;
  if (tenant === undefined) return [];
  if (tenants.length > 1) return [`${model}: one @tenant field per model, found ${tenants.join(', ')}`];
  const where = `${model}.${tenant}`;
  if (encrypted.includes(tenant))
    return [`${where}: a @tenant field cannot also be @encrypted (it must stay plaintext)`];
  if (dataKeys.includes(tenant)) return [`${where}: a @tenant field cannot also be the @dataKey field`];
  if (indexes.some(([field]) => field === tenant))
    return [`${where}: a @tenant field cannot also be a @blindIndex field`];
  if (encrypted.length === 0)
    return [`${where}: @tenant scopes encrypted fields, but model ${model} has no @encrypted field`];
  return [];
}
