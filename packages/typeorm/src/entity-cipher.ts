import {
  type BlindIndex,
  type DecryptedRow,
  DecryptionError,
  type DecryptRowInput,
  decodeValue,
  EncryptionError,
  type ErrorLocation,
  encodeValue,
  type PlaintextValue,
  type ReadMode,
  type RowEnvelope,
  ValueTypeMismatch,
} from '@fieldseal/core';
import type { ObjectLiteral } from 'typeorm';
import type { EncryptedField, EntityPlan } from './entity-plan.js';
import { inEntity } from './errors.js';
import { requireTenant, tenantInput } from './tenant-scope.js';

/** What to write for the encrypted part of a row: properties to set, by property name. */
export interface EncryptedWrite {
  /** Ciphertext (or null) of each encrypted property given, and the blind index of each. */
  readonly values: Record<string, unknown>;
  /** The row's data-key column value. */
  readonly dataKey: string;
  /** True when the data key was made by this write (the row had none). */
  readonly isNewKey: boolean;
}

/**
 * Turns an entity's plaintext properties into what is stored, and back, with the shared core
 * logic: typed values are encoded to text, then encrypted by the {@link RowEnvelope} under the
 * row's data key; blind indexes are computed from the same encoded text.
 */
export class EntityCipher {
  constructor(
    readonly envelope: RowEnvelope,
    readonly blindIndex: BlindIndex | undefined,
  ) {}

  /** The encrypted properties `source` defines (not undefined), encoded as plaintext. */
  encode(
    plan: EntityPlan,
    source: ObjectLiteral,
    rowId?: string | number,
  ): Record<string, PlaintextValue | null> {
    const plaintext: Record<string, PlaintextValue | null> = {};
    for (const field of plan.encrypted.values()) {
      const value = field.metadata.getEntityValue(source);
      if (value === undefined) continue;
      plaintext[field.column] = value === null ? null : encodeOrThrow(plan, field, value, rowId);
    }
    return plaintext;
  }

  /**
   * Encrypts the encrypted properties `source` defines (a new row when `dataKey` is
   * `undefined`; an existing row holding `dataKey`, possibly null, otherwise) and computes
   * the blind index of each. Nothing in `source` is changed.
   */
  async encrypt(
    plan: EntityPlan,
    source: ObjectLiteral,
    dataKey: unknown,
    rowId?: string | number,
  ): Promise<EncryptedWrite> {
    const plaintext = this.encode(plan, source, rowId);
    const output: Record<string, 'text' | 'binary'> = {};
    for (const field of plan.encrypted.values()) output[field.column] = field.output;
    const input = {
      table: plan.table,
      values: plaintext,
      output,
      ...tenantInput(requireTenant(plan, source)),
    };
    let sealed: { values: Record<string, unknown>; dataKey: string; isNewKey?: boolean };
    try {
      sealed =
        dataKey === undefined
          ? await this.envelope.encryptRow(input)
          : await this.envelope.encryptForRow({ ...input, dataKey });
    } catch (error) {
      throw nameError(plan, error, rowId);
    }
    const values: Record<string, unknown> = {};
    for (const field of plan.encrypted.values()) {
      if (!(field.column in plaintext)) continue;
      values[field.property] = sealed.values[field.column];
      const index = plan.indexBySource.get(field.property);
      if (index) values[index.property] = this.#hash(plan, field, plaintext[field.column] ?? null);
    }
    return { values, dataKey: sealed.dataKey, isNewKey: dataKey === undefined || sealed.isNewKey === true };
  }

