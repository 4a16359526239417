import type { PlaintextValue } from '@fieldseal/core';

/**
 * The values one call encrypted for the new rows it creates, by the exact ciphertext it produced
 * (and the table, column and data-key text it was made for). A returned row that holds that very
 * ciphertext holds that very plaintext: it is filled from here instead of decrypted again, so a
 * `create` needs no keyring call (nor any other step that can fail) after its write committed.
 * A value the database changed, or any value this call did not write, is not found here and is
 * decrypted as usual.
 */
export class WrittenValues {
  readonly #values = new Map<string, PlaintextValue>();

  /** Records what one new row's encrypted columns hold: `ciphertext` made from `plaintext`, by column. */
  record(
    table: string,
    dataKey: string,
    plaintext: Readonly<Record<string, unknown>>,
    ciphertext: Readonly<Record<string, unknown>>,
  ): void {
    for (const [column, value] of Object.entries(ciphertext)) {
      const plain = plaintext[column];
      if (plain === null || plain === undefined) continue;
      const stored = storedKey(table, column, dataKey, value);
      // Bytes copied now: the app's array may change later, the stored value does not.
      if (stored !== undefined)
        this.#values.set(stored, typeof plain === 'string' ? plain : new Uint8Array(plain as Uint8Array));
    }
  }

  /**
   * The plaintext of a stored value, as a decryption returns it (bytes as a fresh `Uint8Array`);
   * `null` for `null`; `undefined` when this call did not write that ciphertext there.
   */
  plaintextOf(
    table: string,
    column: string,
    dataKey: unknown,
    stored: unknown,
  ): PlaintextValue | null | undefined {
    if (stored === null) return null;
    if (typeof dataKey !== 'string') return undefined;
    const key = storedKey(table, column, dataKey, stored);
    const plain = key === undefined ? undefined : this.#values.get(key);
    if (plain === undefined) return undefined;
    return typeof plain === 'string' ? plain : new Uint8Array(plain);
  }

  get size(): number {
    return this.#values.size;
  }
}

function storedKey(table: string, column: string, dataKey: string, stored: unknown): string | undefined {
  const text =
    typeof stored === 'string'
      ? `t${stored}`
      : stored instanceof Uint8Array
        ? `b${Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength).toString('base64')}`
        : undefined;
  return text === undefined ? undefined : JSON.stringify([table, column, dataKey, text]);
}
