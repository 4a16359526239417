/**
 * Writes test-vectors/v1.json and v2.json: known-answer cases of value formats v1 and v2
 * (docs/format.md).
 *
 *   pnpm vectors        (in packages/core; runs `tsx test-vectors/generate.ts`)
 *
 * Everything is deterministic (fixed data keys and IVs), so running it again gives the same
 * file; test/test-vectors.test.ts checks the file against `buildVectors()` and against an
 * independent implementation written from the spec.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  buildAad,
  type DerivedDataKey,
  deriveDataKey,
  deriveRowKey,
  encryptValue,
  FLAG_BINARY,
  FLAG_ROW_BOUND,
  FLAG_SCOPED,
  type ValuePlace,
} from '../src/index.js';

/** Plaintext of a vector: UTF-8 text, or bytes in hex. */
export type VectorPlaintext =
  | { readonly type: 'utf8'; readonly value: string }
  | { readonly type: 'hex'; readonly value: string };

/** A value that must decrypt to `plaintext`, and that an encryptor with the same IV must produce. */
export interface PositiveVector {
  readonly description: string;
  readonly dataKey: string;
  /** v2 only: the row salt from the data-key column (hex). */
  readonly salt?: string;
  readonly iv: string;
  readonly table: string;
  readonly column: string;
  /** Present only for row-bound values; bound as its decimal/text form (`String(rowId)`). */
  readonly rowId?: string | number;
  /** v2 only, present only for values scoped to a tenant (flag 0x04): bound as UTF-8. */
  readonly tenant?: string;
  readonly plaintext: VectorPlaintext;
  readonly flags: number;
  readonly aad: string;
  readonly encryptionKey: string;
  readonly commitment: string;
  readonly expected: { readonly text: string; readonly binary: string };
}

/** A stored value that must be refused with `expectedError` when read at this place with this key. */
export interface NegativeVector {
  readonly description: string;
  readonly dataKey: string;
  /** v2 only: the reader's row salt (hex). */
  readonly salt?: string;
  readonly table: string;
  readonly column: string;
  readonly rowId?: string | number;
  /** The reader's tenant, when it reads a tenant-scoped row. */
  readonly tenant?: string;
  /** The stored value, in text form, or in binary form as hex. */
  readonly stored: { readonly text: string } | { readonly binary: string };
  readonly expectedError:
    | 'malformed-value'
    | 'unsupported-version'
    | 'wrong-data-key'
    | 'authentication-failed';
}

export type Vector = PositiveVector | NegativeVector;

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const seq = (start: number, length: number) => Uint8Array.from({ length }, (_, i) => (start + i) & 0xff);

const KEY_A = seq(0x00, 32);
const KEY_B = seq(0x80, 32);
const SALT_A = seq(0x40, 16);
const SALT_B = seq(0x50, 16);
/** The row salt of each data key in v2 vectors (v1 has none). */
const saltOf = (dataKey: Uint8Array) => (dataKey === KEY_A ? SALT_A : SALT_B);

let version: 1 | 2 = 1;
const keyFor = (dataKey: Uint8Array, salt = saltOf(dataKey)): DerivedDataKey =>
  version === 1 ? deriveDataKey(Uint8Array.from(dataKey)) : deriveRowKey(Uint8Array.from(dataKey), salt);
const saltField = (dataKey: Uint8Array, salt = saltOf(dataKey)) => (version === 1 ? {} : { salt: hex(salt) });

function positive(
  description: string,
  dataKey: Uint8Array,
  iv: Uint8Array,
  place: ValuePlace,
  plaintext: string | Uint8Array,
): PositiveVector {
  const key = keyFor(dataKey);
  const binary = typeof plaintext !== 'string';
  const flags =
    (binary ? FLAG_BINARY : 0) |
    (place.rowId === undefined ? 0 : FLAG_ROW_BOUND) |
    (place.tenant === undefined ? 0 : FLAG_SCOPED);
  const text = encryptValue(key, place, plaintext, { iv, output: 'text' }) as string;
  const bytes = encryptValue(key, place, plaintext, { iv, output: 'binary' }) as Uint8Array;
  return {
    description,
    dataKey: hex(dataKey),
    ...saltField(dataKey),
    iv: hex(iv),
    table: place.table,
    column: place.column,
    ...(place.rowId === undefined ? {} : { rowId: place.rowId as string | number }),
    ...(place.tenant === undefined ? {} : { tenant: place.tenant }),
    plaintext: binary ? { type: 'hex', value: hex(plaintext) } : { type: 'utf8', value: plaintext },
    flags,
    aad: hex(buildAad(place, flags, version)),
    encryptionKey: hex(key.encryptionKey),
    commitment: hex(key.commitment),
    expected: { text, binary: hex(bytes) },
  };
}

