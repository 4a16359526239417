import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeValue, type EncryptedValueType, encodeValue, ValueTypeMismatch } from '../src/index.js';

interface Input {
  string?: string;
  number?: string;
  boolean?: boolean;
  date?: string;
  json?: unknown;
  base64?: string;
}
interface Vector {
  type: EncryptedValueType;
  input: Input;
  plaintext?: string;
  plaintextBase64?: string;
  error?: string;
}
const file = JSON.parse(
  readFileSync(new URL('../test-vectors/value-codec.json', import.meta.url), 'utf8'),
) as {
  vectors: Vector[];
  decodeErrors: { type: EncryptedValueType; plaintext: string; error: string }[];
};

function inputValue(input: Input): unknown {
  if ('string' in input) return input.string;
  if ('number' in input) return Number(input.number);
  if ('boolean' in input) return input.boolean;
  if ('date' in input) return new Date(input.date as string);
  if ('json' in input) return input.json;
  return Buffer.from(input.base64 as string, 'base64');
}

describe('typed value codec vectors (test-vectors/value-codec.json)', () => {
  for (const vector of file.vectors) {
    const title = `${vector.type} ${JSON.stringify(vector.input)}`;
    if (vector.error) {
      it(`refuses ${title} without showing the value`, () => {
        const result = encodeValue(vector.type, inputValue(vector.input));
        expect(result).toBeInstanceOf(ValueTypeMismatch);
        expect((result as ValueTypeMismatch).reason).toContain(vector.error);
      });
      continue;
    }
    it(`encodes ${title} and decodes it back exactly`, () => {
      const value = inputValue(vector.input);
      const encoded = encodeValue(vector.type, value);
      if (vector.plaintextBase64 !== undefined) {
        expect(Buffer.from(encoded as Uint8Array).toString('base64')).toBe(vector.plaintextBase64);
      } else {
        expect(encoded).toBe(vector.plaintext);
      }
      const decoded = decodeValue(vector.type, encoded as string | Uint8Array);
      if (typeof value === 'number') expect(Object.is(decoded, Number(vector.plaintext))).toBe(true);
      else expect(decoded).toEqual(value);
    });
  }
  for (const vector of file.decodeErrors) {
    it(`decoding ${JSON.stringify(vector.plaintext)} as ${vector.type} is a mismatch, not a wrong value`, () => {
      const result = decodeValue(vector.type, vector.plaintext);
      expect(result).toBeInstanceOf(ValueTypeMismatch);
      expect((result as ValueTypeMismatch).reason).toBe(vector.error);
    });
  }
});
