import type { PlaintextValue, RowValues } from '@fieldseal/core';
import { unsupported } from '../errors.js';
import type { ModelInfo } from '../setup/encryption-schema.js';
import { blindIndexValue } from './blind-index-filter.js';
import { asList, isPlainObject, outputs, type QueryContext } from './context.js';
import { NestedWrites, type ParentEncryptor, updateData } from './nested-writes.js';
import { tenantAfterUpdate, tenantInput, tenantOfCreate, touchesTenant } from './tenant-scope.js';
import type { QueryRunner } from './transaction.js';
import { WrittenValues } from './written-values.js';

/** What is known of the row an update writes into: its data key as read in this transaction, or that it was not found. */
export type RowKey =
  | { readonly found: true; readonly dataKey: string | null; readonly tenant?: string | undefined }
  | { readonly found: false };

/** A row whose key was not read (not needed), or that was not found. */
export const NOT_READ: RowKey = { found: false };

/**
 * Turns the `data` of writes into what may reach the database: encrypted values, the row's
 * data-key column and blind indexes, following nested writes through relations.
 *
 * - New rows (create, createMany, nested create, connectOrCreate, upsert's create) get a fresh data key.
 * - Writes into existing rows encrypt under the key the row already holds, read in the same
 *   transaction (the per-row invariant); the write is then guarded by "the data-key column still
 *   holds that key". A row without one (legacy plaintext) gets a new key, guarded by "is still null".
 *   Top-level writes (update.ts) and nested ones (nested-writes.ts) do so through core's
 *   row-key protocol, which re-reads and retries a row whose guard missed.
 * Mutates `data` (Prisma hands each extension its own copy).
 */
export class WriteEncryptor implements ParentEncryptor {
  readonly #ctx: QueryContext;
  readonly #nested: NestedWrites;
  /** The values this encryptor made for new rows (create, nested creates, an upsert's create branch). */
  readonly written = new WrittenValues();

  constructor(ctx: QueryContext, runner?: QueryRunner) {
    this.#ctx = ctx;
    this.#nested = new NestedWrites(ctx, this, runner);
  }

  /** Encrypts a new row's data, under `dataKey` when given (an upsert's create branch) or a fresh key. */
  async create(model: ModelInfo | undefined, data: unknown, dataKey?: string): Promise<void> {
    if (!model?.touchesEncryption || !isPlainObject(data)) return;
    const plain = collectPlaintext(model, data);
    if (model.dataKey !== undefined) {
      const values = byColumn(model, plain);
      const input = {
        table: model.table,
        values,
        output: outputs(model),
        ...tenantInput(tenantOfCreate(model, data)),
      };
      // A tenant-scoped row never borrows another row's key (an upsert's): it is bound to that row's tenant.
      const encrypted =
        dataKey === undefined || model.tenant !== undefined
          ? await this.#ctx.envelope.encryptRow(input)
          : await this.#ctx.envelope.encryptForRow({ ...input, dataKey });
      this.#apply(model, data, plain, encrypted.values);
      data[model.dataKey] = encrypted.dataKey;
      this.written.record(model.table, encrypted.dataKey, values, encrypted.values);
    }
    await this.#nested.apply(model, data, undefined);
  }

