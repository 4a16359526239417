import type { PlaintextValue, RowValues } from '@fieldseal/core';
import { unsupported } from '../errors.js';
import type { ModelInfo, Relation } from '../setup/encryption-schema.js';
import { blindIndexValue, rewriteWhere } from './blind-index-filter.js';
import { asList, isPlainObject, mapOneOrManyAsync, type QueryContext } from './context.js';
import {
  and,
  groupByDataKey,
  guardWhere,
  idFilter,
  idsFilter,
  type KeyRow,
  keySelect,
  relatedRowsFilter,
} from './row-filters.js';
import type { QueryRunner } from './transaction.js';
import { byColumn, collectPlaintext, outputs, unwrapSet, updateData } from './write-shapes.js';

/** What is known of the row an update writes into: its data key as read in this transaction, or that it was not found. */
export type RowKey = { readonly found: true; readonly dataKey: string | null } | { readonly found: false };

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
 * Mutates `data` (Prisma hands each extension its own copy).
 */
export class WriteEncryptor {
  readonly #ctx: QueryContext;
  readonly #runner: QueryRunner | undefined;

  constructor(ctx: QueryContext, runner?: QueryRunner) {
    this.#ctx = ctx;
    this.#runner = runner;
  }

  /** Encrypts a new row's data, under `dataKey` when given (an upsert's create branch) or a fresh key. */
  async create(model: ModelInfo | undefined, data: unknown, dataKey?: string): Promise<void> {
    if (!model?.touchesEncryption || !isPlainObject(data)) return;
    const plain = collectPlaintext(model, data);
    if (model.dataKey !== undefined) {
      const input = { table: model.table, values: byColumn(model, plain), output: outputs(model) };
      const encrypted =
        dataKey === undefined
          ? await this.#ctx.envelope.encryptRow(input)
          : await this.#ctx.envelope.encryptForRow({ ...input, dataKey });
      this.#apply(model, data, plain, encrypted.values);
      data[model.dataKey] = encrypted.dataKey;
    }
    await this.#nested(model, data, undefined);
  }

