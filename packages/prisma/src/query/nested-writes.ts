import type { RowValues } from '@fieldseal/core';
import { unsupported } from '../errors.js';
import type { EncryptionSchema, ModelInfo, Relation } from '../setup/encryption-schema.js';
import { rewriteWhere } from './blind-index-filter.js';
import { cloneArgs, isPlainObject, mapOneOrManyAsync, type QueryContext } from './context.js';
import type { RowKey } from './data-encryptor.js';
import {
  hasValues,
  idsFilter,
  type KeyRow,
  prismaRowKeyPort,
  protocolInput,
  withConditions,
} from './row-key-port.js';
import type { QueryRunner } from './transaction.js';

// Nested writes into existing child rows (`update`, `updateMany`, `upsert` under a parent's
// update) follow core's row-key protocol, like top-level writes. Prisma runs a nested write
// inside the parent's statement, where no guard can be checked or retried: a guard that misses
// there skips rows silently (updateMany) or fails with a misleading P2025 (update). So the
// encrypted values are taken out of the nested args and written first, one guarded statement per
// child row, through `envelope.writeToRows` in the same transaction (re-read and retried on a
// miss, `WriteConflictError` after three passes). The nested op stays in the args, for Prisma to
// write the plain fields and blind indexes and to build the returned result, restricted to the
// rows the protocol wrote: those rows are locked by that write until the transaction ends, so
// Prisma's op matches exactly them. A row that was not there (or vanished, or stopped matching)
// gets nothing: the nested update then fails with Prisma's own "record not found", the upsert
// takes its create branch, the updateMany skips it as Prisma would.
// (The alternative, locking the child rows with a raw `SELECT … FOR UPDATE` before reading their
// keys, needs raw SQL with the adapter's table and schema names, and leaves the retry logic to
// the adapter; core owns it.)

/** What nested writes need of the encryptor of their parent's data. */
export interface ParentEncryptor {
  create(model: ModelInfo | undefined, data: unknown, dataKey?: string): Promise<void>;
  createEach(model: ModelInfo | undefined, rows: unknown): Promise<unknown>;
  /** Encrypts a write that needs no data key (plain fields, nulls, blind indexes). */
  writeWithoutKeys(model: ModelInfo, data: unknown): Promise<void>;
  /** Encrypts an update of a row that was not read: under a fresh key, which no row holds. */
  update(model: ModelInfo, data: unknown, row: RowKey): Promise<unknown>;
  prepareRowUpdate(
    model: ModelInfo,
    data: Record<string, unknown>,
    rowFilter?: Record<string, unknown>,
  ): Promise<RowValues>;
  needsKeys(model: ModelInfo | undefined, data: unknown): boolean;
}

/** Rewrites the nested writes of one level of write data (see the comment above). */
export class NestedWrites {
  readonly #ctx: QueryContext;
  readonly #parent: ParentEncryptor;
  readonly #runner: QueryRunner | undefined;

  constructor(ctx: QueryContext, parent: ParentEncryptor, runner: QueryRunner | undefined) {
    this.#ctx = ctx;
    this.#parent = parent;
    this.#runner = runner;
  }

