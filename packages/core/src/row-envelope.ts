import type { ValuePlace } from './aad.js';
import {
  formatRowDataKey,
  newRowSalt,
  parseWrapped,
  splitDataKey,
  type WrappedDataKey,
} from './data-key-format.js';
import { assertEncryptionContext, type EncryptionContext } from './encryption-context.js';
import {
  ConfigError,
  DecryptionError,
  type ErrorLocation,
  type FieldsealError,
  isFieldsealError,
  isKeyringError,
  KeyringError,
} from './errors.js';
import { assertEncryptable, decryptValueWith, encryptValue, type PlaintextValue } from './field-cipher.js';
import { type DerivedDataKey, deriveDataKey, deriveRowKey, rememberedRowKey } from './key-derivation.js';
import type { Keyring } from './keyring.js';
import {
  type RowKeyGuard,
  type WriteToRowsInput,
  type WriteToRowsResult,
  writeToRows,
} from './row-protocol.js';
import { type FormatVersion, isEncryptedValue } from './value-format.js';

/**
 * How reads treat a value that is not ciphertext in an encrypted column:
 * `strict` fails (the default, once a table is fully migrated); `tolerant` returns it as
 * it is (while a live table is being migrated from plaintext).
 */
export type ReadMode = 'strict' | 'tolerant';

/** Key in every data key's encryption context naming the table. */
export const TABLE_CONTEXT_KEY = 'fieldseal:table';
/** Key in a tenant-scoped data key's encryption context naming the tenant (see docs/tenants.md). */
export const TENANT_CONTEXT_KEY = 'fieldseal:tenant';

/** Options of {@link RowEnvelope}. */
export interface RowEnvelopeOptions {
  /** Wraps and unwraps data keys; usually a `CachingKeyring` around a KMS or local keyring. */
  readonly keyring: Keyring;
  /** Pairs added to every data key's encryption context (e.g. `{ app: 'billing' }`). Defaults to none. */
  readonly encryptionContext?: EncryptionContext;
  /** Default read mode. Defaults to `'strict'`. */
  readonly readMode?: ReadMode;
  /**
   * Whether format v1 values (`fs1:`, not bound to their row) are still accepted on read.
   * Defaults to `true`. Set it to `false` once `fieldseal status` shows no v1 values left, so a
   * v1 value copied in from another row sharing its data key is refused (`wrong-data-key`).
   */
  readonly acceptV1Values?: boolean;
  /**
   * Selects the keyring of a tenant's rows (e.g. a customer's own KMS key), called with the
   * `tenant` of each tenant-scoped row; rows without a tenant use `keyring`. Cache what it
   * returns: it is called on every keyring use. Defaults to `keyring` for every tenant.
   */
  readonly keyringFor?: (tenant: string) => Keyring | Promise<Keyring>;
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
  /** The row id to name in errors, without binding values to it. */
  readonly errorRowId?: string | number | bigint;
  /** Per column `text` or `binary`; defaults to `text` for strings and `binary` for bytes. */
  readonly output?: Readonly<Record<string, 'text' | 'binary'>>;
  /**
   * The row's tenant (its plaintext tenant column). When set, the data key's encryption context
   * gets `fieldseal:tenant` and every value is bound to the tenant (flag `scoped`), so a value
   * or data key moved to another tenant's row fails; `keyringFor(tenant)` picks the keyring.
   */
  readonly tenant?: string | undefined;
}

/** What to write: the ciphertext of each column and the row's data-key column. */
export interface EncryptedRow {
  readonly values: Record<string, string | Uint8Array | null | undefined>;
  /** The data-key column's value. Every row gets one, even with all values null, so later writes reuse it. */
  readonly dataKey: string;
}

