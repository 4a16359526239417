import type { ValuePlace } from './aad.js';
import { formatDataKey, parseDataKey, type StoredDataKey } from './data-key-format.js';
import { assertEncryptionContext, type EncryptionContext } from './encryption-context.js';
import { ConfigError, DecryptionError, type ErrorLocation, FieldsealError, KeyringError } from './errors.js';
import { assertEncryptable, decryptValue, encryptValue, type PlaintextValue } from './field-cipher.js';
import { type DerivedDataKey, deriveDataKey } from './key-derivation.js';
import type { Keyring } from './keyring.js';
import { isEncryptedValue } from './value-format.js';

/**
 * How reads treat a value that is not ciphertext in an encrypted column:
 * `strict` fails (the default, once a table is fully migrated); `tolerant` returns it as
 * it is (while a live table is being migrated from plaintext).
 */
export type ReadMode = 'strict' | 'tolerant';

/** Key in every data key's encryption context naming the table. */
export const TABLE_CONTEXT_KEY = 'fieldseal:table';

/** Options of {@link RowEnvelope}. */
export interface RowEnvelopeOptions {
  /** Wraps and unwraps data keys; usually a `CachingKeyring` around a KMS or local keyring. */
  readonly keyring: Keyring;
  /** Pairs added to every data key's encryption context (e.g. `{ app: 'billing' }`). Defaults to none. */
  readonly encryptionContext?: EncryptionContext;
  /** Default read mode. Defaults to `'strict'`. */
  readonly readMode?: ReadMode;
}

/** A row's values keyed by column; `null` and `undefined` are never encrypted. */
export type RowValues<T = PlaintextValue> = Readonly<Record<string, T | null | undefined>>;

/** Input of {@link RowEnvelope.encryptRow}. */
export interface EncryptRowInput {
  /** Table (or model) name; bound into each value and into the data key's context. */
  readonly table: string;
  /** The encrypted columns' plaintext values. Columns absent here are left alone. */
  readonly values: RowValues;
  /** Binds every value to this row id too; only when the id is known before the write. */
  readonly rowId?: string | number | bigint;
  /** Per column `text` or `binary`; defaults to `text` for strings and `binary` for bytes. */
  readonly output?: Readonly<Record<string, 'text' | 'binary'>>;
}

/** What to write: the ciphertext of each column and the row's data-key column. */
export interface EncryptedRow {
  readonly values: Record<string, string | Uint8Array | null | undefined>;
  /** The data-key column's value. Every row gets one, even with all values null, so later writes reuse it. */
  readonly dataKey: string;
}

/** Input of {@link RowEnvelope.decryptRow}. */
export interface DecryptRowInput {
  readonly table: string;
  /** The stored values of the encrypted columns to decrypt. */
  readonly values: RowValues<unknown>;
  /** The row's data-key column, as stored. */
  readonly dataKey: unknown;
  /** The row id: named in errors, and required for values bound to their row. */
  readonly rowId?: string | number | bigint;
  /** Overrides the envelope's read mode. */
  readonly readMode?: ReadMode;
}

/**
 * Encrypts and decrypts all encrypted columns of one row under one data key, whose wrapped
 * form is stored in the row itself. This is the logic every ORM adapter shares.
 *
 * @example
 * const envelope = new RowEnvelope({ keyring });
 * const { values, dataKey } = await envelope.encryptRow({ table: 'User', values: { email } });
 * const plain = await envelope.decryptRow({ table: 'User', values, dataKey });
 */
export class RowEnvelope {
  readonly keyring: Keyring;
  readonly readMode: ReadMode;
  readonly #baseContext: EncryptionContext;
  // One frozen context object per table, so a cache can recognise it by identity.
  readonly #contexts = new Map<string, EncryptionContext>();
  // Parsed data-key columns (wrapped keys and key ids: nothing secret). Rows written while a data
  // key was cached share one column text, so reads skip the base64 decode; the same object also
  // lets a caching keyring recognise the wrapped key by identity.
  readonly #parsedKeys = new Map<string, StoredDataKey>();

  constructor(options: RowEnvelopeOptions) {
    if (!options?.keyring || typeof options.keyring.generateDataKey !== 'function') {
      throw new ConfigError(
        'keyring',
        'a Keyring is required (e.g. new LocalKeyring(...) or a CachingKeyring)',
      );
    }
    const base = options.encryptionContext ?? {};
    assertEncryptionContext(base);
    if (TABLE_CONTEXT_KEY in base)
      throw new ConfigError('encryptionContext', `"${TABLE_CONTEXT_KEY}" is reserved; fieldseal sets it`);
    const readMode = options.readMode ?? 'strict';
    if (readMode !== 'strict' && readMode !== 'tolerant')
      throw new ConfigError('readMode', 'must be "strict" or "tolerant"');
    this.keyring = options.keyring;
    this.readMode = readMode;
    this.#baseContext = Object.freeze({ ...base });
  }

