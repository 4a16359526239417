import { isWriteConflictError, type RowValues } from '@fieldseal/core';
import type { ModelInfo } from '../setup/encryption-schema.js';
import { providerOf } from '../setup/stored-tables.js';
import { cloneArgs, isPlainObject, type QueryContext } from './context.js';
import { NOT_READ, WriteEncryptor } from './data-encryptor.js';
import {
  decryptKept,
  decryptResult,
  fillPlaintext,
  prepareSelection,
  type ReadRow,
  type ResultShape,
  returnedEncrypted,
  shapeAtPath,
  writtenPlaintext,
} from './result-decryption.js';
import {
  hasValues,
  nothing,
  prismaRowKeyPort,
  protocolInput,
  withConditions,
  writeKeyGuarded,
} from './row-key-port.js';
import { tenantInput, tenantOfRow } from './tenant-scope.js';
import { type Call, QueryRunner, retriedTransaction, writeAndDecrypt } from './transaction.js';

// Writes into existing rows: `update`, `updateMany`, `upsert` and `delete` of top-level rows.
// Each reads top-down: what the result returns and whether the write needs the rows' data keys;
// read each row's key; encrypt under it through core's row-key protocol (`envelope.writeToRows`,
// which re-reads and retries a row whose guard missed); the guarded write; the result.
// A single-row `update` or `delete` first tries two statements and no transaction (see
// `inOneStatement` below); the rest runs in a transaction (the app's, or one of our own).
// Nested writes into existing child rows are made by the encryptor (nested-writes.ts).

/**
 * `update` of one row by a unique where. On PostgreSQL and SQLite, outside a transaction and
 * without nested writes, it takes two statements (see {@link inOneStatement}). Otherwise the
 * guarded write is an `updateMany` of the scalar data (its count is the database's own: Prisma's
 * MySQL `update` re-selects the row and reports it even when the guarded UPDATE changed nothing);
 * nested writes and the returned row follow by the row's id, in the same transaction.
 */
export async function update(ctx: QueryContext, model: ModelInfo, call: Call): Promise<unknown> {
  const { args } = call;
  const shape = shapeAtPath(prepareSelection(ctx, model, args), call.params.dataPath);
  const plainOnly = new WriteEncryptor(ctx);
  const needsKeys = plainOnly.needsKeys(model, args.data);
  // Prisma's own single statement when nothing returned needs decrypting and no key is needed.
  if (needsKeys || shape) {
    const result = await inOneStatement(ctx, model, call, shape);
    if (result !== TRANSACTIONAL) return result;
  }
  if (!needsKeys) {
    await plainOnly.update(model, args.data, NOT_READ);
    return writeAndDecrypt(ctx, call, shape, args);
  }
  return retriedTransaction(
    call,
    args,
    async (runner, attempt) => {
      const data = attempt.data as Record<string, unknown>;
      const port = guardedPort(model, runner, attempt.where as Record<string, unknown>, data);
      const [row] = await port.readKeys();
      const values = await new WriteEncryptor(ctx, runner).prepareRowUpdate(
        model,
        data,
        row?.id ?? port.where,
      );
      if (row && hasValues(values))
        await ctx.envelope.writeToRows({ ...protocolInput(model, values), port, known: [row] });
      const written = row && (!hasValues(values) || port.results.length > 0);
      // No row (or it vanished): Prisma's own "record not found", from a write that matches nothing.
      const where = written ? uniqueWhere(model, row.id) : nothing(model, port.where);
      const rest = written && hasValues(values) ? relationData(model, data) : data;
      return decryptResult(ctx, shape, await runner.proceed({ ...attempt, where, data: rest }));
    },
    retryConflict,
  );
}

/**
 * `delete` of one row. Encrypted values it returns are decrypted before a guarded delete (see
 * {@link inOneStatement}), else in one transaction with the delete.
 */