  /** The blind-index value of a plaintext property value, for lookups (null for null). */
  indexOf(plan: EntityPlan, property: string, value: unknown): string | null {
    const field = plan.encrypted.get(property) as EncryptedField;
    return this.#hash(
      plan,
      field,
      value === null || value === undefined ? null : encodeOrThrow(plan, field, value),
    );
  }

  /**
   * Decrypts loaded entities of one type in place: one `RowEnvelope.decryptRows` for all of
   * them, unwrapping each distinct data key once. Legacy plaintext passes in tolerant mode.
   */
  async decryptEntities(plan: EntityPlan, rows: readonly LoadedRow[], readMode?: ReadMode): Promise<void> {
    const inputs = rows.map(({ entity, dataKey, rowId, tenant }): DecryptRowInput => {
      const values: Record<string, unknown> = {};
      for (const field of plan.encrypted.values()) {
        const value = field.metadata.getEntityValue(entity);
        if (value !== undefined) values[field.column] = fromCache(field, value);
      }
      return {
        table: plan.table,
        values,
        dataKey,
        ...(rowId === undefined ? {} : { rowId }),
        ...(readMode ? { readMode } : {}),
        ...tenantInput(tenant),
      };
    });
    let plain: DecryptedRow[];
    try {
      plain = await this.envelope.decryptRows(inputs);
    } catch (error) {
      const rowId = (error as { location?: ErrorLocation }).location?.rowId;
      throw nameError(plan, error, typeof rowId === 'bigint' ? String(rowId) : rowId);
    }
    for (let i = 0; i < rows.length; i++) {
      const input = inputs[i] as DecryptRowInput;
      const decoded = decodeRow(plan, input, plain[i] as DecryptedRow);
      const entity = (rows[i] as LoadedRow).entity;
      for (const field of plan.encrypted.values())
        if (field.property in decoded) field.metadata.setEntityValue(entity, decoded[field.property]);
    }
  }

  /** The blind-index value of plaintext already encoded (the text stored values open to). */
  indexOfEncoded(plan: EntityPlan, field: EncryptedField, plaintext: PlaintextValue | null): string | null {
    return this.#hash(plan, field, plaintext);
  }

  #hash(plan: EntityPlan, field: EncryptedField, plaintext: PlaintextValue | null): string | null {
    if (plaintext === null) return null;
    const index = plan.indexBySource.get(field.property);
    if (!index || !this.blindIndex) return null;
    const text = typeof plaintext === 'string' && index.normalize ? index.normalize(plaintext) : plaintext;
    return this.blindIndex.compute(plan.table, field.column, text);
  }
}

/**
 * TypeORM's query-result cache stores results as JSON, which turns a binary column's Buffer
 * into `{ type: 'Buffer', data: [...] }`; turn it back, so cached reads decrypt as live ones.
 */
function fromCache(field: EncryptedField, value: unknown): unknown {
  if (field.output !== 'binary' || value === null || typeof value !== 'object') return value;
  const shape = value as { type?: unknown; data?: unknown };
  return shape.type === 'Buffer' && Array.isArray(shape.data) ? Buffer.from(shape.data as number[]) : value;
}

function location(
  plan: EntityPlan,
  field: EncryptedField | undefined,
  rowId: string | number | undefined,
): ErrorLocation {
  return {
    table: plan.table,
    ...(field ? { column: field.column } : {}),
    ...(rowId === undefined ? {} : { rowId }),
  };
}

/** A loaded entity with its row's data-key column and id. */
export interface LoadedRow {
  readonly entity: ObjectLiteral;
  readonly dataKey: unknown;
  readonly rowId: string | number | undefined;
  /** The row's tenant, for a tenant-scoped entity. */
  readonly tenant?: string | undefined;
}

/** Decoded plaintext by property, for the properties the entity was loaded with. */
function decodeRow(plan: EntityPlan, input: DecryptRowInput, plain: DecryptedRow): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const rowId = input.rowId as string | number | undefined;
  for (const field of plan.encrypted.values()) {
    if (!(field.column in input.values)) continue;
    const value = plain[field.column];
    if (value === null || value === undefined) {
      out[field.property] = value;
      continue;
    }
    const decoded = decodeValue(field.type, value);
    if (decoded instanceof ValueTypeMismatch) {
      throw new DecryptionError(
        'malformed-value',
        `Decrypted value ${decoded.reason} (declared ${field.type}) [entity ${plan.entity}, property ${field.property}]`,
        { location: location(plan, field, rowId) },
      );
    }
    out[field.property] = decoded;
  }
  return out;
}

/** A core error re-thrown naming the entity, and the property when the column is known. */
function nameError(plan: EntityPlan, error: unknown, rowId: string | number | undefined): unknown {
  const column = (error as { location?: ErrorLocation }).location?.column;
  const field = [...plan.encrypted.values()].find((f) => f.column === column);
  return inEntity(error, {
    entity: plan.entity,
    ...(field ? { property: field.property } : {}),
    location: location(plan, field, rowId),
  });
}

export function encodeOrThrow(
  plan: EntityPlan,
  field: EncryptedField,
  value: unknown,
  rowId?: string | number,
): PlaintextValue {
  const encoded = encodeValue(field.type, value);
  if (encoded instanceof ValueTypeMismatch) {
    throw new EncryptionError(
      'unsupported-type',
      `Encrypted property ${encoded.reason} [entity ${plan.entity}, property ${field.property}]`,
      {
        location: location(plan, field, rowId),
      },
    );
  }
  return encoded;
}