  /** The encryption context of a table's data keys: the configured pairs plus `fieldseal:table`. */
  contextFor(table: string): EncryptionContext {
    let context = this.#contexts.get(table);
    if (!context) {
      context = Object.freeze({ ...this.#baseContext, [TABLE_CONTEXT_KEY]: table });
      this.#contexts.set(table, context);
    }
    return context;
  }

  /**
   * Encrypts every non-null value of a new row under one new data key (from the keyring, or
   * its cache). Write all returned values *and* `dataKey` together, in one statement.
   */
  async encryptRow(input: EncryptRowInput): Promise<EncryptedRow> {
    const { table, rowId } = input;
    let plaintextBytes = 0;
    let encryptions = 0;
    for (const column in input.values) {
      const value = input.values[column];
      if (value === null || value === undefined) continue;
      // Checked before the keyring is asked: a failed row must not spend a key (or a cache use).
      assertEncryptable(value, { table, column });
      plaintextBytes += typeof value === 'string' ? Buffer.byteLength(value, 'utf8') : value.byteLength;
      encryptions++;
    }
    const material = await this.#keyringCall(rowId === undefined ? { table } : { table, rowId }, () =>
      this.keyring.generateDataKey(this.contextFor(table), {
        plaintextBytes,
        encryptions: Math.max(encryptions, 1),
      }),
    );
    // Used synchronously from here on: a cache may wipe the plaintext key after this turn.
    return {
      values: encryptColumns(input, deriveDataKey(material.plaintextKey)),
      dataKey: formatDataKey(material),
    };
  }

  /**
   * Encrypts values being written into an existing row, under the data key the row already
   * holds, so every encrypted value of the row keeps opening with the row's data key even
   * when other columns are not rewritten (the per-row invariant). A row's plaintext data key
   * never changes once set; rotation only re-wraps it. When the row has no data key yet
   * (`dataKey` null: a legacy plaintext row, or one with nothing encrypted), a new one is
   * made and returned with `isNewKey: true` — write it in the same statement, guarded by
   * "data-key column is still null", so two writers never give one row two keys.
   */
  async encryptForRow(
    input: EncryptRowInput & { readonly dataKey: unknown },
  ): Promise<EncryptedRow & { readonly isNewKey: boolean }> {
    if (input.dataKey === null || input.dataKey === undefined) {
      const fresh = await this.encryptRow(input);
      return { ...fresh, isNewKey: true };
    }
    const location =
      input.rowId === undefined ? { table: input.table } : { table: input.table, rowId: input.rowId };
    const stored = this.#parseDataKey(input.dataKey, location);
    const plaintextKey = await this.#keyringCall(location, () =>
      this.keyring.decryptDataKey(stored.encryptedKey, this.contextFor(input.table)),
    );
    const encrypted = encryptColumns(input, deriveDataKey(plaintextKey));
    return { values: encrypted, dataKey: input.dataKey as string, isNewKey: false };
  }