function negative(
  description: string,
  dataKey: Uint8Array,
  place: ValuePlace,
  stored: { text: string } | { binary: string },
  expectedError: NegativeVector['expectedError'],
  salt = saltOf(dataKey),
): NegativeVector {
  return {
    description,
    dataKey: hex(dataKey),
    ...saltField(dataKey, salt),
    table: place.table,
    column: place.column,
    ...(place.rowId === undefined ? {} : { rowId: place.rowId as string | number }),
    ...(place.tenant === undefined ? {} : { tenant: place.tenant }),
    stored,
    expectedError,
  };
}

function flipByte(hexText: string, at: number, mask = 0x01): string {
  const bytes = Buffer.from(hexText, 'hex');
  const index = at < 0 ? bytes.length + at : at;
  bytes[index] = (bytes[index] as number) ^ mask;
  return bytes.toString('hex');
}

/** Every vector of one format version, in file order. */
export function buildVectors(formatVersion: 1 | 2 = 1): Vector[] {
  version = formatVersion;
  const prefix = `fs${version}:`;
  const c = version === 1 ? 16 : 32; // commitment bytes
  const minBody = 1 + c + 12 + 16;
  const user: ValuePlace = { table: 'User', column: 'email' };
  const email = positive('16-byte ASCII email', KEY_A, seq(0xa0, 12), user, 'bob@example.org!');
  const empty = positive('empty string (encrypted, not stored as is)', KEY_A, seq(0xb0, 12), user, '');
  const unicode = positive(
    'Unicode: accents, CJK, astral-plane emoji and a ZWJ sequence',
    KEY_A,
    seq(0xc0, 12),
    { table: 'Profile', column: 'displayName' },
    'Zoë 東京 😀 👩‍👩‍👧',
  );
  const binary = positive(
    'binary: every byte value 0x00-0xff',
    KEY_A,
    seq(0xd0, 12),
    { table: 'File', column: 'blob' },
    seq(0, 256),
  );
  const emptyBinary = positive(
    'binary: empty',
    KEY_A,
    seq(0xd8, 12),
    { table: 'File', column: 'blob' },
    new Uint8Array(0),
  );
  const rowBound = positive(
    'row-bound, numeric row id 42',
    KEY_A,
    seq(0xe0, 12),
    { ...user, rowId: 42 },
    'alice@example.com',
  );
  const rowBoundUuid = positive(
    'row-bound binary, UUID row id',
    KEY_B,
    seq(0xf0, 12),
    { table: 'Doc', column: 'body', rowId: '0b5f6c4e-6c1e-4f7a-9d1a-6a4e1c2b3d4f' },
    Uint8Array.of(0xde, 0xad, 0xbe, 0xef),
  );
  const longer = positive(
    '1 KiB of text',
    KEY_B,
    seq(0x10, 12),
    { table: 'Note', column: 'text' },
    'fieldseal '.repeat(102).slice(0, 1024),
  );
  const nonAscii = positive(
    'table and column names with non-ASCII characters',
    KEY_B,
    seq(0x20, 12),
    { table: 'Café', column: 'numéro' },
    '+33 1 23 45 67 89',
  );

  const text = email.expected.text;
  const body = text.slice(4);
  const bin = email.expected.binary;
  const bodyLength = Buffer.from(body, 'base64url').length; // 61: 61 % 3 = 1, so the last character has 4 unused bits
  const lastIndex = body.length - 1;
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const lastValue = alphabet.indexOf(body[lastIndex] as string);
  const unusedBits = bodyLength % 3 === 1 ? 4 : 2;
  const nonCanonical = `${prefix}${body.slice(0, lastIndex)}${alphabet[lastValue | ((1 << unusedBits) - 1)]}`;

  return [
    email,
    empty,
    unicode,
    binary,
    emptyBinary,
    rowBound,
    rowBoundUuid,
    longer,
    nonAscii,
    negative('value paired with another data key (key commitment)', KEY_B, user, { text }, 'wrong-data-key'),
    negative(
      'value moved to another column',
      KEY_A,
      { table: 'User', column: 'phone' },
      { text },
      'authentication-failed',
    ),
    negative(
      'value moved to another table',
      KEY_A,
      { table: 'Admin', column: 'email' },
      { text },
      'authentication-failed',
    ),
    negative(
      'row-bound value read in another row',
      KEY_A,
      { ...user, rowId: 43 },
      { text: rowBound.expected.text },
      'authentication-failed',
    ),
    negative(
      'row-bound value read without a row id',
      KEY_A,
      user,
      { text: rowBound.expected.text },
      'authentication-failed',
    ),
    negative('last tag byte altered', KEY_A, user, { binary: flipByte(bin, -1) }, 'authentication-failed'),
    negative(
      'first ciphertext byte altered',
      KEY_A,
      user,
      { binary: flipByte(bin, 4 + 1 + c + 12) },
      'authentication-failed',
    ),
    negative(
      'first IV byte altered',
      KEY_A,
      user,
      { binary: flipByte(bin, 4 + 1 + c) },
      'authentication-failed',
    ),
    negative('commitment byte altered', KEY_A, user, { binary: flipByte(bin, 4 + 1) }, 'wrong-data-key'),
    negative(
      'binary flag set on a text value',
      KEY_A,
      user,
      { binary: flipByte(bin, 4, FLAG_BINARY) },
      'authentication-failed',
    ),
    // 0x04 (scoped) is known in v2, so v2's first unknown bit is 0x08.
    negative(
      `unknown flag bit 0x0${version === 1 ? 4 : 8}`,
      KEY_A,
      user,
      { binary: flipByte(bin, 4, version === 1 ? 0x04 : 0x08) },
      'malformed-value',
    ),
    negative(
      `truncated to a ${minBody - 1}-byte body (one byte short of the minimum)`,
      KEY_A,
      user,
      { binary: bin.slice(0, (4 + minBody - 1) * 2) },
      'malformed-value',
    ),
    negative(
      'truncated by one byte (tag shortened)',
      KEY_A,
      user,
      { binary: bin.slice(0, -2) },
      'authentication-failed',
    ),
    negative('one byte appended', KEY_A, user, { binary: `${bin}00` }, 'authentication-failed'),
    negative(
      'invalid base64url character',
      KEY_A,
      user,
      { text: `${text.slice(0, 10)}*${text.slice(11)}` },
      'malformed-value',
    ),
    negative(
      'standard base64 "+" instead of base64url',
      KEY_A,
      user,
      { text: `${text.slice(0, 10)}+${text.slice(11)}` },
      'malformed-value',
    ),
    negative('padding "=" appended', KEY_A, user, { text: `${text}=` }, 'malformed-value'),
    negative(
      'non-canonical base64url: unused bits of the last character set',
      KEY_A,
      user,
      { text: nonCanonical },
      'malformed-value',
    ),
    negative('unknown format version fs3:', KEY_A, user, { text: `fs3:${body}` }, 'unsupported-version'),
    negative(
      'unknown format version fs10: in binary form',
      KEY_A,
      user,
      { binary: Buffer.concat([Buffer.from('fs10:'), Buffer.from(bin, 'hex').subarray(4)]).toString('hex') },
      'unsupported-version',
    ),
    negative('no prefix', KEY_A, user, { text: body }, 'malformed-value'),
    ...(version === 2 ? scopedVectors(user, text) : []),
    ...(version === 2
      ? [
          negative(
            'value moved to another row that shares its data key (another row salt)',
            KEY_A,
            user,
            { text },
            'wrong-data-key',
            SALT_B,
          ),
        ]
      : []),
  ];
}

