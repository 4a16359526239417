import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import {
  type DataKeyHint,
  type DataKeyMaterial,
  type EncryptionContext,
  type FieldsealError,
  type Keyring,
  LocalKeyring,
} from '../src/index.js';

/** A fresh random master key in the `keyId:base64` text form. */
export function keyText(keyId: string, key: Uint8Array = randomBytes(32)): string {
  return `${keyId}:${Buffer.from(key).toString('base64')}`;
}

/** A LocalKeyring over fresh random keys; the first id is primary. */
export function randomKeyring(...keyIds: string[]): LocalKeyring {
  return LocalKeyring.fromString((keyIds.length > 0 ? keyIds : ['k1']).map((id) => keyText(id)).join(','));
}

/** Runs `fn` and returns what it threw; fails the test when it returns normally. */
export function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw, but it returned');
}

/** Awaits `promise` and returns its rejection reason; fails the test when it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject, but it resolved');
}

/** Asserts `error` is the fieldseal error class `type` with `code`, and returns it typed. */
export function expectError<T extends FieldsealError>(
  error: unknown,
  type: abstract new (...args: never[]) => T,
  code: string,
): T {
  expect(error).toBeInstanceOf(type);
  expect((error as T).code).toBe(code);
  return error as T;
}

/** Asserts that `fn` throws a fieldseal error of `type` and `code`. */
export function expectThrows<T extends FieldsealError>(
  fn: () => unknown,
  type: abstract new (...args: never[]) => T,
  code: string,
): T {
  return expectError(thrownBy(fn), type, code);
}

/** Asserts that `promise` rejects with a fieldseal error of `type` and `code`. */
export async function expectRejects<T extends FieldsealError>(
  promise: Promise<unknown>,
  type: abstract new (...args: never[]) => T,
  code: string,
): Promise<T> {
  return expectError(await rejectionOf(promise), type, code);
}

/** Every text obtained by flipping one bit of one character (UTF-16 code unit, low 8 bits). */
export function* textBitFlips(text: string): Generator<{ at: number; bit: number; text: string }> {
  for (let at = 0; at < text.length; at++) {
    for (let bit = 0; bit < 8; bit++) {
      const flipped = String.fromCharCode(text.charCodeAt(at) ^ (1 << bit));
      yield { at, bit, text: text.slice(0, at) + flipped + text.slice(at + 1) };
    }
  }
}

/** Every byte array obtained by flipping one bit of one byte. */
export function* byteBitFlips(bytes: Uint8Array): Generator<{ at: number; bit: number; bytes: Uint8Array }> {
  for (let at = 0; at < bytes.length; at++) {
    for (let bit = 0; bit < 8; bit++) {
      const copy = Uint8Array.from(bytes);
      copy[at] = (copy[at] as number) ^ (1 << bit);
      yield { at, bit, bytes: copy };
    }
  }
}

/** The base64url alphabet, for substitution tests. */
export const BASE64URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** A keyring wrapper that counts calls, to prove what the envelope asks of its keyring. */
export class CountingKeyring implements Keyring {
  readonly name: string;
  generated = 0;
  decrypted = 0;
  readonly hints: (DataKeyHint | undefined)[] = [];

  constructor(readonly inner: Keyring) {
    this.name = `counting:${inner.name}`;
  }

  generateDataKey(context: EncryptionContext, hint?: DataKeyHint): Promise<DataKeyMaterial> {
    this.generated++;
    this.hints.push(hint);
    return this.inner.generateDataKey(context, hint);
  }

  decryptDataKey(encryptedKey: Uint8Array, context: EncryptionContext): Promise<Uint8Array> {
    this.decrypted++;
    return this.inner.decryptDataKey(encryptedKey, context);
  }
}

/** Lower-case hex of bytes. */
export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}
