import { formatRowDataKey, newRowSalt } from './data-key-format.js';
import { ConfigError } from './errors.js';
import { encryptValue, type PlaintextValue } from './field-cipher.js';
import { deriveRowKey } from './key-derivation.js';
import { type DecryptedRow, keyringFailure, type RowEnvelope, type RowValues } from './row-envelope.js';
import { FLAG_ROW_BOUND, isEncryptedValue, parseValue } from './value-format.js';

/** Input of {@link rebindRow}: one stored row bound to `from`, to be bound to `to`. */
export interface RebindRowInput {
  /** The encryption name the row is bound to now (the old table name, usually). */
  readonly from: string;
  /** The encryption name to bind it to. */
  readonly to: string;
  /** The stored values of the row's encrypted columns, by column. */
  readonly values: RowValues<unknown>;
  /** The row's data-key column, as stored. */
  readonly dataKey: unknown;
  /** The row id: named in errors; values bound to their row stay bound to it. */
  readonly rowId: string | number | bigint;
  /** Per column `text` or `binary`; defaults to the form each value is stored in. */
  readonly output?: Readonly<Record<string, 'text' | 'binary'>>;
}

/** What {@link rebindRow} returns: the columns to write, in one statement, and the plaintext. */
export interface ReboundRow {
  /** New ciphertext of each encrypted column that held ciphertext (others are absent). */
  readonly values: Record<string, string | Uint8Array>;
  /** The new data-key column: a fresh data key wrapped under `to`'s context, a fresh salt. */
  readonly dataKey: string;
  /** The row's plaintext by column (for blind indexes, which are bound to the name too). */
  readonly plaintext: DecryptedRow;
}

/**
 * Moves one row from encryption name `from` to `to`: decrypts it under `from` (throws exactly
 * as a read would when the row is not bound to `from`), then encrypts every value that held
 * ciphertext under a fresh data key generated for `to`, keeping each value's row binding.
 * A fresh key, not a re-wrapped one, because a `Keyring` cannot wrap a given key; the row's
 * key identity changes, so the write must be guarded on the data-key column read. Plaintext
 * left in the row (a table still being migrated) is not touched: it is bound to nothing.
 */
export async function rebindRow(envelope: RowEnvelope, input: RebindRowInput): Promise<ReboundRow> {
  const { from, to, rowId } = input;
  if (typeof to !== 'string' || to.length === 0 || to.includes('\u0000'))
    throw new ConfigError('to', 'the encryption name to bind to must be a non-empty string without NUL');
  const encrypted = Object.keys(input.values).filter((column) => isEncryptedValue(input.values[column]));
  const plaintext = await envelope.decryptRow({
    table: from,
    values: input.values,
    dataKey: input.dataKey,
    rowId,
    readMode: 'tolerant',
  });
  let plaintextBytes = 0;
  for (const column of encrypted) {
    const value = plaintext[column] as PlaintextValue;
    plaintextBytes += typeof value === 'string' ? Buffer.byteLength(value, 'utf8') : value.byteLength;
  }
  const location = { table: to, rowId };
  let material: Awaited<ReturnType<RowEnvelope['keyring']['generateDataKey']>>;
  try {
    material = await envelope.keyring.generateDataKey(envelope.contextFor(to), {
      plaintextBytes,
      encryptions: Math.max(encrypted.length, 1),
    });
  } catch (cause) {
    throw keyringFailure(cause, location);
  }
  // Synchronous from here on: a cache may wipe the plaintext key after this turn.
  const salt = newRowSalt();
  const key = deriveRowKey(material.plaintextKey, salt);
  const values: Record<string, string | Uint8Array> = {};
  for (const column of encrypted) {
    const stored = input.values[column] as string | Uint8Array;
    const rowBound = (parseValue(stored, { table: from, column, rowId }).flags & FLAG_ROW_BOUND) !== 0;
    const output = input.output?.[column] ?? (typeof stored === 'string' ? 'text' : 'binary');
    const place = rowBound ? { table: to, column, rowId } : { table: to, column };
    values[column] = encryptValue(key, place, plaintext[column] as PlaintextValue, { output });
  }
  return { values, dataKey: formatRowDataKey(material, salt), plaintext };
}