/** What {@link RowEnvelope.encryptForRow} returns: the values, the column text and the write's guard. */
export interface EncryptedRowWrite extends EncryptedRow {
  /** True when the row had no data key and `dataKey` is a new one. */
  readonly isNewKey: boolean;
  /** True when `dataKey` differs from the row's current column (a new key, or a v1 column upgraded to v2): write it too. */
  readonly dataKeyChanged: boolean;
  /** The condition on the row's data-key column under which this write is valid (see docs/format.md). */
  readonly guard: RowKeyGuard;
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
  /** The row's tenant, exactly as given when it was written (see {@link EncryptRowInput.tenant}). */
  readonly tenant?: string | undefined;
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
  readonly acceptV1Values: boolean;
  readonly #baseContext: EncryptionContext;
  readonly #keyringFor: ((tenant: string) => Keyring | Promise<Keyring>) | undefined;
  // One frozen context object per table (and tenant), so a cache can recognise it by identity.
  readonly #contexts = new Map<string, EncryptionContext>();
  readonly #tenantContexts = new Map<string, Map<string, EncryptionContext>>();
  // Parsed wrapped keys (key ids and wrapped bytes: nothing secret), by the column text after the
  // row salt. Rows written while a data key was cached share that text, so reads skip the base64
  // decode; the same object also lets a caching keyring recognise the wrapped key by identity.
  readonly #parsedKeys = new Map<string, WrappedDataKey>();

  constructor(options: RowEnvelopeOptions) {
    if (!options?.keyring || typeof options.keyring.generateDataKey !== 'function') {
      throw new ConfigError(
        'keyring',
        'a Keyring is required (e.g. new LocalKeyring(...) or a CachingKeyring)',
      );
    }
    const base = options.encryptionContext ?? {};
    assertEncryptionContext(base);
    for (const reserved of [TABLE_CONTEXT_KEY, TENANT_CONTEXT_KEY])
      if (reserved in base)
        throw new ConfigError('encryptionContext', `"${reserved}" is reserved; fieldseal sets it`);
    if (options.keyringFor !== undefined && typeof options.keyringFor !== 'function')
      throw new ConfigError('keyringFor', 'must be a function (tenant) => Keyring');
    const readMode = options.readMode ?? 'strict';
    if (readMode !== 'strict' && readMode !== 'tolerant')
      throw new ConfigError('readMode', 'must be "strict" or "tolerant"');
    this.keyring = options.keyring;
    this.readMode = readMode;
    this.acceptV1Values = options.acceptV1Values ?? true;
    this.#keyringFor = options.keyringFor;
    this.#baseContext = Object.freeze({ ...base });
  }

