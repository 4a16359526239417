import { unsupported } from '../errors.js';
import type { ModelInfo } from '../setup/encryption-schema.js';
import { checkArguments } from './args-walker.js';
import { isPlainObject, type QueryContext } from './context.js';
import { WriteEncryptor } from './data-encryptor.js';
import { dropCollisions, indexChecks, selectChecked } from './index-recheck.js';
import { decryptResult, prepareSelection, shapeAtPath } from './result-decryption.js';
import { type Call, writeAndDecrypt } from './transaction.js';
import { deleteRow, update, updateMany, upsert } from './update.js';

const READS = new Set(['findUnique', 'findUniqueOrThrow', 'findFirst', 'findFirstOrThrow', 'findMany']);
const AGGREGATES = new Set(['count', 'aggregate', 'groupBy']);

/**
 * Runs one model operation on a model that holds, or leads through relations to, encrypted
 * fields: checks and rewrites every filter in its arguments (before anything runs), encrypts
 * what it writes, and decrypts what it returns. An operation this adapter does not know is
 * refused rather than passed through unencrypted.
 */
export async function runOperation(ctx: QueryContext, model: ModelInfo, call: Call): Promise<unknown> {
  const { args, params } = call;
  const operation = params.action;
  // Read before the where is rewritten: what the app asked for, to re-check after decryption.
  const checks = READS.has(operation) && params.dataPath.length === 0 ? indexChecks(model, args.where) : [];
  checkArguments(ctx, model, operation, args);
  if (READS.has(operation)) {
    const added = selectChecked(args, checks);
    const shape = shapeAtPath(prepareSelection(ctx, model, args), params.dataPath);
    const rows = await decryptResult(ctx, shape, await call.query(args));
    return dropCollisions(model, operation, rows, checks, added);
  }
  if (AGGREGATES.has(operation)) return call.query(args);
  switch (operation) {
    case 'delete':
      return deleteRow(ctx, model, call);
    case 'deleteMany':
      return call.query(args);
    case 'create':
    case 'createManyAndReturn': {
      // The new rows are returned from the plaintext just encrypted: nothing to decrypt after the
      // commit; relations in the result are decrypted in a transaction with the write.
      const shape = shapeAtPath(prepareSelection(ctx, model, args), params.dataPath);
      const writer = new WriteEncryptor(ctx);
      await writer.createEach(model, args.data);
      return writeAndDecrypt(ctx, call, shape, args, { written: writer.written, newRows: true });
    }
    case 'createMany':
      await new WriteEncryptor(ctx).createEach(model, args.data);
      return call.query(args);
    case 'update':
      return update(ctx, model, call);
    case 'updateMany':
    case 'updateManyAndReturn':
      return updateMany(ctx, model, call, operation === 'updateManyAndReturn');
    case 'upsert':
      return upsert(ctx, model, call);
    default:
      throw unsupported(
        'unknown-operation',
        `${model.name}.${operation} is not known to @fieldseal/prisma, so it was not run`,
        model,
      );
  }
}

/** Prisma passes `undefined` for calls without arguments (`findMany()`); each extension gets its own copy. */
export function argsObject(args: unknown): Record<string, unknown> {
  return isPlainObject(args) ? args : {};
}