  /**
   * Encrypts the nested writes in `data` (a write of `model`). `parentFilter` identifies the
   * parent rows when they were read in this transaction and the parent write will run: nested
   * writes into existing rows are then made now, through the protocol. Without it (a new row, or
   * an upsert's update branch that cannot run) they are made to match no row.
   */
  async apply(
    model: ModelInfo,
    data: Record<string, unknown>,
    parentFilter: Record<string, unknown> | undefined,
  ): Promise<void> {
    for (const [field, ops] of Object.entries(data)) {
      const relation = model.relations.get(field);
      const child = relation && this.#ctx.schema.model(relation.model);
      if (!relation || !child?.touchesEncryption || !isPlainObject(ops)) continue;
      const related = parentFilter && relatedRowsFilter(this.#ctx.schema, model, relation, parentFilter);
      for (const [op, arg] of Object.entries(ops)) {
        ops[op] = await this.#op(relation, child, op, arg, related);
      }
    }
  }

  async #op(
    relation: Relation,
    child: ModelInfo,
    op: string,
    arg: unknown,
    related: Record<string, unknown> | undefined,
  ): Promise<unknown> {
    const where = (value: unknown) => rewriteWhere(this.#ctx, child, value);
    switch (op) {
      case 'create':
        return this.#parent.createEach(child, arg);
      case 'createMany':
        if (isPlainObject(arg)) await this.#parent.createEach(child, arg.data);
        return arg;
      case 'connectOrCreate':
        // The create branch makes a new row under a fresh key; connect writes no encrypted value.
        return mapOneOrManyAsync(arg, async (item) => {
          if (!isPlainObject(item)) return item;
          await this.#parent.create(child, item.create);
          return { ...item, where: where(item.where) };
        });
      case 'connect':
      case 'set':
      case 'disconnect':
      case 'delete':
      case 'deleteMany':
        return mapOneOrManyAsync(arg, async (item) => (isPlainObject(item) ? where(item) : item));
      case 'update':
        return mapOneOrManyAsync(arg, (item) => this.#update(relation, child, item, related));
      case 'updateMany':
        return mapOneOrManyAsync(arg, (item) => this.#updateMany(child, item, related));
      case 'upsert':
        return mapOneOrManyAsync(arg, (item) => this.#upsert(child, item, related));
      default:
        throw unsupported(
          'unknown-operation',
          `Nested "${op}" on relation to ${child.name} is not known to @fieldseal/prisma`,
          child,
        );
    }
  }

  async #update(
    relation: Relation,
    child: ModelInfo,
    item: unknown,
    related: Record<string, unknown> | undefined,
  ): Promise<unknown> {
    const { wrapped, data } = updateData(relation, child, item);
    const where = wrapped && isPlainObject(item) ? rewriteWhere(this.#ctx, child, item.where) : undefined;
    if (!this.#parent.needsKeys(child, data) || !isPlainObject(data)) {
      if (isPlainObject(data)) await this.#parent.writeWithoutKeys(child, data);
      if (!relation.list && !wrapped) return data;
      return { ...(where === undefined ? {} : { where }), data };
    }
    const pristine = cloneArgs(data);
    const written = await this.#writeRows(child, data, where, related, true);
    const restricted = withConditions(filterOf(where), [idsFilter(child, written)]);
    if (written.length > 0) return { where: restricted, data };
    // No row written: Prisma must fail with its own "record not found", but it skips a nested
    // update whose data is empty. So the data stays whole, encrypted under a fresh key that no
    // row holds, behind a where that matches no row.
    await this.#parent.update(child, pristine, { found: false });
    return { where: restricted, data: pristine };
  }

  async #updateMany(
    child: ModelInfo,
    item: unknown,
    related: Record<string, unknown> | undefined,
  ): Promise<unknown> {
    if (!isPlainObject(item)) return item;
    const where = rewriteWhere(this.#ctx, child, item.where);
    if (!this.#parent.needsKeys(child, item.data) || !isPlainObject(item.data)) {
      await this.#parent.writeWithoutKeys(child, item.data);
      return { ...item, where };
    }
    const data = item.data;
    const written = await this.#writeRows(child, data, where, related, false);
    return { ...item, where: withConditions(filterOf(where), [idsFilter(child, written)]), data };
  }

  async #upsert(
    child: ModelInfo,
    item: unknown,
    related: Record<string, unknown> | undefined,
  ): Promise<unknown> {
    if (!isPlainObject(item)) return item;
    const where = item.where === undefined ? undefined : rewriteWhere(this.#ctx, child, item.where);
    // The create branch makes a new row: a fresh key, whichever branch runs.
    await this.#parent.create(child, item.create);
    if (!this.#parent.needsKeys(child, item.update) || !isPlainObject(item.update)) {
      await this.#parent.writeWithoutKeys(child, item.update);
      return { ...item, ...(where === undefined ? {} : { where }) };
    }
    // The update branch runs only on the row the protocol wrote; with none, Prisma creates.
    const written = await this.#writeRows(child, item.update, where, related, true);
    return { ...item, where: withConditions(filterOf(where), [idsFilter(child, written)]) };
  }

  /**
   * Writes the encrypted values of `data` into the child rows matching `where` (and belonging
   * to the parent, `related`) through core's protocol; leaves in `data` what Prisma's nested op
   * still writes (plain fields, blind indexes, and deeper nested writes, made by the row's id).
   * Returns the ids of the rows written: none without a parent that will be written.
   */
  async #writeRows(
    child: ModelInfo,
    data: Record<string, unknown>,
    where: unknown,
    related: Record<string, unknown> | undefined,
    single: boolean,
  ): Promise<readonly KeyRow[]> {
    if (related === undefined) {
      await this.#parent.prepareRowUpdate(child, data);
      return [];
    }
    const runner = this.#runner;
    if (!runner)
      throw new Error('@fieldseal/prisma: a nested write into existing rows outside a transaction (bug)');
    const port = prismaRowKeyPort(child, runner, {
      where: and(related, where),
      read: 'findMany',
      ...(single ? { take: 1 } : {}),
      rereadWithinWhere: true,
      changes: data,
      write: async (guarded, encrypted) => {
        const result = await runner.run(child, 'updateMany', { where: guarded, data: encrypted });
        return Number((result as { count: number }).count) === 1 ? result : undefined;
      },
    });
    const read = await port.readKeys();
    const only = single ? read[0] : undefined;
    const values = await this.#parent.prepareRowUpdate(child, data, only?.id);
    if (read.length === 0 || !hasValues(values)) return read.map((row) => row.id);
    const { written } = await this.#ctx.envelope.writeToRows({
      ...protocolInput(child, values),
      port,
      known: read,
    });
    return written;
  }
}

/** A nested update item's data: `{ where, data }` for lists, and for to-one either that or the data itself. */
export function updateData(
  relation: Relation,
  child: ModelInfo | undefined,
  item: unknown,
): { wrapped: boolean; data: unknown } {
  if (!isPlainObject(item)) return { wrapped: false, data: item };
  if (relation.list) return { wrapped: true, data: item.data };
  const keys = Object.keys(item);
  const wrapped =
    'data' in item &&
    keys.every((key) => key === 'data' || key === 'where') &&
    (keys.includes('where') || !child?.relations.has('data'));
  return wrapped ? { wrapped, data: item.data } : { wrapped, data: item };
}

/** A nested where as a filter object (a to-one update or upsert may have none). */
function filterOf(where: unknown): Record<string, unknown> {
  return isPlainObject(where) ? where : {};
}

/** AND of the given filters, skipping missing ones. */
export function and(...filters: unknown[]): Record<string, unknown> {
  const present = filters.filter((filter) => isPlainObject(filter) && Object.keys(filter).length > 0);
  if (present.length === 0) return {};
  if (present.length === 1) return present[0] as Record<string, unknown>;
  return { AND: present };
}

/** The rows of `relation`'s target that belong to the parent rows matched by `parentFilter`. */
export function relatedRowsFilter(
  schema: EncryptionSchema,
  model: ModelInfo,
  relation: Relation,
  parentFilter: Record<string, unknown>,
): Record<string, unknown> {
  const back = schema.backRelation(model, relation) as Relation; // checked when the extension is built
  return { [back.field]: back.list ? { some: parentFilter } : { is: parentFilter } };
}
