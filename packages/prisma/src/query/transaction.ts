import { CommittedWriteResultError, type ErrorLocation, isFieldsealError } from '@fieldseal/core';
import { UnsupportedOperationError } from '../errors.js';
import { approve } from '../setup/client-guard.js';
import type { ModelInfo } from '../setup/encryption-schema.js';
import { cloneArgs, lowerFirst, type QueryContext } from './context.js';
import { decryptResult, type ResultShape } from './result-decryption.js';
import type { WrittenValues } from './written-values.js';

/** The transaction a request runs in, as Prisma's client engine describes it. */
export interface TransactionInfo {
  readonly kind: 'itx' | 'batch';
  readonly id?: unknown;
}

/** Prisma's per-request parameters (`__internalParams`), as far as this adapter uses them. */
export interface RequestParams {
  action: string;
  model?: string;
  jsModelName?: string;
  clientMethod: string;
  args?: unknown;
  dataPath: unknown[];
  transaction?: TransactionInfo | undefined;
  unpacker?: unknown;
  [key: string]: unknown;
}

/** The `query` callback of a query extension, with its second (params) argument. */
export type QueryFunction = (args: unknown, params?: RequestParams) => PromiseLike<unknown>;

/** Options of the transactions fieldseal opens for writes that must read data keys first. */
export interface TransactionOptions {
  readonly maxWait?: number;
  readonly timeout?: number;
  readonly isolationLevel?: string;
}

interface TransactionClient {
  $transaction<T>(
    callback: (tx: {
      _createPrismaPromise: (f: (t: TransactionInfo) => TransactionInfo) => PromiseLike<TransactionInfo>;
    }) => Promise<T>,
    options?: TransactionOptions,
  ): Promise<T>;
}

/**
 * Runs extra queries (reads of data keys, per-key-group writes) and the operation itself in one
 * transaction: the app's interactive transaction when the operation is in one, else a new one.
 * Extra queries go through the rest of the extension chain, so extensions after this one see them.
 */
export class QueryRunner {
  readonly #query: QueryFunction;
  readonly #params: RequestParams;
  readonly #transaction: TransactionInfo | undefined;

  private constructor(query: QueryFunction, params: RequestParams, transaction: TransactionInfo | undefined) {
    this.#query = query;
    this.#params = params;
    this.#transaction = transaction;
  }

  /**
   * Calls `work` with a runner bound to a transaction. A batch `$transaction([...])` cannot take
   * extra queries (its requests are sent together), so such writes are refused there.
   */
  static async inTransaction<T>(
    client: unknown,
    query: QueryFunction,
    params: RequestParams,
    options: TransactionOptions | undefined,
    work: (runner: QueryRunner) => Promise<T>,
  ): Promise<T> {
    const current = params.transaction;
    if (current?.kind === 'itx') return work(new QueryRunner(query, params, current));
    if (current?.kind === 'batch') {
      throw new UnsupportedOperationError(
        'batch-transaction',
        `${params.model}.${params.action} writes encrypted fields of existing rows, which needs a read of their data keys first; run it in an interactive transaction ($transaction(async (tx) => ...)) instead of a batch $transaction([...])`,
        { entity: params.model as string },
      );
    }
    return (client as TransactionClient).$transaction(async (tx) => {
      // The transaction client hands its transaction to every request it builds; take it from there.
      const info = await tx._createPrismaPromise((transaction) => transaction);
      return work(new QueryRunner(query, params, info));
    }, options);
  }

  /**
   * A runner outside any transaction: each query it runs commits on its own. Only for writes that
   * are one statement (see `inOneStatement` in update.ts).
   */
  static direct(query: QueryFunction, params: RequestParams): QueryRunner {
    return new QueryRunner(query, params, undefined);
  }

  /** Another query (on any model) in the same transaction. */
  run(model: ModelInfo, action: string, args: Record<string, unknown>): Promise<unknown> {
    const jsModelName = lowerFirst(model.name);
    const params: RequestParams = {
      ...this.#params,
      action,
      model: model.name,
      jsModelName,
      clientMethod: `${jsModelName}.${action}`,
      args,
      dataPath: [],
      transaction: this.#transaction,
    };
    delete params.unpacker;
    approve(params);
    return Promise.resolve(this.#query(args, params));
  }

  /** The app's own operation, with rewritten args, in the same transaction. */
  proceed(args: unknown): Promise<unknown> {
    const params: RequestParams = { ...this.#params, transaction: this.#transaction };
    approve(params);
    return Promise.resolve(this.#query(args, params));
  }
}

/** One intercepted operation, as the extension received it. */
export interface Call {
  readonly client: unknown;
  readonly query: QueryFunction;
  readonly params: RequestParams;
  readonly args: Record<string, unknown>;
  readonly transactionOptions: TransactionOptions | undefined;
}

const ATTEMPTS = 3;

/** What {@link writeAndDecrypt} knows of the rows a write returns. */
export interface WriteResultOptions {
  /** The values the call encrypted for new rows: returned rows holding exactly those are filled from them. */
  readonly written?: WrittenValues;
  /**
   * True for `create`/`createManyAndReturn`: the rows at the top of the result are the new rows,
   * so only relations in the result can hold values this call did not write.
   */
  readonly newRows?: boolean;
}

/**
 * Runs a write that needs no data key of an existing row and returns what it returns, with no
 * step that can fail after the write committed (an error always means "not written", so a
 * retry cannot apply the write twice):
 * - values this call just encrypted for new rows are filled from their plaintext (`written`);
 * - anything else to decrypt (an existing row, a relation in the result) is decrypted in one
 *   transaction with the write (the app's, or one of our own), so a failed decryption rolls
 *   the write back;
 * - in a batch `$transaction([...])`, which commits before any result comes back, a write whose
 *   result would need such a decryption is refused before the batch runs.
 */
export async function writeAndDecrypt(
  ctx: QueryContext,
  call: Call,
  shape: ResultShape | undefined,
  args: Record<string, unknown>,
  options: WriteResultOptions = {},
): Promise<unknown> {
  const { written, newRows = false } = options;
  if (!shape || (newRows && shape.relations.size === 0))
    return decryptResult(ctx, shape, await call.query(args), written);
  if (call.params.transaction?.kind === 'batch') {
    // A batch commits before results come back: a failed decryption can no longer roll the
    // write back, so the error says the write is in the database (never "not written").
    const result = await call.query(args);
    try {
      return await decryptResult(ctx, shape, result, written);
    } catch (error) {
      throw new CommittedWriteResultError(
        `${call.params.model}.${call.params.action} committed in a batch $transaction([...]), but its result could not be decrypted (${isFieldsealError(error) ? `${error.name} ${error.code}` : error instanceof Error ? error.name : 'error'}; see cause). The write is in the database: do not retry it; read the rows again once the cause is fixed (in an interactive transaction, $transaction(async (tx) => ...), such a failure rolls the write back)`,
        { cause: error, location: (error as { location?: ErrorLocation }).location },
      );
    }
  }
  return QueryRunner.inTransaction(
    call.client,
    call.query,
    call.params,
    call.transactionOptions,
    async (runner) => decryptResult(ctx, shape, await runner.proceed(args), written),
  );
}

/**
 * Runs `work` in a transaction on a fresh copy of `args`, and again (up to 3 times) when it fails
 * with a Prisma error code that `retryOn` accepts. Only a transaction of our own is retried: a
 * failed statement may have aborted the app's (PostgreSQL does), so there the error is the app's to handle.
 */
export async function retriedTransaction(
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
