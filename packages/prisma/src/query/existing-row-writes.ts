import type { ModelInfo } from '../setup/encryption-schema.js';
import { WriteConflictError } from '../errors.js';
import { cloneArgs, type QueryContext } from './context.js';
import { decryptResult } from './result-decryption.js';
import { prepareSelection, type ResultShape, shapeAtPath } from './result-shape.js';
import { and, guardWhere, idFilter, idsFilter } from './row-filters.js';
import {
  type QueryFunction,
  QueryRunner,
  type RequestParams,
  type TransactionOptions,
} from './transaction.js';
import { NOT_READ, WriteEncryptor } from './data-encryptor.js';

/** One intercepted operation, as the extension received it. */
export interface Call {
  readonly client: unknown;
  readonly query: QueryFunction;
  readonly params: RequestParams;
  readonly args: Record<string, unknown>;
  readonly transactionOptions: TransactionOptions | undefined;
}

const ATTEMPTS = 3;

/**
 * `update`: when it writes encrypted values (here or in nested writes), reads the row's data key
 * in the same transaction, encrypts under it, and guards the write with it.
 */
export async function update(ctx: QueryContext, model: ModelInfo, call: Call): Promise<unknown> {
  const { args } = call;
  const shape = shapeAtPath(prepareSelection(ctx, model, args), call.params.dataPath);
  const probe = new WriteEncryptor(ctx);
  if (!probe.needsKeys(model, args.data)) {
    await probe.update(model, args.data, NOT_READ, args.where as Record<string, unknown>);
    return writeAndDecrypt(ctx, call, shape, args);
  }
  let legacy = false;
  return retriedTransaction(
    call,
    args,
    async (runner, attemptArgs) => {
      const writer = new WriteEncryptor(ctx, runner);
      const { row, key } = await writer.readKey(
        model,
        attemptArgs.where as Record<string, unknown>,
        'findUnique',
      );
      legacy = key.found && key.dataKey === null;
      const guard = await writer.update(
        model,
        attemptArgs.data,
        key,
        row ? idFilter(model, row) : (attemptArgs.where as Record<string, unknown>),
      );
      if (guard !== undefined) attemptArgs.where = guardWhere(model, attemptArgs.where, guard);
      return decryptResult(ctx, shape, await runner.proceed(attemptArgs));
    },
    // A legacy row was given its key by a concurrent writer between our read and our write, so
    // the guard ("key still null") made the write miss: read again and write under that key.
    (code) => legacy && code === 'P2025',
  );
}

/**
 * `updateMany` / `updateManyAndReturn`: when they write encrypted values, the matching rows are
 * read (ids and data keys) in the transaction and written per group of rows sharing one data
 * key — one statement per group, each guarded by that key.
 */
export async function updateMany(
  ctx: QueryContext,
  model: ModelInfo,
  call: Call,
  returning: boolean,
): Promise<unknown> {
  const { args } = call;
  const shape = returning ? prepareSelection(ctx, model, args) : undefined;
  const probe = new WriteEncryptor(ctx);
  if (!probe.needsKeys(model, args.data)) {
    await probe.update(model, args.data, NOT_READ, {});
    return writeAndDecrypt(ctx, call, shape, args);
  }
  return QueryRunner.inTransaction(
    call.client,
    call.query,
    call.params,
    call.transactionOptions,
    async (runner) => {
      const writer = new WriteEncryptor(ctx, runner);
      const limit = typeof args.limit === 'number' ? args.limit : undefined;
      const groups = await writer.readKeyGroups(model, args.where as Record<string, unknown>, limit);
      const statements = await Promise.all(
        [...groups].map(async ([dataKey, rows]) => {
          const data = { ...(args.data as Record<string, unknown>) };
          const guard = await writer.update(model, data, { found: true, dataKey }, {});
          const { limit: _limit, ...rest } = args;
          return {
            rows,
            dataKey,
            args: {
              ...rest,
              where: guardWhere(model, and(args.where, idsFilter(model, rows)), guard ?? dataKey),
              data,
            },
          };
        }),
      );
      let count = 0;
      const returned: unknown[] = [];
      for (const statement of statements) {
        const result = await runner.run(model, call.params.action, statement.args);
        const written = Array.isArray(result) ? result.length : Number((result as { count: number }).count);
        // Keyed rows keep their key for life; only a legacy row can have been given one meanwhile.
        if (statement.dataKey === null && written < statement.rows.length) {
          throw new WriteConflictError(
            `${model.name}.${call.params.action}: a concurrent writer gave a legacy row its data key; retry`,
            { location: { table: model.table } },
          );
        }
        count += written;
        if (Array.isArray(result)) returned.push(...result);
      }
      return returning ? decryptResult(ctx, shape, returned) : { count };
    },
  );
}

