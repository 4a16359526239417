import {
  assertBlindIndexKey,
  type BlindIndex,
  ConfigError,
  envelopeFor,
  type FieldEncryptionBaseOptions,
  openBlindIndex,
} from '@fieldseal/core';
import { Prisma } from '@prisma/client/extension';
import { approve, guardClient, isApproved } from './client-guard.js';
import { validateAgainstClient } from './client-validation.js';
import { EncryptionSchema } from './encryption-schema.js';
import { guardErrors } from './guard-errors.js';
import type { FieldEncryptionMetadata } from './metadata.js';
import { argsObject, runOperation } from './operations.js';
import type { QueryContext } from './query-context.js';
import type { QueryFunction, RequestParams, TransactionOptions } from './transaction-runner.js';

/** Options of {@link fieldEncryption}: the shared ones (keyring, blind-index key, read mode, context) and Prisma's. */
export interface FieldEncryptionOptions extends FieldEncryptionBaseOptions {
  /** What the `fieldseal-prisma` generator wrote (`fieldEncryptionMetadata`), or the same by hand. */
  readonly metadata: FieldEncryptionMetadata;
  /** Options of the transactions opened for writes that read data keys first. Defaults to Prisma's. */
  readonly transactionOptions?: TransactionOptions;
}

/**
 * The Prisma Client extension that encrypts `/// @encrypted` fields transparently.
 *
 * @example
 * import { fieldEncryptionMetadata } from './generated/fieldseal/metadata.js';
 * const prisma = new PrismaClient({ adapter }).$extends(
 *   fieldEncryption({ keyring, metadata: fieldEncryptionMetadata, blindIndexKey: process.env.BLIND_INDEX_KEY }),
 * );
 * await prisma.user.create({ data: { email: 'ada@example.com' } }); // stored as fs1:…
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
      throw error;
    });
    return index;
  };

  const rethrow = guardErrors(options.metadata);

  return Prisma.defineExtension((client) => {
    validateAgainstClient(schema, client);
    guardClient(client, schema);
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
            // The index key is unwrapped only for queries that may use it, so a keyring that cannot
            // open it (or is down) does not fail queries that never touch an indexed field.
            const index = mentionsAny(args, indexedFields) ? await openIndex() : undefined;
            const ctx: QueryContext = { schema, envelope, index, globalOmit };
            return runOperation(ctx, info, {
              client,
              query: query as unknown as QueryFunction,
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
