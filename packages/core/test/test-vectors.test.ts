/**
 * Checks test-vectors/v1.json and v2.json three ways:
 * 1. against an independent implementation of docs/format.md written below with node:crypto
 *    only (it imports nothing from the library);
 * 2. against the library's encryptValue (fixed `iv` option) and decryptValue;
 * 3. against the generator, so the file is never stale.
 */
import { createCipheriv, createDecipheriv, createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  DecryptionError,
  decryptValue,
  deriveDataKey,
  deriveRowKey,
  encryptValue,
  type ValuePlace,
} from '../src/index.js';
import {
  buildVectors,
  type NegativeVector,
  type PositiveVector,
  type Vector,
} from '../test-vectors/generate.js';

const load = (version: 1 | 2) =>
  JSON.parse(readFileSync(new URL(`../test-vectors/v${version}.json`, import.meta.url), 'utf8')) as Vector[];

// ---------------------------------------------------------------------------------------------
// Independent implementation of value formats v1 and v2, from docs/format.md.
// ---------------------------------------------------------------------------------------------
namespace Spec {
  /** v1 when the vector has no salt; v2 (per-row key from data key and salt) when it has one. */
  const versionOf = (salt?: Buffer) => (salt ? 2 : 1);

  /** HKDF-Expand (RFC 5869) with PRK = the data key, for one 32-byte block: HMAC(PRK, info | 0x01). */
  function hkdfExpand32(prk: Buffer, info: string): Buffer {
    return createHmac('sha256', prk)
      .update(Buffer.concat([Buffer.from(info, 'latin1'), Buffer.of(1)]))
      .digest();
  }

  export function derive(dataKey: Buffer, salt?: Buffer): { encryptionKey: Buffer; commitment: Buffer } {
    if (!salt)
      return {
        encryptionKey: hkdfExpand32(dataKey, 'fieldseal v1 encryption key'),
        commitment: hkdfExpand32(dataKey, 'fieldseal v1 key commitment').subarray(0, 16),
      };
    const prk = createHmac('sha256', salt).update(dataKey).digest(); // HKDF-Extract(salt, DK)
    return {
      encryptionKey: hkdfExpand32(prk, 'fieldseal v2 encryption key'),
      commitment: hkdfExpand32(prk, 'fieldseal v2 key commitment'),
    };
  }

  function field(text: string): Buffer {
    const bytes = Buffer.from(text, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    return Buffer.concat([length, bytes]);
  }

  export function aad(
    version: number,
    flags: number,
    table: string,
    column: string,
    rowId?: string | number,
    tenant?: string,
  ): Buffer {
    const parts = [
      Buffer.from('fieldseal', 'latin1'),
      Buffer.of(version, flags),
      field(table),
      field(column),
    ];
    if (flags & 2) parts.push(field(String(rowId)));
    if (flags & 4) parts.push(field(String(tenant)));
    return Buffer.concat(parts);
  }

  export function encrypt(
    dataKey: Buffer,
    iv: Buffer,
    place: { table: string; column: string; rowId?: string | number; tenant?: string },
    plaintext: Buffer,
    binary: boolean,
    salt?: Buffer,
  ): { text: string; binary: Buffer } {
    const version = versionOf(salt);
    const { encryptionKey, commitment } = derive(dataKey, salt);
    const flags =
      (binary ? 1 : 0) | (place.rowId === undefined ? 0 : 2) | (place.tenant === undefined ? 0 : 4);
    const cipher = createCipheriv('aes-256-gcm', encryptionKey, iv);
    cipher.setAAD(aad(version, flags, place.table, place.column, place.rowId, place.tenant));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const body = Buffer.concat([Buffer.of(flags), commitment, iv, ciphertext, cipher.getAuthTag()]);
    const prefix = `fs${version}:`;
    return {
      text: `${prefix}${body.toString('base64url')}`,
      binary: Buffer.concat([Buffer.from(prefix, 'latin1'), body]),
    };
  }

  const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

  /** Strict base64url decoding, written out by hand: alphabet only, no padding, canonical. */
  function decodeBase64Url(text: string): Buffer | undefined {
    if (text.length % 4 === 1) return undefined;
    const out: number[] = [];
    let acc = 0;
    let bits = 0;
    for (const c of text) {
      const v = ALPHABET.indexOf(c);
      if (v < 0) return undefined;
      acc = (acc << 6) | v;
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        out.push((acc >> bits) & 0xff);
      }
    }
    if ((acc & ((1 << bits) - 1)) !== 0) return undefined; // unused bits must be zero
    return Buffer.from(out);
  }