  /**
   * Encrypts an update of one row known as `row`. Returns the data-key value the row must still
   * hold for the write to be correct (to add to its where with `guardWhere`), or `undefined`
   * when this level wrote no encrypted value. `rowFilter` identifies the row for nested writes.
   */
  async update(
    model: ModelInfo | undefined,
    data: unknown,
    row: RowKey,
    rowFilter: Record<string, unknown>,
  ): Promise<string | null | undefined> {
    if (!model?.touchesEncryption || !isPlainObject(data)) return undefined;
    const plain = collectPlaintext(model, data);
    let guard: string | null | undefined;
    let encrypted: Record<string, unknown> | undefined;
    if (Object.values(plain).some((value) => value !== null && value !== undefined)) {
      const dataKey = row.found ? row.dataKey : null;
      const result = await this.#ctx.envelope.encryptForRow({
        table: model.table,
        values: byColumn(model, plain),
        dataKey,
        output: outputs(model),
      });
      // A new key (legacy row) or a v1 column upgraded to v2: the values were made under the new text.
      if (result.dataKeyChanged) data[model.dataKey as string] = result.dataKey;
      encrypted = result.values;
      // Legacy row: only while its data-key column is still null. Unread row: no row holds a fresh key, so nothing is written.
      guard = row.found ? row.dataKey : result.dataKey;
    }
    this.#apply(model, data, plain, encrypted);
    await this.#nested(model, data, rowFilter);
    return guard;
  }

  /**
   * Prepares a write into existing rows for core's row-key protocol: takes the encrypted fields
   * out of `data` and returns their plaintext by column (for `envelope.writeToRows`, which
   * encrypts them per row under that row's key); writes their blind indexes and the nested
   * writes into `data`. `rowFilter` identifies the rows, for nested writes.
   */
  async prepareRowUpdate(
    model: ModelInfo,
    data: Record<string, unknown>,
    rowFilter: Record<string, unknown>,
  ): Promise<RowValues> {
    const plain = collectPlaintext(model, data);
    for (const [field, value] of Object.entries(plain)) if (value !== undefined) delete data[field];
    this.#apply(model, data, plain, undefined);
    await this.#nested(model, data, rowFilter);
    return byColumn(model, plain);
  }

  /** {@link create} for one new row or a list of them (Prisma accepts both); returns them. */
  async createEach(model: ModelInfo | undefined, rows: unknown): Promise<unknown> {
    await Promise.all((Array.isArray(rows) ? rows : [rows]).map((row) => this.create(model, row)));
    return rows;
  }

  /** True when encrypting this update needs data keys of existing rows, at this level or in nested writes. */
  needsKeys(model: ModelInfo | undefined, data: unknown): boolean {
    if (!model?.touchesEncryption || !isPlainObject(data)) return false;
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

  /** Reads one row's id and data key in the transaction. */
  async readKey(
    model: ModelInfo,
    where: Record<string, unknown>,
    action: 'findFirst' | 'findUnique' = 'findFirst',
  ): Promise<{ row: KeyRow | null; key: RowKey }> {
    const row = (await this.#requireRunner().run(model, action, {
      where,
      select: keySelect(model),
    })) as KeyRow | null;
    return {
      row,
      key: row ? { found: true, dataKey: (row[model.dataKey as string] ?? null) as string | null } : NOT_READ,
    };
  }

  /** Reads the ids and data keys of every row matching `where`, grouped by data key. */
  async readKeyGroups(
    model: ModelInfo,
    where: Record<string, unknown>,
    take?: number,
  ): Promise<Map<string | null, KeyRow[]>> {
    const rows = (await this.#requireRunner().run(model, 'findMany', {
      where,
      select: keySelect(model),
      ...(take === undefined ? {} : { take }),
    })) as KeyRow[];
    return groupByDataKey(model, rows);
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

  async #nested(
    model: ModelInfo,
    data: Record<string, unknown>,
    rowFilter: Record<string, unknown> | undefined,
  ): Promise<void> {
    for (const [field, ops] of Object.entries(data)) {
      const relation = model.relations.get(field);
      const child = relation && this.#ctx.schema.model(relation.model);
      if (!relation || !child?.touchesEncryption || !isPlainObject(ops)) continue;
      const related = rowFilter && relatedRowsFilter(this.#ctx.schema, model, relation, rowFilter);
      for (const [op, arg] of Object.entries(ops)) {
        ops[op] = await this.#nestedOp(relation, child, op, arg, related);
      }
    }
  }

  async #nestedOp(
    relation: Relation,
    child: ModelInfo,
    op: string,
    arg: unknown,
    related: Record<string, unknown> | undefined,
  ): Promise<unknown> {
    const where = (value: unknown) => rewriteWhere(this.#ctx, child, value);
    switch (op) {
      case 'create':
        return this.createEach(child, arg);
      case 'createMany':
        if (isPlainObject(arg)) await this.createEach(child, arg.data);
        return arg;
      case 'connectOrCreate':
        return mapOneOrManyAsync(arg, async (item) => {
          if (!isPlainObject(item)) return item;
          await this.create(child, item.create);
          return { ...item, where: where(item.where) };
        });
      case 'connect':
      case 'set':
      case 'disconnect':
      case 'delete':
      case 'deleteMany':
        return mapOneOrManyAsync(arg, async (item) => (isPlainObject(item) ? where(item) : item));
      case 'update':
        return mapOneOrManyAsync(arg, (item) => this.#nestedUpdate(relation, child, item, related));
      case 'updateMany': {
        const items = await Promise.all(
          asList(arg).map((item) => this.#nestedUpdateMany(child, item, related)),
        );
        return items.flat();
      }
      case 'upsert':
        return mapOneOrManyAsync(arg, (item) => this.#nestedUpsert(child, item, related));
      default:
        throw unsupported(
          'unknown-operation',
          `Nested "${op}" on relation to ${child.name} is not known to @fieldseal/prisma`,
          child,
        );
    }
  }

  async #nestedUpdate(
    relation: Relation,
    child: ModelInfo,
    item: unknown,
    related: Record<string, unknown> | undefined,
  ): Promise<unknown> {
    const { wrapped, data } = updateData(relation, child, item);
    const where = wrapped && isPlainObject(item) ? rewriteWhere(this.#ctx, child, item.where) : undefined;
    const target = this.needsKeys(child, data)
      ? await this.readKey(child, and(related, where))
      : { row: null, key: NOT_READ };
    const rowFilter = target.row ? idFilter(child, target.row) : and(related, where);
    const guard = await this.update(child, data, target.key, rowFilter);
    const guarded = guard === undefined ? where : guardWhere(child, where, guard);
    if (relation.list || wrapped || guarded !== undefined)
      return { ...(guarded === undefined ? {} : { where: guarded }), data };
    return data;
  }

  async #nestedUpdateMany(
    child: ModelInfo,
    item: unknown,
    related: Record<string, unknown> | undefined,
  ): Promise<unknown[]> {
    if (!isPlainObject(item)) return [item];
    const where = rewriteWhere(this.#ctx, child, item.where);
    if (!this.needsKeys(child, item.data)) {
      await this.update(child, item.data, NOT_READ, {});
      return [{ ...item, where }];
    }
    const groups = await this.readKeyGroups(child, and(related, where));
    return Promise.all(
      [...groups].map(async ([dataKey, rows]) => {
        const data = { ...(item.data as Record<string, unknown>) };
        const guard = await this.update(child, data, { found: true, dataKey }, {});
        return { where: guardWhere(child, and(where, idsFilter(child, rows)), guard ?? dataKey), data };
      }),
    );
  }

  async #nestedUpsert(
    child: ModelInfo,
    item: unknown,
    related: Record<string, unknown> | undefined,
  ): Promise<unknown> {
    if (!isPlainObject(item)) return item;
    const where = item.where === undefined ? undefined : rewriteWhere(this.#ctx, child, item.where);
    const guard = await this.upsertBranches(child, item, and(related, where));
    const guarded = guard === undefined ? where : guardWhere(child, where, guard);
    return { ...item, ...(guarded === undefined ? {} : { where: guarded }) };
  }

  /**
   * Encrypts both branches of an upsert so whichever runs is correct: the row as read in this
   * transaction decides the key (its own, or the fresh key of the create branch); the returned
   * guard makes the update branch apply only to a row holding that key.
   */
  async upsertBranches(
    model: ModelInfo,
    item: Record<string, unknown>,
    target: Record<string, unknown>,
    action: 'findFirst' | 'findUnique' = 'findFirst',
  ): Promise<string | null | undefined> {
    if (!this.needsKeys(model, item.update)) {
      await this.create(model, item.create);
      await this.update(model, item.update, NOT_READ, target);
      return undefined;
    }
    const { row, key } = await this.readKey(model, target, action);
    if (key.found && key.dataKey !== null) {
      await this.create(model, item.create, key.dataKey);
      return this.update(model, item.update, key, idFilter(model, row as KeyRow));
    }
    await this.create(model, item.create);
    const created = isPlainObject(item.create) ? (item.create[model.dataKey as string] as string) : null;
    const rowKey: RowKey = key.found ? key : { found: true, dataKey: created };
    const guard = await this.update(model, item.update, rowKey, row ? idFilter(model, row) : target);
    return guard === undefined ? undefined : key.found ? null : created;
  }

  #requireRunner(): QueryRunner {
    if (!this.#runner) throw new Error('@fieldseal/prisma: a data-key read outside a transaction (bug)');
    return this.#runner;
  }
}
