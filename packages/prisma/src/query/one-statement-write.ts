import {
  type DecryptRowInput,
  isWriteConflictError,
  type RowValues,
  WriteConflictError,
} from '@fieldseal/core';
import type { ModelInfo } from '../setup/encryption-schema.js';
import { providerOf } from '../setup/stored-tables.js';
import { cloneArgs, isPlainObject, type QueryContext } from './context.js';
import { NOT_READ, WriteEncryptor } from './data-encryptor.js';
import { decryptResult, fillPlaintext, rowIdOf } from './result-decryption.js';
import { lowerFirst, type ResultShape } from './result-shape.js';
import type { KeyRow } from './row-filters.js';
import { type PrismaRowKeyPort, prismaRowKeyPort, withConditions } from './row-key-port.js';
import { tenantInput, tenantOfRow } from './tenant-scope.js';
import { type Call, QueryRunner } from './transaction.js';
import { outputs } from './write-shapes.js';

// `update` or `delete` of one row by a unique where in two statements and no transaction, where
// Prisma's are one `UPDATE|DELETE … WHERE … RETURNING` (PostgreSQL, SQLite): read the row's id,
// data key and the encrypted values the result returns; decrypt those now; write with Prisma's own
// operation, its where guarded on the data key and on the ciphertext read. The row it returns is
// the row as written, and nothing is decrypted after the write commits: an error still means
// "not written". MySQL's `update` selects the row again after the UPDATE and reports it even when
// the guarded UPDATE changed nothing, so MySQL keeps the transactional path.

const ATTEMPTS = 3;

/** What {@link writeInOneStatement} returns when the row kept changing under it: nothing was written. */
export const CONTENDED: unique symbol = Symbol('contended');

/**
 * True when `update` or `delete` can take the one-statement path: outside any transaction (in
 * the app's, its statements are the app's to batch), a top-level call (not a fluent one), no
 * nested writes and no relations in the result (their rows would be decrypted after the commit),
 * on a database whose `update`/`delete` returns the row in the same statement.
 */
export function canWriteInOneStatement(
  model: ModelInfo,
  call: Call,
  shape: ResultShape | undefined,
): boolean {
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

/** The state of the one row, as last read: its stored encrypted values (to guard on) and their plaintext. */
interface ReadRow {
  stored: Record<string, unknown>;
  plain: Record<string, unknown>;
}

/**
 * Runs `update` or `delete` on the one-statement path (see {@link canWriteInOneStatement}). Encrypted values
 * go through core's row-key protocol (`envelope.writeToRows`, which re-reads and retries a guard
 * that missed); an update of plain fields only retries a missed guard the same way. A row that is
 * gone ends in Prisma's own "record not found" (P2025), with nothing written. After 3 missed
 * passes it returns {@link CONTENDED} (nothing written) for the caller to take the transactional path.
 */
export async function writeInOneStatement(
  ctx: QueryContext,
  model: ModelInfo,
  call: Call,
  shape: ResultShape | undefined,
): Promise<unknown> {
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
      : await clearedFields(writer, model, data, where);
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
    else if (row) await writePlain(model, port, row);
  } catch (error) {
    // Other writers kept changing the row (its key, or a value it returns): the transactional path
    // waits on the row's lock instead of racing it. Nothing was written here.
    if (isWriteConflictError(error)) return CONTENDED;
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

/** Prepares an update that encrypts nothing; returns the encrypted columns it sets to null. */
async function clearedFields(
  writer: WriteEncryptor,
  model: ModelInfo,
  data: Record<string, unknown>,
  where: Record<string, unknown>,
): Promise<RowValues> {
  await writer.update(model, data, NOT_READ, where);
  const cleared: Record<string, null> = {};
  for (const field of model.encrypted.values()) {
    const value = data[field.name];
    if (value === undefined) continue;
    if (value !== null && !(isPlainObject(value) && value.set === null))
      throw new Error(`@fieldseal/prisma: ${model.name}.${field.name} written without encryption (bug)`);
    cleared[field.column] = null;
  }
  return cleared;
}

/** A plain-fields update or a delete, guarded on the row's data key as read; a miss re-reads and retries. */
async function writePlain(
  model: ModelInfo,
  port: PrismaRowKeyPort,
  first: { id: KeyRow; dataKey: string | null },
) {
  let row: typeof first | undefined = first;
  for (let attempt = 1; row; attempt++) {
    const guard =
      row.dataKey === null ? { kind: 'absent' as const } : { kind: 'exact' as const, text: row.dataKey };
    const [hit] = await port.write([{ id: row.id, guard, values: {}, dataKey: undefined }]);
    if (hit) return;
    if (attempt >= ATTEMPTS) {
      throw new WriteConflictError(
        `the row changed between read and write ${ATTEMPTS} times in a row; nothing was written — retry the operation`,
        { location: { table: model.table, rowId: rowIdOf(model.idFields, row.id) ?? '?' } },
      );
    }
    [row] = await port.readKeys([row.id]);
  }
}

/** Decrypts the kept encrypted values of a row as read, before anything is written. */
async function decryptKept(
  ctx: QueryContext,
  model: ModelInfo,
  kept: readonly string[],
  row: KeyRow,
): Promise<ReadRow> {
  const stored: Record<string, unknown> = {};
  const values: Record<string, unknown> = {};
  for (const field of kept) {
    stored[field] = row[field] ?? null;
    values[model.encrypted.get(field)?.column as string] = row[field] ?? null;
  }
  if (kept.length === 0) return { stored, plain: {} };
  const rowId = rowIdOf(model.idFields, row);
  const input: DecryptRowInput = {
    table: model.table,
    values: values as DecryptRowInput['values'],
    dataKey: row[model.dataKey as string],
    ...(rowId === undefined ? {} : { rowId }),
    ...tenantInput(tenantOfRow(model, row)),
  };
  return { stored, plain: await ctx.envelope.decryptRow(input) };
}

/** The encrypted fields the operation's result holds (its `select`, else every field not omitted). */
function returnedEncrypted(ctx: QueryContext, model: ModelInfo, args: Record<string, unknown>): string[] {
  const fields = [...model.encrypted.keys()];
  if (isPlainObject(args.select)) {
    const select = args.select;
    return fields.filter((field) => Boolean(select[field]));
  }
  const omit = isPlainObject(args.omit) ? args.omit : undefined;
  const globalOmit = ctx.globalOmit?.[lowerFirst(model.name)];
  return fields.filter(
    (field) => !(omit?.[field] === true || (globalOmit?.[field] === true && omit?.[field] !== false)),
  );
}

/** The plaintext this write stored, by column (bytes copied to a plain `Uint8Array`, as a decryption returns them). */
function writtenPlaintext(values: RowValues): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [column, value] of Object.entries(values)) {
    if (value === undefined) continue;
    out[column] = value instanceof Uint8Array ? new Uint8Array(value) : value;
  }
  return out;
}

/** The input of `envelope.writeToRows` for one model's values. */
export function protocolInput(model: ModelInfo, values: RowValues) {
  return {
    table: model.table,
    values,
    idOf: (id: Record<string, unknown>) => rowIdOf(model.idFields, id) ?? JSON.stringify(id),
    output: outputs(model),
  };
}

/** True when `values` writes at least one encrypted column. */
export function hasValues(values: RowValues): boolean {
  return Object.values(values).some((value) => value !== undefined);
}

/** A where no row matches: the data-key column both null and not null. */
export function nothing(model: ModelInfo, where: Record<string, unknown>): Record<string, unknown> {
  const column = model.dataKey as string;
  return withConditions(where, [{ [column]: null }, { NOT: { [column]: null } }]);
}