export async function deleteRow(ctx: QueryContext, model: ModelInfo, call: Call): Promise<unknown> {
  const shape = shapeAtPath(prepareSelection(ctx, model, call.args), call.params.dataPath);
  if (shape) {
    const result = await inOneStatement(ctx, model, call, shape);
    if (result !== TRANSACTIONAL) return result;
  }
  return writeAndDecrypt(ctx, call, shape, call.args);
}

/** `updateMany` / `updateManyAndReturn`: one guarded statement per row (each row has its own key). */
export async function updateMany(
  ctx: QueryContext,
  model: ModelInfo,
  call: Call,
  returning: boolean,
): Promise<unknown> {
  const { args } = call;
  const shape = returning ? prepareSelection(ctx, model, args) : undefined;
  const plainOnly = new WriteEncryptor(ctx);
  if (!plainOnly.needsKeys(model, args.data)) {
    await plainOnly.update(model, args.data, NOT_READ);
    return writeAndDecrypt(ctx, call, shape, args);
  }
  const { limit, ...rest } = args;
  const { action } = call.params;
  return retriedTransaction(
    call,
    args,
    async (runner) => {
      const data = { ...(args.data as Record<string, unknown>) };
      const where = (args.where ?? {}) as Record<string, unknown>;
      const values = await new WriteEncryptor(ctx, runner).prepareRowUpdate(model, data, where);
      const port = prismaRowKeyPort(model, runner, {
        where,
        read: 'findMany',
        changes: data,
        ...(typeof limit === 'number' ? { take: limit } : {}),
        write: async (guarded, encrypted) => {
          const result = await runner.run(model, action, {
            ...rest,
            where: guarded,
            data: { ...data, ...encrypted },
          });
          const count = Array.isArray(result) ? result.length : Number((result as { count: number }).count);
          return count === 1 ? result : undefined;
        },
      });
      await ctx.envelope.writeToRows({ ...protocolInput(model, values), port });
      // The count of rows written, not of rows matched when read: a row deleted meanwhile is not counted.
      return returning ? decryptResult(ctx, shape, port.results.flat()) : { count: port.results.length };
    },
    retryConflict,
  );
}

/**
 * `upsert`: a row found by the unique where is updated through the protocol; otherwise the
 * create branch runs under a fresh key, with the update branch guarded by that fresh key (which
 * no existing row holds). A row inserted meanwhile makes the create fail on the unique
 * constraint; the upsert is then retried (outside an app transaction, which that failure aborts).
 */
export async function upsert(ctx: QueryContext, model: ModelInfo, call: Call): Promise<unknown> {
  const { args } = call;
  const shape = shapeAtPath(prepareSelection(ctx, model, args), call.params.dataPath);
  const plainOnly = new WriteEncryptor(ctx);
  if (!plainOnly.needsKeys(model, args.update)) {
    await plainOnly.create(model, args.create);
    await plainOnly.update(model, args.update, NOT_READ);
    // The create branch's row is filled from the plaintext just encrypted; an updated row is decrypted in the transaction.
    return writeAndDecrypt(ctx, call, shape, args, { written: plainOnly.written });
  }
  return retriedTransaction(
    call,
    args,
    async (runner, attempt) => {
      const writer = new WriteEncryptor(ctx, runner);
      const { where: _where, create: _create, update: changes, ...selection } = attempt;
      const data = changes as Record<string, unknown>;
      const port = guardedPort(model, runner, attempt.where as Record<string, unknown>, data);
      const [row] = await port.readKeys();
      if (row) {
        const values = await writer.prepareRowUpdate(model, data, row.id);
        if (hasValues(values))
          await ctx.envelope.writeToRows({ ...protocolInput(model, values), port, known: [row] });
        if (!hasValues(values) || port.results.length > 0) {
          const where = uniqueWhere(model, row.id);
          const updated = await runner.run(model, 'update', {
            ...selection,
            where,
            data: hasValues(values) ? relationData(model, data) : data,
          });
          return decryptResult(ctx, shape, updated);
        }
      }
      await writer.create(model, attempt.create);
      const fresh = (attempt.create as Record<string, unknown>)[model.dataKey as string] as string;
      const tenant = tenantInput(tenantOfRow(model, attempt.create as Record<string, unknown>));
      await writer.update(model, attempt.update, { found: true, dataKey: fresh, ...tenant });
      // The update branch (if Prisma takes it after all) applies only to a row holding the fresh key: none.
      const base = isPlainObject(port.where) ? port.where : {};
      const where = withConditions(base, [{ [model.dataKey as string]: fresh }]);
      return decryptResult(ctx, shape, await runner.proceed({ ...attempt, where }), writer.written);
    },
    // Also a write conflict, as for update (nested writes of the update branch included).
    (code) => code === 'P2002' || retryConflict(code),
  );
}

