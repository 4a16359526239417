import { approve } from '../setup/client-guard.js';
import type { ModelInfo } from '../setup/encryption-schema.js';
import { UnsupportedOperationError } from '../errors.js';
import { lowerFirst } from './result-shape.js';

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
  transaction?: TransactionInfo;
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
