import { inspect } from 'node:util';
import { formatDataKey, parseDataKey } from './data-key-format.js';
import type { EncryptionContext } from './encryption-context.js';
import { assertEncryptionNames, type EncryptionNames, encryptionNameOf } from './encryption-names.js';
import { ConfigError, EncryptionError } from './errors.js';
import { DATA_KEY_LENGTH, type Keyring } from './keyring.js';
import { type HmacKey, hmacFinish, hmacKey, SHA256_LENGTH } from './sha256.js';

/** Encryption context of the blind-index key, so a row's data key can never serve as one. */
export const BLIND_INDEX_CONTEXT: EncryptionContext = Object.freeze({ 'fieldseal:purpose': 'blind-index' });

/** Options of {@link BlindIndex.open}. */
export interface BlindIndexOptions {
  /** Tables bound to another encryption name (as in the adapters' option); see docs/rebind.md. */
  readonly encryptionNames?: EncryptionNames;
  /** The keyring that wrapped the index key (the same one as the data keys, usually). */
  readonly keyring: Keyring;
  /** The wrapped index key, as printed by `BlindIndex.generateKey` (`fsk1:…`). Keep it with your config. */
  readonly wrappedKey: string;
  /**
   * Bytes of HMAC-SHA-256 kept per index value, 8–32. Defaults to 16 (128 bits, 32 hex
   * characters): no collisions in practice, so the index column can be `@unique`.
   *
   * Leakage, whatever the length: the index is deterministic, so anyone who reads the table
   * sees which rows hold equal values and how often each value occurs (frequency analysis
   * against a known distribution can then guess common values), though not the values.
   * Collisions: two different values share an index value with probability about
   * n² / 2^(8·bytes+1) over n distinct values — at 8 bytes, 1 in ~37 million for a million
   * values and likely past ~4 billion (2^32) — so a lookup may return another value's row: fieldseal's adapters re-check the decrypted
   * value and drop such rows; code querying the index column itself must do the same.
   */
  readonly bytes?: number;
}

const COLUMN_LABEL = 'fieldseal v1 blind index';
/** Values up to this many UTF-8 bytes are hashed from a reused buffer (zero-filled after use). */
const SCRATCH_BYTES = 4096;
const scratch = Buffer.alloc(1 + SCRATCH_BYTES);
const tag = Buffer.alloc(SHA256_LENGTH);

/**
 * Keyed hashes of encrypted values for equality lookups (`where: { email }`). One index key,
 * separate from every data key and wrapped by the keyring, is turned into a key per
 * table/column, so equal values in two columns do not match. An index reveals which rows
 * hold equal values (and so value frequencies); it does not reveal the values.
 */
export class BlindIndex {
  /** Hex characters of every index value. */
  readonly length: number;
  readonly #bytes: number;
  /** The index key, prepared for HMAC (inner and outer states); the key's bytes are not kept. */
  readonly #key: HmacKey;
  /** Per table/column: the column key, prepared once (its HMAC inner and outer states). */
  readonly #columnKeys = new Map<string, HmacKey>();
  #names: EncryptionNames | undefined;

  private constructor(key: Uint8Array, bytes: number) {
    this.#key = hmacKey(key);
    this.#bytes = bytes;
    this.length = bytes * 2;
  }

  /**
   * Makes a new random index key wrapped by `keyring`; store the returned text in your config.
   * Every call makes a different key, also through a `CachingKeyring` (`longLived` hint).
   */
  static async generateKey(keyring: Keyring): Promise<string> {
    const material = await keyring.generateDataKey(BLIND_INDEX_CONTEXT, { longLived: true });
    return formatDataKey(material);
  }

  /** Unwraps the index key once; the returned object hashes synchronously. */
  static async open(options: BlindIndexOptions): Promise<BlindIndex> {
    const bytes = options.bytes ?? 16;
    if (!Number.isInteger(bytes) || bytes < 8 || bytes > 32)
      throw new ConfigError('bytes', 'must be a whole number from 8 to 32');
    const stored = parseDataKey(options.wrappedKey, { table: '(blind index key)' });
    const key = await options.keyring.decryptDataKey(stored.encryptedKey, BLIND_INDEX_CONTEXT);
    if (key.length !== DATA_KEY_LENGTH) throw new ConfigError('wrappedKey', 'does not hold a 32-byte key');
    const index = new BlindIndex(key, bytes);
    if (options.encryptionNames !== undefined) {
      assertEncryptionNames(options.encryptionNames);
      index.#names = Object.freeze({ ...options.encryptionNames });
    }
    return index;
  }

  /** The index value (lower-case hex) of `value` in `table.column`. Deterministic. */
  compute(tableName: string, column: string, value: string | Uint8Array): string {
    const table = encryptionNameOf(this.#names, tableName);
    const id = `${table}\u0000${column}`;
    let columnKey = this.#columnKeys.get(id);
    if (!columnKey) {
      // NUL separates the names in the key label; inside a name it would make two columns share a key.
      if (table.includes('\u0000') || column.includes('\u0000')) {
        throw new ConfigError('blind index', 'table and column names must not contain NUL characters');
      }
      const bytes = hmacFinish(this.#key, Buffer.from(`${COLUMN_LABEL}\u0000${id}`, 'utf8'));
      columnKey = hmacKey(bytes);
      bytes.fill(0);
      this.#columnKeys.set(id, columnKey);
    }
    // HMAC(columnKey, 0x00 || UTF-8 of a string, or 0x01 || bytes).
    let message: Buffer;
    if (typeof value === 'string') {
      message = value.length * 3 <= SCRATCH_BYTES ? scratch : Buffer.alloc(1 + Buffer.byteLength(value));
      message[0] = 0;
      message = message.subarray(0, 1 + message.write(value, 1, 'utf8'));
    } else if (value instanceof Uint8Array) {
      message = value.length <= SCRATCH_BYTES ? scratch : Buffer.alloc(1 + value.length);
      message[0] = 1;
      message.set(value, 1);
      message = message.subarray(0, 1 + value.length);
    } else
      throw new EncryptionError(
        'unsupported-type',
        `Only strings and Uint8Array can be indexed, got ${typeof value}`,
        { location: { table, column } },
      );
    hmacFinish(columnKey, message, tag);
    message.fill(0); // the plaintext value
    return tag.toString('hex', 0, this.#bytes);
  }

  toJSON(): object {
    return { type: 'BlindIndex', bytes: this.#bytes };
  }

  [inspect.custom](): string {
    return `BlindIndex { bytes: ${this.#bytes} }`;
  }
}