/**
 * `upsert`: the row is read by its unique where in the transaction; both branches are encrypted
 * under the key that decides (the row's, or the create branch's fresh one) and the where is
 * guarded by it. A row created concurrently makes the create branch fail on the unique
 * constraint; the upsert is then retried (outside an app transaction, which that failure aborts).
 */
export async function upsert(ctx: QueryContext, model: ModelInfo, call: Call): Promise<unknown> {
  const { args } = call;
  const shape = shapeAtPath(prepareSelection(ctx, model, args), call.params.dataPath);
  const probe = new WriteEncryptor(ctx);
  if (!probe.needsKeys(model, args.update)) {
    await probe.create(model, args.create);
    await probe.update(model, args.update, NOT_READ, args.where as Record<string, unknown>);
    return writeAndDecrypt(ctx, call, shape, args);
  }
  return retriedTransaction(
    call,
    args,
    async (runner, attemptArgs) => {
      const writer = new WriteEncryptor(ctx, runner);
      const guard = await writer.upsertBranches(
        model,
        attemptArgs,
        attemptArgs.where as Record<string, unknown>,
        'findUnique',
      );
      if (guard !== undefined) attemptArgs.where = guardWhere(model, attemptArgs.where, guard);
      return decryptResult(ctx, shape, await runner.proceed(attemptArgs));
    },
    // The row appeared between our read and our write: the create branch hit the unique constraint.
    (code) => code === 'P2002',
  );
}

/**
 * Runs a write that needs no data key and decrypts what it returns. When the returned rows hold
 * encrypted values, both happen in one transaction (the app's, or one of our own): a decryption
 * that fails (keyring down, damaged value) rolls the write back, so an error always means
 * "not written". A batch `$transaction([...])` cannot take that: there the rows are decrypted
 * after the batch commits (docs/prisma.md says so).
 */
export async function writeAndDecrypt(
  ctx: QueryContext,
  call: Call,
  shape: ResultShape | undefined,
  args: Record<string, unknown>,
): Promise<unknown> {
  if (!shape || call.params.transaction?.kind === 'batch')
    return decryptResult(ctx, shape, await call.query(args));
  return QueryRunner.inTransaction(call.client, call.query, call.params, call.transactionOptions, async (runner) =>
    decryptResult(ctx, shape, await runner.proceed(args)),
  );
}

/**
 * Runs `work` in a transaction on a fresh copy of `args`, and again (up to 3 times) when it fails
 * with a Prisma error code that `retryOn` accepts. Only a transaction of our own is retried: a
 * failed statement may have aborted the app's (PostgreSQL does), so there the error is the app's to handle.
 */
async function retriedTransaction(
  call: Call,
  args: Record<string, unknown>,
  work: (runner: QueryRunner, attemptArgs: Record<string, unknown>) => Promise<unknown>,
  retryOn: (code: unknown) => boolean,
): Promise<unknown> {
  const pristine = cloneArgs(args);
  for (let attempt = 1; ; attempt++) {
    try {
      return await QueryRunner.inTransaction(
        call.client,
        call.query,
        call.params,
        call.transactionOptions,
        (runner) => work(runner, cloneArgs(pristine)),
      );
    } catch (error) {
      const retry =
        call.params.transaction === undefined &&
        attempt < ATTEMPTS &&
        retryOn((error as { code?: unknown }).code);
      if (!retry) throw error;
    }
  }
}
