import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  COMMITMENT_LENGTH,
  COMMITMENT_LENGTHS,
  DecryptionError,
  decryptValue,
  deriveDataKey,
  encryptValue,
  FLAG_BINARY,
  FLAG_ROW_BOUND,
  FORMAT_VERSION,
  IV_LENGTH,
  isEncryptedValue,
  MIN_BODY_LENGTH,
  MIN_BODY_LENGTHS,
  parseValue,
  TAG_LENGTH,
  VALUE_PREFIX,
  VALUE_PREFIX_V1,
} from '../src/index.js';
import { expectThrows } from './helpers.js';

const key = deriveDataKey(randomBytes(32));
const place = { table: 'User', column: 'email' };

describe('layout', () => {
  it('the constants are the ones docs/format.md specifies', () => {
    expect([VALUE_PREFIX, FORMAT_VERSION, IV_LENGTH, TAG_LENGTH, COMMITMENT_LENGTH, MIN_BODY_LENGTH]).toEqual(
      ['fs2:', 2, 12, 16, 16, 61],
    );
    expect([VALUE_PREFIX_V1, MIN_BODY_LENGTHS[1], COMMITMENT_LENGTHS[2]]).toEqual(['fs1:', 45, 32]);
    expect([FLAG_BINARY, FLAG_ROW_BOUND]).toEqual([1, 2]);
  });

  it('the text form is "fs1:" followed by unpadded base64url of flags | commitment | iv | ciphertext | tag', () => {
    const stored = encryptValue(key, place, 'bob@example.org!') as string;
    expect(stored).toMatch(/^fs1:[A-Za-z0-9_-]+$/);
    const body = Buffer.from(stored.slice(4), 'base64url');
    expect(body.length).toBe(1 + 16 + 12 + 16 + 16);
    expect(body[0]).toBe(0);
    expect(body.subarray(1, 17).equals(key.commitment)).toBe(true);
  });

  it('the binary form is the bytes "fs1:" followed by the same body, unencoded', () => {
    const stored = encryptValue(key, place, Uint8Array.of(1, 2, 3)) as Uint8Array;
    expect(Buffer.from(stored.subarray(0, 4)).toString('latin1')).toBe('fs1:');
    expect(stored.length).toBe(4 + 45 + 3);
    expect(stored[4]).toBe(FLAG_BINARY);
  });

  it('parseValue splits a body into views of the documented sizes, in both forms', () => {
    for (const stored of [
      encryptValue(key, place, 'abc'),
      encryptValue(key, place, 'abc', { output: 'binary' }),
    ]) {
      const parsed = parseValue(stored);
      expect(parsed.flags).toBe(0);
      expect(parsed.commitment.length).toBe(16);
      expect(parsed.iv.length).toBe(12);
      expect(parsed.ciphertext.length).toBe(3);
      expect(parsed.tag.length).toBe(16);
    }
  });

  it('a row id sets the row-bound flag; bytes set the binary flag', () => {
    expect(parseValue(encryptValue(key, { ...place, rowId: 1 }, 'a')).flags).toBe(FLAG_ROW_BOUND);
    expect(parseValue(encryptValue(key, { ...place, rowId: 1 }, Uint8Array.of(1))).flags).toBe(
      FLAG_ROW_BOUND | FLAG_BINARY,
    );
  });

  it('a binary value inside a larger buffer (non-zero byteOffset) parses and decrypts', () => {
    const stored = encryptValue(key, place, 'abc', { output: 'binary' }) as Uint8Array;
    const backing = Buffer.concat([Buffer.from('garbage'), stored, Buffer.from('trailer')]);
    const view = backing.subarray(7, 7 + stored.length);
    expect(decryptValue(key, place, view)).toBe('abc');
  });
});

