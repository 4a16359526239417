import type { ModelInfo } from '../setup/encryption-schema.js';
import type { QueryContext } from './context.js';
import { NOT_READ, WriteEncryptor } from './data-encryptor.js';
import {
  CONTENDED,
  canWriteInOneStatement,
  hasValues,
  nothing,
  protocolInput,
  writeInOneStatement,
} from './one-statement-write.js';
import { decryptResult } from './result-decryption.js';
import { prepareSelection, shapeAtPath } from './result-shape.js';
import { guardWhere } from './row-filters.js';
import { prismaRowKeyPort } from './row-key-port.js';
import { tenantInput, tenantOfRow } from './tenant-scope.js';
import { type Call, type QueryRunner, retriedTransaction, writeAndDecrypt } from './transaction.js';

// Writes into existing rows. Encrypted values go through core's row-key protocol
// (`envelope.writeToRows`): read each row's data key in the operation's transaction, encrypt
// under it, write with a guard on the key, re-read and retry the rows whose guard missed.

/**
 * `update` of one row by a unique where. On PostgreSQL and SQLite, outside a transaction and
 * without nested writes, it takes two statements (see one-statement-write.ts). Otherwise the guarded write is an `updateMany` of the scalar
 * data (its count is the database's own: Prisma's MySQL `update` re-selects the row and reports
 * it even when the guarded UPDATE changed nothing); nested writes and the returned row follow
 * by the row's id, in the same transaction.
 */
export async function update(ctx: QueryContext, model: ModelInfo, call: Call): Promise<unknown> {
  const { args } = call;
  const shape = shapeAtPath(prepareSelection(ctx, model, args), call.params.dataPath);
  const plainOnly = new WriteEncryptor(ctx);
  const needsKeys = plainOnly.needsKeys(model, args.data);
  // Prisma's own single statement when nothing returned needs decrypting and no key is needed.
  if ((needsKeys || shape) && canWriteInOneStatement(model, call, shape)) {
    const result = await writeInOneStatement(ctx, model, call, shape);
    if (result !== CONTENDED) return result;
  }
  if (!needsKeys) {
    await plainOnly.update(model, args.data, NOT_READ, args.where as Record<string, unknown>);
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
    await plainOnly.update(model, args.data, NOT_READ, {});
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
    await plainOnly.update(model, args.update, NOT_READ, args.where as Record<string, unknown>);
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
      await writer.update(model, attempt.update, { found: true, dataKey: fresh, ...tenant }, port.where);
      return decryptResult(
        ctx,
        shape,
        await runner.proceed({ ...attempt, where: guardWhere(model, port.where, fresh) }),
        writer.written,
      );
    },
    // Also a write conflict, as for update (nested writes of the update branch included).
    (code) => code === 'P2002' || retryConflict(code),
  );
}

/**
 * A transaction of our own whose rows kept missing their guard is retried as a whole: on MySQL
 * (REPEATABLE READ) a re-read inside it sees its first snapshot, not the concurrent rotation.
 */
function retryConflict(code: unknown): boolean {
  return code === 'write-conflict';
}