/** What {@link inOneStatement} returns when the write takes the transactional path instead: nothing was written. */
const TRANSACTIONAL: unique symbol = Symbol('transactional');

/**
 * `update` or `delete` of one row by a unique where in two statements and no transaction, where
 * Prisma's are one `UPDATE|DELETE … WHERE … RETURNING` (PostgreSQL, SQLite): read the row's id,
 * data key and the encrypted values the result returns; decrypt those now; write with Prisma's
 * own operation, its where guarded on the data key and on the ciphertext read. The row it
 * returns is the row as written, and nothing is decrypted after the write commits: an error
 * still means "not written". Encrypted values go through core's row-key protocol; an update of
 * plain fields only, or a delete, retries a missed guard the same way. A row that is gone ends
 * in Prisma's own "record not found" (P2025), with nothing written.
 *
 * Returns {@link TRANSACTIONAL} (nothing written) where the write cannot take this path (see
 * {@link oneStatementPossible}), or when the row kept changing under it (3 missed passes): the
 * transactional path then waits on the row's lock instead of racing it.
 */
async function inOneStatement(
  ctx: QueryContext,
  model: ModelInfo,
  call: Call,
  shape: ResultShape | undefined,
): Promise<unknown> {
  if (!oneStatementPossible(model, call, shape)) return TRANSACTIONAL;
  // A copy: on contention the app's arguments go to the transactional path untouched.
  const { where: appWhere, data: appData, ...selection } = cloneArgs(call.args);
  const action = call.params.action as 'update' | 'delete';
  const where = appWhere as Record<string, unknown>;
  const data = appData as Record<string, unknown> | undefined;
  const runner = QueryRunner.direct(call.query, call.params);
  const writer = new WriteEncryptor(ctx);
  const encrypting = data !== undefined && writer.needsKeys(model, data);
  // Written fields: encrypted later by the protocol, or (nothing to encrypt) cleared to null now.
  const values: RowValues = !data
    ? {}
    : encrypting
      ? await writer.prepareRowUpdate(model, data, where)
      : await writer.prepareClearing(model, data);
  const dataOf = (encrypted: Record<string, unknown>) => (data ? { data: { ...data, ...encrypted } } : {});
  // The encrypted fields the result returns and this write leaves as they are: read, decrypted and guarded.
  const kept = returnedEncrypted(ctx, model, call.args).filter(
    (field) => values[model.encrypted.get(field)?.column as string] === undefined,
  );
  let current: ReadRow | undefined;
  const port = prismaRowKeyPort(model, runner, {
    where,
    read: 'findUnique',
    ...(data ? { changes: data } : {}),
    readAlso: Object.fromEntries(kept.map((field) => [field, true])),
    onRead: async ([row]) => {
      current = row ? await decryptKept(ctx, model, kept, row) : undefined;
    },
    write: async (guarded, encrypted) => {
      const read = current as ReadRow;
      const guards = Object.entries(read.stored).map(([field, value]) => ({ [field]: value }));
      try {
        return await runner.run(model, action, {
          ...selection,
          where: withConditions(guarded, guards),
          ...dataOf(encrypted),
        });
      } catch (error) {
        if ((error as { code?: unknown }).code === 'P2025') return undefined; // the guard missed
        throw error;
      }
    },
  });
  const [row] = await port.readKeys();
  try {
    if (row && encrypting)
      await ctx.envelope.writeToRows({ ...protocolInput(model, values), port, known: [row] });
    else if (row) await writeKeyGuarded(model, port, row);
  } catch (error) {
    // Other writers kept changing the row (its key, or a value it returns). Nothing was written here.
    if (isWriteConflictError(error)) return TRANSACTIONAL;
    throw error;
  }
  const [written] = port.results as Record<string, unknown>[];
  // No row, or it vanished between read and write: Prisma's own "record not found", nothing written.
  if (!written || !current)
    return runner.run(model, action, { ...selection, where: nothing(model, where), ...dataOf({}) });
  // (A returned field not foreseen by `returnedEncrypted` is decrypted here instead: never returned as ciphertext.)
  if (shape && !fillPlaintext(shape, written, { ...current.plain, ...writtenPlaintext(values) }))
    return decryptResult(ctx, shape, written);
  return written;
}