  export type Result = { plaintext: Buffer; binary: boolean } | { error: string };

  export function decrypt(
    dataKey: Buffer,
    place: { table: string; column: string; rowId?: string | number; tenant?: string },
    stored: string | Buffer,
    salt?: Buffer,
  ): Result {
    const head = typeof stored === 'string' ? stored.slice(0, 8) : stored.subarray(0, 8).toString('latin1');
    const known = /^fs([12]):/.exec(head);
    if (!known) return { error: /^fs\d{1,3}:/.test(head) ? 'unsupported-version' : 'malformed-value' };
    const version = Number(known[1]);
    const c = version === 1 ? 16 : 32;
    const body = typeof stored === 'string' ? decodeBase64Url(stored.slice(4)) : stored.subarray(4);
    if (!body || body.length < 1 + c + 12 + 16) return { error: 'malformed-value' };
    const flags = body[0] as number;
    if (flags & ~(version === 1 ? 3 : 7)) return { error: 'malformed-value' }; // v2 adds 0x04 scoped
    // A v2 value needs the row's salt; a v1 value opens with the data key alone.
    if (version !== versionOf(salt) && version === 2) return { error: 'wrong-data-key' };
    const { encryptionKey, commitment } = derive(dataKey, version === 2 ? salt : undefined);
    if (!timingSafeEqual(commitment, body.subarray(1, 1 + c))) return { error: 'wrong-data-key' };
    if (flags & 2 && place.rowId === undefined) return { error: 'authentication-failed' };
    // A scoped value needs the reader's tenant; a tenant-scoped reader needs a scoped value.
    if (Boolean(flags & 4) !== (place.tenant !== undefined)) return { error: 'authentication-failed' };
    try {
      const decipher = createDecipheriv('aes-256-gcm', encryptionKey, body.subarray(1 + c, 13 + c), {
        authTagLength: 16,
      });
      decipher.setAAD(aad(version, flags, place.table, place.column, place.rowId, place.tenant));
      decipher.setAuthTag(body.subarray(body.length - 16));
      const plaintext = Buffer.concat([
        decipher.update(body.subarray(13 + c, body.length - 16)),
        decipher.final(),
      ]);
      return { plaintext, binary: (flags & 1) === 1 };
    } catch {
      return { error: 'authentication-failed' };
    }
  }
}

// ---------------------------------------------------------------------------------------------

const placeOf = (v: {
  table: string;
  column: string;
  rowId?: string | number;
  tenant?: string;
}): ValuePlace => ({
  table: v.table,
  column: v.column,
  ...(v.rowId === undefined ? {} : { rowId: v.rowId }),
  ...(v.tenant === undefined ? {} : { tenant: v.tenant }),
});
const plaintextOf = (v: PositiveVector): Buffer =>
  Buffer.from(v.plaintext.value, v.plaintext.type === 'hex' ? 'hex' : 'utf8');
const storedOf = (v: NegativeVector): string | Buffer =>
  'text' in v.stored ? v.stored.text : Buffer.from(v.stored.binary, 'hex');

const saltOf = (v: { salt?: string }) => (v.salt === undefined ? undefined : Buffer.from(v.salt, 'hex'));
/** The library's key for a vector: v1 from the data key, v2 from the data key and the row salt. */
const libraryKey = (v: { dataKey: string; salt?: string }) => {
  const salt = saltOf(v);
  const dataKey = Buffer.from(v.dataKey, 'hex');
  return salt ? deriveRowKey(dataKey, salt) : deriveDataKey(dataKey);
};