  /**
   * The encryption context of a table's data keys: the configured pairs plus `fieldseal:table`,
   * and `fieldseal:tenant` for a tenant's rows.
   */
  contextFor(table: string, tenant?: string): EncryptionContext {
    let context = this.#contexts.get(table);
    if (!context) {
      context = Object.freeze({ ...this.#baseContext, [TABLE_CONTEXT_KEY]: table });
      this.#contexts.set(table, context);
    }
    if (tenant === undefined) return context;
    let byTenant = this.#tenantContexts.get(table);
    if (!byTenant) {
      byTenant = new Map();
      this.#tenantContexts.set(table, byTenant);
    }
    let scoped = byTenant.get(tenant);
    if (!scoped) {
      // Tenants can be many: bound the memo (identity only helps a cache, it is not needed).
      if (byTenant.size >= 10_000) byTenant.clear();
      scoped = Object.freeze({ ...context, [TENANT_CONTEXT_KEY]: tenant });
      byTenant.set(tenant, scoped);
    }
    return scoped;
  }

  /** The keyring of a tenant's rows (`keyringFor`), or the envelope's keyring. */
  async keyringOf(tenant: string | undefined): Promise<Keyring> {
    if (tenant === undefined || !this.#keyringFor) return this.keyring;
    const keyring = await this.#keyringFor(tenant);
    if (!keyring || typeof keyring.generateDataKey !== 'function')
      throw new ConfigError('keyringFor', `returned no Keyring for tenant "${tenant}"`);
    return keyring;
  }

  /**
   * Encrypts every non-null value of a new row under one new data key (from the keyring, or
   * its cache). Write all returned values *and* `dataKey` together, in one statement.
   */
  async encryptRow(input: EncryptRowInput): Promise<EncryptedRow> {
    const { table, tenant } = input;
    const rowId = input.rowId ?? input.errorRowId;
    assertTenant(tenant, table, rowId);
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
    const material = await this.#keyringCall(rowId === undefined ? { table } : { table, rowId }, async () =>
      (await this.keyringOf(tenant)).generateDataKey(this.contextFor(table, tenant), {
        plaintextBytes,
        encryptions: Math.max(encryptions, 1),
      }),
    );
    // Used synchronously from here on: a cache may wipe the plaintext key after this turn.
    const salt = newRowSalt();
    return {
      values: encryptColumns(input, deriveRowKey(material.plaintextKey, salt)),
      dataKey: formatRowDataKey(material, salt),
    };
  }

  /**
   * Encrypts values being written into an existing row under the data key the row already
   * holds, so every encrypted value of the row keeps opening with the row's data key (the
   * per-row invariant). A row's plaintext data key and salt never change once set; rotation
   * only re-wraps the key. Returns the guard the write must carry (`WHERE <id> AND <guard>`):
   * - a v2 row: its key identity `fsk2:<salt>.`, which rotation keeps;
   * - a v1 row (`fsk1:`): gets a salt now (`dataKeyChanged`), guarded on its exact column text;
   * - a row without a key (legacy plaintext): gets a new one (`isNewKey`), guarded on "still null",
   *   so two writers never give one row two keys.
   * Prefer {@link writeToRows}, which also re-reads and retries rows whose guard missed.
   */
  async encryptForRow(input: EncryptRowInput & { readonly dataKey: unknown }): Promise<EncryptedRowWrite> {
    if (input.dataKey === null || input.dataKey === undefined) {
      const fresh = await this.encryptRow(input);
      return { ...fresh, isNewKey: true, dataKeyChanged: true, guard: { kind: 'absent' } };
    }
    const rowId = input.rowId ?? input.errorRowId;
    const location = rowId === undefined ? { table: input.table } : { table: input.table, rowId };
    assertTenant(input.tenant, input.table, rowId);
    const split = splitDataKey(input.dataKey, location);
    const keyring = await this.#keyringCall(location, () => this.keyringOf(input.tenant));
    const wrapped = this.#wrapped(split.wrapped, location, keyring);
    const plaintextKey = await this.#keyringCall(location, () =>
      keyring.decryptDataKey(wrapped.encryptedKey, this.contextFor(input.table, input.tenant)),
    );
    const text = input.dataKey as string;
    if (split.salt !== undefined) {
      const values = encryptColumns(input, rememberedRowKey(plaintextKey, split.salt));
      return {
        values,
        dataKey: text,
        isNewKey: false,
        dataKeyChanged: false,
        guard: { kind: 'prefix', prefix: split.identity },
      };
    }
    const salt = newRowSalt();
    const values = encryptColumns(input, deriveRowKey(plaintextKey, salt));
    return {
      values,
      dataKey: formatRowDataKey(wrapped, salt),
      isNewKey: false,
      dataKeyChanged: true,
      guard: { kind: 'exact', text },
    };
  }

  /**
   * Writes `values` into existing rows through an adapter's {@link RowKeyPort}: reads each row's
   * data key, encrypts for that row, writes with a guard on the row's key identity, and re-reads
   * and retries rows whose guard missed (deleted and re-inserted, claimed or upgraded by another
   * writer) up to `maxAttempts` times before a `WriteConflictError`. A rotation running beside it
   * never makes a write miss (the guard is what rotation keeps). The same race has the same
   * outcome in every adapter and in the CLI, because this is the only implementation.
   */
  writeToRows<Id>(input: WriteToRowsInput<Id>): Promise<WriteToRowsResult<Id>> {
    return writeToRows(this, input);
  }

  /**
   * Decrypts the row's values with the data key stored in the row. `null`/`undefined` pass
   * through. A value that is not ciphertext fails in strict mode and is returned as it is in
   * tolerant mode. Throws `DecryptionError` or `KeyringError`; never returns wrong plaintext.
   */
  async decryptRow(input: DecryptRowInput): Promise<DecryptedRow> {
    const row = this.#prepareRead(input);
    if (row.encrypted.length === 0) return row.out;
    const split = splitDataKey(input.dataKey, row.location);
    const keyring = await this.#keyringCall(row.location, () => this.keyringOf(input.tenant));
    const wrapped = this.#wrapped(split.wrapped, row.location, keyring);
    const plaintextKey = await this.#keyringCall(row.location, () =>
      keyring.decryptDataKey(wrapped.encryptedKey, this.contextFor(input.table, input.tenant)),
    );
    this.#decryptColumns(input, row, plaintextKey, split.salt, true);
    return row.out;
  }