describe('isEncryptedValue recognises every version, and nothing else', () => {
  it.each(['fs1:AAAA', 'fs1:', 'fs2:x', 'fs0:', 'fs10:x', 'fs999:'])('true for %j', (text) => {
    expect(isEncryptedValue(text)).toBe(true);
    expect(isEncryptedValue(Buffer.from(text, 'latin1'))).toBe(true);
  });

  it.each([
    '',
    'f',
    'fs',
    'fs1',
    'FS1:x',
    'fs:x',
    'fsa:x',
    ' fs1:x',
    'fsk1:x',
    'fs1234:x',
    'alice@example.com',
  ])('false for %j', (text) => {
    expect(isEncryptedValue(text)).toBe(false);
    expect(isEncryptedValue(Buffer.from(text, 'latin1'))).toBe(false);
  });

  it.each(['fs2: fasting sugar 7.1 mmol/l', 'fs1:not base64!', 'fs3: a note'])(
    'false for text that has a version prefix but not the shape of ciphertext: %j (it is plaintext)',
    (text) => {
      expect(isEncryptedValue(text)).toBe(false);
    },
  );

  it.each([null, undefined, 42, {}, [], true])('false for the non-string, non-bytes value %s', (value) => {
    expect(isEncryptedValue(value)).toBe(false);
  });
});

describe('version rules', () => {
  it.each(['fs3:AAAA', 'fs0:AAAA', 'fs10:', 'fs999:anything', 'fs01:AAAA'])(
    'an unknown fs<N>: prefix is unsupported-version, naming the version, in text form: %j',
    (text) => {
      const error = expectThrows(() => parseValue(text), DecryptionError, 'unsupported-version');
      expect(error.message).toContain(`version ${/^fs(\d+):/.exec(text)?.[1]}`);
      expect(error.message).toMatch(/upgrade fieldseal/);
    },
  );

  it('an unknown fs<N>: prefix is unsupported-version in binary form too', () => {
    expectThrows(
      () => parseValue(Buffer.from('fs3:\u0000\u0001', 'latin1')),
      DecryptionError,
      'unsupported-version',
    );
  });

  it('unsupported-version wins over a malformed body (a future version may use any body)', () => {
    expectThrows(
      () => decryptValue(key, place, 'fs3:!!not base64!!'),
      DecryptionError,
      'unsupported-version',
    );
  });

  it('an fs prefix with four or more digits is not a fieldseal value at all (malformed-value)', () => {
    expectThrows(() => parseValue('fs1000:AAAA'), DecryptionError, 'malformed-value');
  });
});

describe('malformed values', () => {
  const good = encryptValue(key, place, 'x') as string;
  const body = good.slice(4);

  it.each([
    ['no prefix', body],
    ['a standard-base64 character', `fs1:${body.slice(0, -1)}+`],
    ['padding', `fs1:${body}=`],
    ['whitespace', `fs1:${body.slice(0, 10)} ${body.slice(10)}`],
    ['a newline at the end', `${good}\n`],
    ['an impossible base64 length (4n + 1 characters)', `fs1:${'A'.repeat(61)}`],
    ['a body one byte too short', `fs1:${Buffer.alloc(MIN_BODY_LENGTHS[1] - 1).toString('base64url')}`],
    ['a v2 body one byte too short', `fs2:${Buffer.alloc(MIN_BODY_LENGTH - 1).toString('base64url')}`],
    ['an empty body', 'fs1:'],
    ['non-ASCII characters', `fs1:${body.slice(0, -2)}é`],
  ])('%s → malformed-value', (_name, text) => {
    expectThrows(() => decryptValue(key, place, text), DecryptionError, 'malformed-value');
  });

  it.each([0x04, 0x08, 0x80, 0xff])('unknown flag bits 0x%s → malformed-value', (flag) => {
    const bytes = Buffer.from(encryptValue(key, place, 'x', { output: 'binary' }) as Uint8Array);
    bytes[4] = flag;
    const error = expectThrows(() => decryptValue(key, place, bytes), DecryptionError, 'malformed-value');
    expect(error.message).toMatch(/flag/);
  });

  it('the too-short message says how long the body was and the minimum, suggesting truncation', () => {
    const error = expectThrows(
      () => parseValue(Buffer.from('fs1:abc', 'latin1')),
      DecryptionError,
      'malformed-value',
    );
    expect(error.message).toMatch(/3 bytes, at least 45.*truncated/);
  });

  it('the location passed to parseValue is carried by the error and named in its message', () => {
    const error = expectThrows(
      () => parseValue('fs1:*', { table: 'T', column: 'c', rowId: 7 }),
      DecryptionError,
      'malformed-value',
    );
    expect(error.location).toEqual({ table: 'T', column: 'c', rowId: 7 });
    expect(error.message).toContain('(table "T", column "c", row 7)');
  });
});