/** v2 values scoped to a tenant (flag 0x04, docs/tenants.md), and the moves that must fail. */
function scopedVectors(user: ValuePlace, unscopedText: string): Vector[] {
  const acme = positive(
    'scoped to tenant "acme"',
    KEY_A,
    seq(0x30, 12),
    { ...user, tenant: 'acme' },
    'carol@acme.example',
  );
  const both = positive(
    'scoped to tenant "globex" and row-bound to row 7',
    KEY_B,
    seq(0x38, 12),
    { ...user, rowId: 7, tenant: 'globex' },
    'dave@globex.example',
  );
  const binary = positive(
    'binary, scoped to a non-ASCII tenant id',
    KEY_B,
    seq(0x48, 12),
    { table: 'File', column: 'blob', tenant: 'société-7' },
    Uint8Array.of(1, 2, 3),
  );
  const text = { text: acme.expected.text };
  return [
    acme,
    both,
    binary,
    negative(
      'scoped value read for another tenant',
      KEY_A,
      { ...user, tenant: 'globex' },
      text,
      'authentication-failed',
    ),
    negative('scoped value read without a tenant', KEY_A, user, text, 'authentication-failed'),
    negative(
      'unscoped value read in a tenant-scoped row',
      KEY_A,
      { ...user, tenant: 'acme' },
      { text: unscopedText },
      'authentication-failed',
    ),
    negative(
      'scoped and row-bound value read in another row of the same tenant',
      KEY_B,
      { ...user, rowId: 8, tenant: 'globex' },
      { text: both.expected.text },
      'authentication-failed',
    ),
  ];
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const formatVersion of [1, 2] as const) {
    const path = fileURLToPath(new URL(`./v${formatVersion}.json`, import.meta.url));
    writeFileSync(path, `${JSON.stringify(buildVectors(formatVersion), null, 2)}\n`);
    console.log(`wrote ${path}`);
  }
}