/**
 * True when `update` or `delete` can take the one-statement path: outside any transaction (in
 * the app's, its statements are the app's to batch), a top-level call (not a fluent one), no
 * nested writes and no relations in the result (their rows would be decrypted after the commit),
 * on a database whose `update`/`delete` returns the row in the same statement. MySQL's `update`
 * selects the row again after the UPDATE and reports it even when the guarded UPDATE changed
 * nothing, so MySQL keeps the transactional path.
 */
function oneStatementPossible(model: ModelInfo, call: Call, shape: ResultShape | undefined): boolean {
  const { params, args } = call;
  if (params.transaction !== undefined || params.dataPath.length > 0 || model.dataKey === undefined)
    return false;
  if (shape && shape.relations.size > 0) return false;
  if (params.action === 'update') {
    if (!isPlainObject(args.data) || Object.keys(args.data).some((key) => model.relations.has(key)))
      return false;
  } else if (params.action !== 'delete') return false;
  if (!isPlainObject(args.where) || (isPlainObject(args.select) && args.select._count)) return false;
  return returnsInOneStatement(call.client);
}

const dialects = new WeakMap<object, boolean>();

function returnsInOneStatement(client: unknown): boolean {
  if (typeof client !== 'object' || client === null) return false;
  let known = dialects.get(client);
  if (known === undefined) {
    const dialect = providerOf(client);
    known = dialect === 'postgres' || dialect === 'sqlite';
    dialects.set(client, known);
  }
  return known;
}

/** A port whose guarded write is an `updateMany` of `data`'s scalar fields, hitting one row or none. */
function guardedPort(
  model: ModelInfo,
  runner: QueryRunner,
  where: Record<string, unknown>,
  data: Record<string, unknown>,
) {
  return prismaRowKeyPort(model, runner, {
    where,
    read: 'findUnique',
    changes: data,
    write: async (guarded, encrypted) => {
      const scalars = Object.fromEntries(Object.entries(data).filter(([key]) => !model.relations.has(key)));
      const result = await runner.run(model, 'updateMany', {
        where: guarded,
        data: { ...scalars, ...encrypted },
      });
      return Number((result as { count: number }).count) === 1 ? result : undefined;
    },
  });
}

/** The nested writes of `data` (relation fields): they run after the guarded write, by id. */
function relationData(model: ModelInfo, data: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(data).filter(([key]) => model.relations.has(key)));
}

/** The row's id as a unique where (`{ id }`, or Prisma's default compound name `a_b: { a, b }`). */
function uniqueWhere(model: ModelInfo, id: Record<string, unknown>): Record<string, unknown> {
  if (model.idFields.length === 1) return id;
  return { [model.idFields.join('_')]: id };
}

/**
 * A transaction of our own whose rows kept missing their guard is retried as a whole: on MySQL
 * (REPEATABLE READ) a re-read inside it sees its first snapshot, not the concurrent rotation.
 */
function retryConflict(code: unknown): boolean {
  return code === 'write-conflict';
}
