import {
  assertBlindIndexKey,
  type BlindIndex,
  ConfigError,
  envelopeFor,
  type FieldEncryptionBaseOptions,
  openBlindIndex,
} from '@fieldseal/core';
import { Prisma } from '@prisma/client/extension';
import type { QueryContext } from '../query/context.js';
import { argsObject, runOperation } from '../query/run-operation.js';
import type { QueryFunction, RequestParams, TransactionOptions } from '../query/transaction.js';
import { approve, exposeExtensions, guardClient, isApproved, REQUEST_EXTENSIONS } from './client-guard.js';
import { validateAgainstClient } from './client-validation.js';
import { EncryptionSchema } from './encryption-schema.js';
import { type ClientExtensions, fieldCatalog, type RuntimeModels } from './field-catalog.js';
import { guardErrors } from './guard-errors.js';
import type { FieldEncryptionMetadata } from './metadata.js';
import { blindIndexKeyError, selfCheck } from './self-check.js';

/** Options of {@link fieldEncryption}: the shared ones (keyring, blind-index key, read mode, context) and Prisma's. */
export interface FieldEncryptionOptions extends FieldEncryptionBaseOptions {
  /** What the `fieldseal-prisma` generator wrote (`fieldEncryptionMetadata`), or the same by hand. */
  readonly metadata: FieldEncryptionMetadata;
  /** Options of the transactions opened for writes that read data keys first. Defaults to Prisma's. */
  readonly transactionOptions?: TransactionOptions;
  /**
   * Before the first query on encrypted models, open the blind-index key and round-trip a probe
   * data key through the keyring, so a misconfigured keyring fails before it writes anything.
   * A failed check is retried on the next query (an outage does not stick). Defaults to `true`.
   */
  readonly selfCheck?: boolean;
}

/**
 * The Prisma Client extension that encrypts `/// @encrypted` fields transparently.
 *
 * @example
 * import { fieldEncryptionMetadata } from './generated/fieldseal/metadata.js';
 * const prisma = new PrismaClient({ adapter }).$extends(
 *   fieldEncryption({ keyring, metadata: fieldEncryptionMetadata, blindIndexKey: process.env.BLIND_INDEX_KEY }),
 * );
 * await prisma.user.create({ data: { email: 'ada@example.com' } }); // stored as fs2:…
 * await prisma.user.findFirst({ where: { email: 'ada@example.com' } }); // through the blind index
 */
export function fieldEncryption(options: FieldEncryptionOptions) {
  if (!options || typeof options !== 'object')
    throw new ConfigError('options', 'expected { keyring, metadata }');
  const schema = new EncryptionSchema(options.metadata);
  const envelope = envelopeFor(options);
  const indexedBy = [...schema.models].filter((model) => model.indexOf.size > 0).map((model) => model.name);
  const indexedFields = new Set([...schema.models].flatMap((model) => [...model.indexOf.values()]));
  assertBlindIndexKey(options, indexedBy);
  let index: Promise<BlindIndex | undefined> | undefined;
  const openIndex = (): Promise<BlindIndex | undefined> => {
    index ??= openBlindIndex(options, indexedBy).catch((error: unknown) => {
      index = undefined; // a keyring outage must not stick: the next query tries again
      throw blindIndexKeyError(error, indexedBy);
    });
    return index;
  };
  let checked: Promise<void> | undefined = options.selfCheck === false ? Promise.resolve() : undefined;
  const check = (): Promise<void> => {
    checked ??= selfCheck(envelope, openIndex).catch((error: unknown) => {
      checked = undefined;
      throw error;
    });
    return checked;
  };

  const rethrow = guardErrors(options.metadata);

  return Prisma.defineExtension((client) => {
    validateAgainstClient(schema, client);
    guardClient(client, schema);
    exposeExtensions(client);
    const models = (client as { _runtimeDataModel?: { models?: RuntimeModels } })._runtimeDataModel?.models;
    const globalOmit = (client as { _globalOmit?: QueryContext['globalOmit'] })._globalOmit;
    return client.$extends({
      name: '@fieldseal/prisma',
      query: {
        $allModels: {
          async $allOperations({ model, args, query, ...rest }) {
            const params = (rest as unknown as { __internalParams?: RequestParams }).__internalParams;
            if (!params)
              throw new ConfigError(
                'client',
                'this Prisma Client version is not supported by @fieldseal/prisma (no request parameters)',
              );
            if (isApproved(params)) {
              throw new ConfigError(
                'client',
                'fieldEncryption is applied twice to this client; apply it once',
              );
            }
            approve(params);
            const info = schema.model(model);
            if (!info?.touchesEncryption) return query(args);
            await check();
            // The index key is unwrapped only for queries that may use it, so a keyring that cannot
            // open it (or is down) does not fail queries that never touch an indexed field.
            const index = mentionsAny(args, indexedFields) ? await openIndex() : undefined;
            const extensions = (params as { [REQUEST_EXTENSIONS]?: ClientExtensions })[REQUEST_EXTENSIONS];
            const fields = fieldCatalog(models, extensions);
            const ctx: QueryContext = { schema, envelope, index, globalOmit, fields };
            return runOperation(ctx, info, {
              client,
              // Prisma keeps the args a query was forwarded with in the request's parameters and
              // computes result-extension fields from that select; forwarding with a copy keeps the
              // app's own select there, so fields fieldseal added for decryption are removed again.
              query: (forwarded, own) =>
                (query as unknown as QueryFunction)(forwarded, own ?? forwardParams(params)),
              params,
              args: argsObject(args),
              transactionOptions: options.transactionOptions,
            }).catch(rethrow);
          },
        },
      },
    });
  });
}

/** A copy of the request's parameters to forward a query with, marked as gone through fieldseal. */
function forwardParams(params: RequestParams): RequestParams {
  const copy = { ...params };
  approve(copy);
  return copy;
}

/** True when any key of `value`, at any depth, is one of `names` (a cheap, conservative scan). */
function mentionsAny(value: unknown, names: ReadonlySet<string>): boolean {
  if (names.size === 0 || value === null || typeof value !== 'object' || value instanceof Uint8Array)
    return false;
  if (Array.isArray(value)) return value.some((item) => mentionsAny(item, names));
  for (const key in value) {
    if (names.has(key) || mentionsAny((value as Record<string, unknown>)[key], names)) return true;
  }
  return false;
}