describe.each([1, 2] as const)('test vectors v%i', (version) => {
  const vectors = load(version);
  const positives = vectors.filter((v): v is PositiveVector => 'expected' in v);
  const negatives = vectors.filter((v): v is NegativeVector => 'expectedError' in v);

  it('the file holds positive cases (empty, unicode, binary, row-bound) and negative cases of every error code', () => {
    expect(positives.length).toBeGreaterThanOrEqual(8);
    expect(positives.some((v) => v.plaintext.value === '')).toBe(true);
    expect(positives.some((v) => v.plaintext.type === 'hex')).toBe(true);
    expect(positives.some((v) => v.rowId !== undefined)).toBe(true);
    // Tenant-scoped values (flag 0x04) exist only in v2.
    expect(positives.some((v) => v.tenant !== undefined && (v.flags & 4) === 4)).toBe(version === 2);
    expect(new Set(negatives.map((v) => v.expectedError))).toEqual(
      new Set(['malformed-value', 'unsupported-version', 'wrong-data-key', 'authentication-failed']),
    );
  });

  it('the file is what test-vectors/generate.ts produces (regenerate with `pnpm vectors`)', () => {
    expect(vectors).toEqual(JSON.parse(JSON.stringify(buildVectors(version))));
    expect(positives.every((v) => (v.salt !== undefined) === (version === 2))).toBe(true);
  });

  describe('independent implementation (node:crypto only, from docs/format.md)', () => {
    it.each(positives.map((v) => [v.description, v] as const))(
      'derives, builds the AAD and encrypts to the expected bytes: %s',
      (_d, v) => {
        const dataKey = Buffer.from(v.dataKey, 'hex');
        const derived = Spec.derive(dataKey, saltOf(v));
        expect(derived.encryptionKey.toString('hex')).toBe(v.encryptionKey);
        expect(derived.commitment.toString('hex')).toBe(v.commitment);
        expect(Spec.aad(version, v.flags, v.table, v.column, v.rowId, v.tenant).toString('hex')).toBe(v.aad);
        const out = Spec.encrypt(
          dataKey,
          Buffer.from(v.iv, 'hex'),
          v,
          plaintextOf(v),
          v.plaintext.type === 'hex',
          saltOf(v),
        );
        expect(out.text).toBe(v.expected.text);
        expect(out.binary.toString('hex')).toBe(v.expected.binary);
      },
    );

    it.each(positives.map((v) => [v.description, v] as const))(
      'decrypts both forms to the plaintext: %s',
      (_d, v) => {
        const dataKey = Buffer.from(v.dataKey, 'hex');
        for (const stored of [v.expected.text, Buffer.from(v.expected.binary, 'hex')]) {
          const result = Spec.decrypt(dataKey, v, stored, saltOf(v));
          expect(result).toEqual({ plaintext: plaintextOf(v), binary: v.plaintext.type === 'hex' });
        }
      },
    );

    it.each(negatives.map((v) => [v.description, v] as const))(
      'refuses with the expected error: %s',
      (_d, v) => {
        expect(Spec.decrypt(Buffer.from(v.dataKey, 'hex'), v, storedOf(v), saltOf(v))).toEqual({
          error: v.expectedError,
        });
      },
    );
  });

  describe('the library', () => {
    it.each(positives.map((v) => [v.description, v] as const))(
      'encryptValue with the fixed iv gives the expected text and binary: %s',
      (_d, v) => {
        const key = libraryKey(v);
        const plaintext = v.plaintext.type === 'hex' ? new Uint8Array(plaintextOf(v)) : v.plaintext.value;
        const iv = Buffer.from(v.iv, 'hex');
        expect(encryptValue(key, placeOf(v), plaintext, { iv, output: 'text' })).toBe(v.expected.text);
        expect(
          Buffer.from(
            encryptValue(key, placeOf(v), plaintext, { iv, output: 'binary' }) as Uint8Array,
          ).toString('hex'),
        ).toBe(v.expected.binary);
      },
    );

    it.each(positives.map((v) => [v.description, v] as const))(
      'decryptValue returns the plaintext with its type: %s',
      (_d, v) => {
        const key = libraryKey(v);
        for (const stored of [v.expected.text, Buffer.from(v.expected.binary, 'hex')]) {
          const out = decryptValue(key, placeOf(v), stored);
          if (v.plaintext.type === 'hex')
            expect(Buffer.from(out as Uint8Array).toString('hex')).toBe(v.plaintext.value);
          else expect(out).toBe(v.plaintext.value);
        }
      },
    );

    it.each(negatives.map((v) => [v.description, v] as const))(
      'decryptValue throws DecryptionError with the expected code: %s',
      (_d, v) => {
        const key = libraryKey(v);
        let error: unknown;
        try {
          decryptValue(key, placeOf(v), storedOf(v));
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(DecryptionError);
        expect((error as DecryptionError).code).toBe(v.expectedError);
      },
    );
  });
});