  /**
   * Encrypts an update of one row known as `row`. Returns the data-key value the row must still
   * hold for the write to be correct (to add to its where as a guard), or `undefined`
   * when this level wrote no encrypted value. For a write that needs no key (`NOT_READ`) or
   * cannot run (an upsert's update branch guarded by a fresh key): its nested writes into
   * existing rows are made to match no row (see nested-writes.ts).
   */
  async update(model: ModelInfo | undefined, data: unknown, row: RowKey): Promise<string | null | undefined> {
    if (!model?.touchesEncryption || !isPlainObject(data)) return undefined;
    const plain = collectPlaintext(model, data);
    let guard: string | null | undefined;
    let encrypted: Record<string, unknown> | undefined;
    const tenant = row.found ? tenantAfterUpdate(model, data, row) : undefined;
    if (Object.values(plain).some((value) => value !== null && value !== undefined)) {
      const dataKey = row.found ? row.dataKey : null;
      const result = await this.#ctx.envelope.encryptForRow({
        table: model.table,
        values: byColumn(model, plain),
        dataKey,
        output: outputs(model),
        ...tenantInput(tenant),
      });
      // A new key (legacy row) or a v1 column upgraded to v2: the values were made under the new text.
      if (result.dataKeyChanged) data[model.dataKey as string] = result.dataKey;
      encrypted = result.values;
      // Legacy row: only while its data-key column is still null. Unread row: no row holds a fresh key, so nothing is written.
      guard = row.found ? row.dataKey : result.dataKey;
    }
    this.#apply(model, data, plain, encrypted);
    await this.#nested.apply(model, data, undefined);
    return guard;
  }

  /** {@link update} of data that needs no data key (nulls, plain fields, blind indexes). */
  async writeWithoutKeys(model: ModelInfo, data: unknown): Promise<void> {
    await this.update(model, data, NOT_READ);
  }

  /**
   * Prepares a write into existing rows for core's row-key protocol: takes the encrypted fields
   * out of `data` and returns their plaintext by column (for `envelope.writeToRows`, which
   * encrypts them per row under that row's key); writes their blind indexes into `data`.
   * `rowFilter` identifies the rows, read in this transaction, that the write will update: their
   * nested writes into existing child rows are made now, through the protocol (nested-writes.ts).
   * Without it they are made to match no row.
   */
  async prepareRowUpdate(
    model: ModelInfo,
    data: Record<string, unknown>,
    rowFilter?: Record<string, unknown>,
  ): Promise<RowValues> {
    const plain = collectPlaintext(model, data);
    for (const [field, value] of Object.entries(plain)) if (value !== undefined) delete data[field];
    this.#apply(model, data, plain, undefined);
    await this.#nested.apply(model, data, rowFilter);
    return byColumn(model, plain);
  }

  /**
   * Prepares an update that encrypts nothing (plain fields, blind indexes, nulls) for a write
   * guarded on the row's key; returns the encrypted columns it sets to null, by column.
   */
  async prepareClearing(model: ModelInfo, data: Record<string, unknown>): Promise<RowValues> {
    await this.update(model, data, NOT_READ);
    const cleared: Record<string, null> = {};
    for (const field of model.encrypted.values()) {
      const value = data[field.name];
      if (value === undefined) continue;
      if (value !== null && !(isPlainObject(value) && value.set === null))
        throw new Error(`@fieldseal/prisma: ${model.name}.${field.name} written without encryption (bug)`);
      cleared[field.column] = null;
    }
    return cleared;
  }

  /** {@link create} for one new row or a list of them (Prisma accepts both); returns them. */
  async createEach(model: ModelInfo | undefined, rows: unknown): Promise<unknown> {
    await Promise.all((Array.isArray(rows) ? rows : [rows]).map((row) => this.create(model, row)));
    return rows;
  }

  /** True when encrypting this update needs data keys of existing rows, at this level or in nested writes. */
  needsKeys(model: ModelInfo | undefined, data: unknown): boolean {
    if (!model?.touchesEncryption || !isPlainObject(data)) return false;
    if (touchesTenant(model, data)) return true;
    for (const field of model.encrypted.keys()) {
      const value = unwrapSet(data[field]);
      if (value !== undefined && value !== null) return true;
    }
    for (const [field, ops] of Object.entries(data)) {
      const relation = model.relations.get(field);
      if (!relation || !isPlainObject(ops)) continue;
      const child = this.#ctx.schema.model(relation.model);
      for (const item of asList(ops.update))
        if (this.needsKeys(child, updateData(relation, child, item).data)) return true;
      for (const item of asList(ops.updateMany))
        if (isPlainObject(item) && this.needsKeys(child, item.data)) return true;
      for (const item of asList(ops.upsert))
        if (isPlainObject(item) && this.needsKeys(child, item.update)) return true;
    }
    return false;
  }

  /** Writes ciphertext, blind indexes and nulls into `data`. */
  #apply(
    model: ModelInfo,
    data: Record<string, unknown>,
    plain: Record<string, PlaintextValue | null | undefined>,
    encrypted: Record<string, unknown> | undefined,
  ): void {
    for (const [field, value] of Object.entries(plain)) {
      if (value === undefined) continue;
      const info = model.encrypted.get(field);
      if (!info) continue;
      if (encrypted) data[field] = encrypted[info.column];
      if (info.blindIndex)
        data[info.blindIndex] = value === null ? null : blindIndexValue(this.#ctx, model, field, value);
    }
  }
}

// The shapes of Prisma write data, as far as encryption cares: which encrypted fields a write
// sets and to what.

/** The value of a scalar update: `value` itself, or `{ set: value }`. */
export function unwrapSet(value: unknown): unknown {
  return isPlainObject(value) && 'set' in value ? value.set : value;
}

/**
 * The plaintext of each encrypted field being written (`undefined`: not written). Refuses writes
 * of the data-key and blind-index fields, which fieldseal alone keeps consistent.
 */
export function collectPlaintext(
  model: ModelInfo,
  data: Record<string, unknown>,
): Record<string, PlaintextValue | null | undefined> {
  for (const field of [model.dataKey, ...model.indexOf.keys()]) {
    if (field !== undefined && data[field] !== undefined) {
      throw unsupported(
        'forbidden-write',
        `${model.name}.${field} is written by fieldseal (${field === model.dataKey ? 'the row data key' : 'a blind index'}); remove it from the data`,
        model,
        field,
      );
    }
  }
  const plain: Record<string, PlaintextValue | null | undefined> = {};
  for (const field of model.encrypted.keys()) {
    if (!(field in data)) continue;
    const raw = data[field];
    if (isPlainObject(raw) && Object.keys(raw).some((key) => key !== 'set')) {
      throw unsupported(
        'unsupported-update',
        `Only "set" can update encrypted field ${model.name}.${field}`,
        model,
        field,
      );
    }
    plain[field] = unwrapSet(raw) as PlaintextValue | null | undefined;
    if (isPlainObject(raw)) data[field] = plain[field];
  }
  return plain;
}

/** The plaintexts keyed by database column, as the row envelope binds them. */
export function byColumn(
  model: ModelInfo,
  plain: Record<string, PlaintextValue | null | undefined>,
): RowValues {
  const values: Record<string, PlaintextValue | null | undefined> = {};
  for (const [field, value] of Object.entries(plain))
    values[model.encrypted.get(field)?.column ?? field] = value;
  return values;
}