  /**
   * Decrypts the row's values with the data key stored in the row. `null`/`undefined` pass
   * through. A value that is not ciphertext fails in strict mode and is returned as it is in
   * tolerant mode. Throws `DecryptionError` or `KeyringError`; never returns wrong plaintext.
   */
  async decryptRow(input: DecryptRowInput): Promise<DecryptedRow> {
    const row = this.#prepareRead(input);
    if (row.encrypted.length === 0) return row.out;
    const stored = this.#parseDataKey(input.dataKey, row.location);
    const plaintextKey = await this.#keyringCall(row.location, () =>
      this.keyring.decryptDataKey(stored.encryptedKey, this.contextFor(input.table)),
    );
    decryptColumns(input, row, deriveDataKey(plaintextKey));
    return row.out;
  }

  /**
   * Decrypts many rows (e.g. the result of one query) like {@link decryptRow}, asking the
   * keyring once per distinct data key instead of once per row: rows written while a key was
   * cached share it. Results are in input order. Fails as a whole on the first bad row.
   */
  async decryptRows(inputs: readonly DecryptRowInput[]): Promise<DecryptedRow[]> {
    const rows = inputs.map((input) => this.#prepareRead(input));
    // Rows needing a key, grouped by table and data-key column text (the common case: few groups).
    const groups = new Map<string, Map<unknown, number[]>>();
    for (let i = 0; i < inputs.length; i++) {
      if ((rows[i] as PreparedRead).encrypted.length === 0) continue;
      const input = inputs[i] as DecryptRowInput;
      let byKey = groups.get(input.table);
      if (!byKey) {
        byKey = new Map();
        groups.set(input.table, byKey);
      }
      const members = byKey.get(input.dataKey);
      if (members) members.push(i);
      else byKey.set(input.dataKey, [i]);
    }
    // Parse every data-key column before the first keyring call, so a bad one fails the batch
    // before any call is in flight (none is left to reject unobserved).
    const work: { context: EncryptionContext; stored: StoredDataKey; members: number[] }[] = [];
    for (const [table, byKey] of groups) {
      const context = this.contextFor(table);
      for (const [dataKey, members] of byKey) {
        const location = (rows[members[0] as number] as PreparedRead).location;
        work.push({ context, stored: this.#parseDataKey(dataKey, location), members });
      }
    }
    const calls = work.map(({ context, stored, members }) =>
      this.#keyringCall((rows[members[0] as number] as PreparedRead).location, () =>
        this.keyring.decryptDataKey(stored.encryptedKey, context),
      ).then((plaintextKey) => {
        // Decrypt right away: a cache may wipe the plaintext key after this turn.
        const key = deriveDataKey(plaintextKey);
        for (const i of members) decryptColumns(inputs[i] as DecryptRowInput, rows[i] as PreparedRead, key);
      }),
    );
    await Promise.all(calls);
    return rows.map((row) => row.out);
  }

  /** Sorts a row's columns into pass-through values and ciphertext; checks read mode and key presence. */
  #prepareRead(input: DecryptRowInput): PreparedRead {
    const { table, rowId } = input;
    const mode = input.readMode ?? this.readMode;
    const out: DecryptedRow = {};
    const encrypted: string[] = [];
    for (const column in input.values) {
      const value = input.values[column];
      if (value === null || value === undefined) out[column] = value;
      else if (isEncryptedValue(value)) {
        encrypted.push(column);
        out[column] = undefined; // keeps the caller's column order
      } else if (mode === 'tolerant' && (typeof value === 'string' || value instanceof Uint8Array))
        out[column] = value;
      else {
        throw new DecryptionError(
          'plaintext-in-strict-mode',
          'Encrypted column holds a value that is not fieldseal ciphertext (legacy plaintext? use readMode "tolerant" while migrating)',
          { location: { table, column, ...(rowId === undefined ? {} : { rowId }) } },
        );
      }
    }
    const location = rowId === undefined ? { table } : { table, rowId };
    if (encrypted.length > 0 && (input.dataKey === null || input.dataKey === undefined)) {
      throw new DecryptionError(
        'missing-data-key',
        "Row holds ciphertext but its data-key column is empty; the row's data key was lost",
        { location },
      );
    }
    return { out, encrypted, location };
  }

  #parseDataKey(text: unknown, location: ErrorLocation): StoredDataKey {
    if (typeof text === 'string') {
      const known = this.#parsedKeys.get(text);
      if (known) return known;
    }
    const stored = parseDataKey(text, location);
    const actual = this.keyring.keyIdOf?.(stored.encryptedKey);
    if (actual !== undefined && actual !== stored.keyId) {
      throw new DecryptionError(
        'malformed-data-key',
        'Data-key column names a different master key than the one that wrapped its data key; the column was altered',
        { location },
      );
    }
    if (this.#parsedKeys.size >= 1_000) this.#parsedKeys.clear();
    this.#parsedKeys.set(text as string, stored);
    return stored;
  }

  /** Runs a keyring call, naming the table and row in any failure it raises. */
  async #keyringCall<T>(location: ErrorLocation, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (cause) {
      throw keyringFailure(cause, location);
    }
  }
}

function keyringFailure(cause: unknown, where: ErrorLocation): FieldsealError {
  if (cause instanceof KeyringError)
    return new KeyringError(cause.code, cause.message, {
      location: where,
      cause,
      ...(cause.keyId ? { keyId: cause.keyId } : {}),
    });
  if (cause instanceof FieldsealError) return cause;
  return new KeyringError('unavailable', 'Keyring call failed', { location: where, cause });
}

/** A row read by {@link RowEnvelope.decryptRow}: plaintext (or passed-through values) by column. */
export type DecryptedRow = Record<string, PlaintextValue | null | undefined>;

/** A row sorted by `#prepareRead`, waiting for its data key. */
interface PreparedRead {
  readonly out: DecryptedRow;
  readonly encrypted: readonly string[];
  readonly location: ErrorLocation;
}

function decryptColumns(input: DecryptRowInput, row: PreparedRead, key: DerivedDataKey): void {
  const { table, rowId } = input;
  for (const column of row.encrypted) {
    const place: ValuePlace = rowId === undefined ? { table, column } : { table, column, rowId };
    row.out[column] = decryptValue(key, place, input.values[column] as string | Uint8Array);
  }
}

function encryptColumns(
  input: EncryptRowInput,
  key: DerivedDataKey,
): Record<string, string | Uint8Array | null | undefined> {
  const { table, rowId } = input;
  const values: Record<string, string | Uint8Array | null | undefined> = {};
  for (const column in input.values) {
    const value = input.values[column];
    if (value === null || value === undefined) {
      values[column] = value;
      continue;
    }
    const place: ValuePlace = rowId === undefined ? { table, column } : { table, column, rowId };
    const output = input.output?.[column];
    values[column] = encryptValue(key, place, value, output ? { output } : {});
  }
  return values;
}