  /**
   * Decrypts many rows (e.g. the result of one query) like {@link decryptRow}, asking the
   * keyring once per distinct data key instead of once per row: rows written while a key was
   * cached share it. Results are in input order. Fails as a whole on the first bad row.
   */
  async decryptRows(inputs: readonly DecryptRowInput[]): Promise<DecryptedRow[]> {
    // One row (a find by id or by a unique index): nothing to group, so skip the grouping maps,
    // the per-group closures and Promise.all. Same checks, same errors as the batch.
    if (inputs.length === 1) return [await this.decryptRow(inputs[0] as DecryptRowInput)];
    const rows = inputs.map((input) => this.#prepareRead(input));
    // Rows needing a key, grouped by context (table and tenant) and wrapped key (the column text
    // after the row salt): rows written while a key was cached share it, so groups are few.
    const groups = new Map<EncryptionContext, Map<string, number[]>>();
    const tenants = new Map<EncryptionContext, string | undefined>();
    const salts: (Buffer | undefined)[] = [];
    for (let i = 0; i < inputs.length; i++) {
      if ((rows[i] as PreparedRead).encrypted.length === 0) continue;
      const input = inputs[i] as DecryptRowInput;
      assertTenant(input.tenant, input.table, input.rowId);
      const context = this.contextFor(input.table, input.tenant);
      let byKey = groups.get(context);
      if (!byKey) {
        byKey = new Map();
        groups.set(context, byKey);
        tenants.set(context, input.tenant);
      }
      // Split every data-key column before the first keyring call, so a bad one fails the batch
      // before any call is in flight (none is left to reject unobserved).
      const split = splitDataKey(input.dataKey, (rows[i] as PreparedRead).location);
      salts[i] = split.salt;
      const members = byKey.get(split.wrapped);
      if (members) members.push(i);
      else byKey.set(split.wrapped, [i]);
    }
    const work: {
      context: EncryptionContext;
      keyring: Keyring;
      stored: WrappedDataKey;
      members: number[];
    }[] = [];
    for (const [context, byKey] of groups) {
      const firstMembers = byKey.values().next().value as number[];
      const first = (rows[firstMembers[0] as number] as PreparedRead).location;
      const keyring = await this.#keyringCall(first, () => this.keyringOf(tenants.get(context)));
      for (const [wrapped, members] of byKey) {
        const location = (rows[members[0] as number] as PreparedRead).location;
        work.push({ context, keyring, stored: this.#wrapped(wrapped, location, keyring), members });
      }
    }
    const calls = work.map(({ context, keyring, stored, members }) =>
      this.#keyringCall((rows[members[0] as number] as PreparedRead).location, () =>
        keyring.decryptDataKey(stored.encryptedKey, context),
      ).then((plaintextKey) => {
        // Decrypt right away: a cache may wipe the plaintext key after this turn.
        for (const i of members)
          this.#decryptColumns(inputs[i] as DecryptRowInput, rows[i] as PreparedRead, plaintextKey, salts[i]);
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

  /** Decodes (or recalls) a wrapped key, rejecting a key-id label that differs from the key's own. */
  #wrapped(text: string, location: ErrorLocation, keyring: Keyring): WrappedDataKey {
    const known = this.#parsedKeys.get(text);
    if (known) return known;
    const stored = parseWrapped(text, location);
    const actual = keyring.keyIdOf?.(stored.encryptedKey);
    if (actual !== undefined && actual !== stored.keyId) {
      throw new DecryptionError(
        'malformed-data-key',
        'Data-key column names a different master key than the one that wrapped its data key; the column was altered',
        { location },
      );
    }
    if (this.#parsedKeys.size >= 1_000) this.#parsedKeys.clear();
    this.#parsedKeys.set(text, stored);
    return stored;
  }

  /** Decrypts a prepared row's ciphertext with the key of each value's format version. */
  #decryptColumns(
    input: DecryptRowInput,
    row: PreparedRead,
    dataKey: Uint8Array,
    salt: Buffer | undefined,
    remember = false,
  ): void {
    const { table, rowId, tenant } = input;
    let v1: DerivedDataKey | undefined;
    let v2: DerivedDataKey | undefined;
    const keyFor = (version: FormatVersion): DerivedDataKey | undefined => {
      if (version === 1) {
        if (!this.acceptV1Values) return undefined;
        v1 ??= deriveDataKey(dataKey);
        return v1;
      }
      if (salt === undefined) return undefined;
      // One row at a time (a find, an update) recalls its key; a batch of rows would only churn.
      v2 ??= remember ? rememberedRowKey(dataKey, salt) : deriveRowKey(dataKey, salt);
      return v2;
    };
    for (const column of row.encrypted) {
      const place = placeOf(table, column, rowId, tenant);
      row.out[column] = decryptValueWith(keyFor, place, input.values[column] as string | Uint8Array);
    }
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

/** A keyring failure named with the table and row it happened for (internal; used by rebind too). */
export function keyringFailure(cause: unknown, where: ErrorLocation): FieldsealError {
  if (isKeyringError(cause))
    return new KeyringError(cause.code, cause.message, {
      location: where,
      cause,
      ...(cause.keyId ? { keyId: cause.keyId } : {}),
    });
  if (isFieldsealError(cause)) return cause;
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

function encryptColumns(
  input: EncryptRowInput,
  key: DerivedDataKey,
): Record<string, string | Uint8Array | null | undefined> {
  const { table, rowId, tenant } = input;
  const values: Record<string, string | Uint8Array | null | undefined> = {};
  for (const column in input.values) {
    const value = input.values[column];
    if (value === null || value === undefined) {
      values[column] = value;
      continue;
    }
    const place = placeOf(table, column, rowId, tenant);
    const output = input.output?.[column];
    values[column] = encryptValue(key, place, value, output ? { output } : {});
  }
  return values;
}

function placeOf(
  table: string,
  column: string,
  rowId: string | number | bigint | undefined,
  tenant: string | undefined,
): ValuePlace {
  return {
    table,
    column,
    ...(rowId === undefined ? {} : { rowId }),
    ...(tenant === undefined ? {} : { tenant }),
  };
}

/** A tenant is a non-empty string (a numeric tenant column is passed as its decimal text). */
function assertTenant(tenant: unknown, table: string, rowId: string | number | bigint | undefined): void {
  if (tenant === undefined || (typeof tenant === 'string' && tenant.length > 0)) return;
  throw new ConfigError(
    'tenant',
    `must be a non-empty string when given, got ${tenant === null ? 'null' : typeof tenant} (table "${table}"${rowId === undefined ? '' : `, row ${String(rowId)}`})`,
  );
}
