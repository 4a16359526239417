/**
 * Tampering with stored rows, through core's RowEnvelope (LocalKeyring, and AwsKmsKeyring over
 * the real SDK and kms-local): every single-bit flip of a value and of the row's data-key column,
 * values moved between columns, tables and rows, swapped data keys, truncations, foreign master
 * keys and unknown versions. Each must end in a typed error with a known code — never in
 * plaintext other than the original. The counts are the figures in docs/reliability.md.
 */

import { CreateKeyCommand } from '@aws-sdk/client-kms';
import { AwsKmsKeyring } from '@fieldseal/aws-kms';
import { CachingKeyring } from '@fieldseal/cache';
import {
  DecryptionError,
  FieldsealError,
  KEY_IDENTITY_LENGTH,
  type Keyring,
  KeyringError,
  LocalKeyring,
  RowEnvelope,
  wrappedPartOf,
} from '@fieldseal/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KmsRig, startKms } from './support/kms.js';

const EMAIL = 'tamper-target@secret.example';
const SSN = '078-05-1120';
const PHOTO = Uint8Array.from({ length: 64 }, (_, i) => (i * 37) % 256);

const DECRYPTION_CODES = new Set([
  'malformed-value',
  'unsupported-version',
  'wrong-data-key',
  'authentication-failed',
  'missing-data-key',
  'malformed-data-key',
  // Strict mode refuses a value cut so short it no longer looks like ciphertext.
  'plaintext-in-strict-mode',
]);
const KEYRING_CODES = new Set([
  'unknown-master-key',
  'unwrap-failed',
  'malformed-encrypted-key',
  'invalid-ciphertext',
  'key-not-found',
]);

type Stored = { values: Record<string, string | Uint8Array | null | undefined>; dataKey: string };

/** Rejected: the typed error; accepted: the plaintext returned. */
async function attempt(
  envelope: RowEnvelope,
  table: string,
  row: { values: Record<string, unknown>; dataKey: unknown; rowId?: number },
): Promise<{ error: FieldsealError } | { plain: Record<string, unknown> }> {
  try {
    return { plain: await envelope.decryptRow({ table, ...row }) };
  } catch (error) {
    if (!(error instanceof FieldsealError)) throw error; // anything untyped fails the test
    return { error };
  }
}

/** Asserts a typed rejection with one of the known codes; returns the code. */
function expectRejected(outcome: Awaited<ReturnType<typeof attempt>>, what: string): string {
  if (!('error' in outcome)) throw new Error(`${what}: tampered row was accepted`);
  const { error } = outcome;
  const known =
    (error instanceof DecryptionError && DECRYPTION_CODES.has(error.code)) ||
    (error instanceof KeyringError && KEYRING_CODES.has(error.code));
  expect(known, `${what}: ${error.name} ${error.code}`).toBe(true);
  return `${error.name}:${error.code}`;
}

function flipTextBody(text: string, prefix: string, byte: number, bit: number): string {
  const body = Buffer.from(text.slice(prefix.length), 'base64url');
  body[byte] = (body[byte] as number) ^ (1 << bit);
  return prefix + body.toString('base64url');
}

function tally(codes: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const code of codes) out[code] = (out[code] ?? 0) + 1;
  return out;
}

/** Figures gathered by this file, printed once at the end for docs/reliability.md. */
const figures: Record<string, unknown> = {};
afterAll(() => {
  console.info(`[reliability figures] tamper-core ${JSON.stringify(figures)}`);
});

describe('tampering through core (LocalKeyring)', () => {
  const keyring = LocalKeyring.fromString(LocalKeyring.generateKeyText('tamper'));
  const envelope = new RowEnvelope({ keyring });
  let row: Stored;
  beforeAll(async () => {
    row = await envelope.encryptRow({
      table: 'customer',
      values: { email: EMAIL, ssn: SSN, photo: PHOTO },
    });
  });

  it('the untampered row decrypts (control)', async () => {
    const plain = await envelope.decryptRow({ table: 'customer', ...row });
    expect(plain).toEqual({ email: EMAIL, ssn: SSN, photo: PHOTO });
  });

  it('every single-bit flip of a text value is rejected with a typed error', async () => {
    const email = row.values.email as string;
    const bytes = Buffer.from(email.slice(4), 'base64url').length;
    const codes: string[] = [];
    for (let byte = 0; byte < bytes; byte++) {
      for (let bit = 0; bit < 8; bit++) {
        const values = { ...row.values, email: flipTextBody(email, 'fs2:', byte, bit) };
        codes.push(
          expectRejected(
            await attempt(envelope, 'customer', { values, dataKey: row.dataKey }),
            `email byte ${byte} bit ${bit}`,
          ),
        );
      }
    }
    expect(codes.length).toBe(bytes * 8);
    figures.textValueBitFlips = { cases: codes.length, codes: tally(codes) };
  });

  it('every single-bit flip of a binary value (prefix included) is rejected with a typed error', async () => {
    const photo = row.values.photo as Uint8Array;
    const codes: string[] = [];
    for (let byte = 0; byte < photo.length; byte++) {
      for (let bit = 0; bit < 8; bit++) {
        const flipped = Uint8Array.from(photo);
        flipped[byte] = (flipped[byte] as number) ^ (1 << bit);
        const outcome = await attempt(envelope, 'customer', {
          values: { photo: flipped },
          dataKey: row.dataKey,
        });
        if ('plain' in outcome) {
          // A flip in the prefix can turn the value into "not ciphertext": strict mode must refuse it then.
          throw new Error(`photo byte ${byte} bit ${bit} accepted`);
        }
        const { error } = outcome;
        expect(error instanceof DecryptionError || error instanceof KeyringError).toBe(true);
        codes.push(`${error.name}:${error.code}`);
      }
    }
    expect(codes.length).toBe(photo.length * 8);
    figures.binaryValueBitFlips = { cases: codes.length, codes: tally(codes) };
  });

  it("every single-bit flip of the row's data-key column is rejected with a typed error", async () => {
    const bytes = Buffer.from(row.dataKey.slice(KEY_IDENTITY_LENGTH), 'base64url').length;
    const codes: string[] = [];
    // The row salt (format v2): any flip gives another row key, so every value is wrong-data-key.
    for (let byte = 0; byte < 16; byte++) {
      const salt = Buffer.from(row.dataKey.slice(5, KEY_IDENTITY_LENGTH - 1), 'base64url');
      salt[byte] = (salt[byte] as number) ^ 1;
      const dataKey = `fsk2:${salt.toString('base64url')}.${row.dataKey.slice(KEY_IDENTITY_LENGTH)}`;
      expect(
        expectRejected(
          await attempt(envelope, 'customer', { values: row.values, dataKey }),
          `salt byte ${byte}`,
        ),
      ).toBe('DecryptionError:wrong-data-key');
    }
    for (let byte = 0; byte < bytes; byte++) {
      for (let bit = 0; bit < 8; bit++) {
        const dataKey = flipTextBody(row.dataKey, row.dataKey.slice(0, KEY_IDENTITY_LENGTH), byte, bit);
        codes.push(
          expectRejected(
            await attempt(envelope, 'customer', { values: row.values, dataKey }),
            `data key byte ${byte} bit ${bit}`,
          ),
        );
      }
    }
    expect(codes.length).toBe(bytes * 8);
    figures.dataKeyBitFlips = { cases: codes.length, codes: tally(codes) };
  });

  it('every truncation of a value (text and binary) and of the data-key column is rejected', async () => {
    const email = row.values.email as string;
    const photo = row.values.photo as Uint8Array;
    const codes: string[] = [];
    for (let length = 0; length < email.length; length++) {
      codes.push(
        expectRejected(
          await attempt(envelope, 'customer', {
            values: { email: email.slice(0, length) || 'fs2:' },
            dataKey: row.dataKey,
          }),
          `email cut at ${length}`,
        ),
      );
    }
    for (let length = 4; length < photo.length; length++) {
      codes.push(
        expectRejected(
          await attempt(envelope, 'customer', {
            values: { photo: photo.subarray(0, length) },
            dataKey: row.dataKey,
          }),
          `photo cut at ${length}`,
        ),
      );
    }
    for (let length = 0; length < row.dataKey.length; length++) {
      codes.push(
        expectRejected(
          await attempt(envelope, 'customer', { values: { email }, dataKey: row.dataKey.slice(0, length) }),
          `data key cut at ${length}`,
        ),
      );
    }
    figures.truncations = { cases: codes.length, codes: tally(codes) };
  });

  it('a value copied to another column of the same row fails authentication', async () => {
    const outcome = await attempt(envelope, 'customer', {
      values: { ssn: row.values.email },
      dataKey: row.dataKey,
    });
    expect(expectRejected(outcome, 'email→ssn')).toBe('DecryptionError:authentication-failed');
  });

  it('a value copied to another table fails: with the row key (authentication), with its own key (context-bound unwrap)', async () => {
    const note = await envelope.encryptRow({ table: 'note', values: { body: 'a note' } });
    // Same data key would be needed to even try: copy value and data key together.
    const both = await attempt(envelope, 'note', {
      values: { body: row.values.email },
      dataKey: row.dataKey,
    });
    expect(expectRejected(both, 'customer value+key → note')).toBe('KeyringError:unwrap-failed');
    const valueOnly = await attempt(envelope, 'note', {
      values: { body: row.values.email },
      dataKey: note.dataKey,
    });
    expect(expectRejected(valueOnly, 'customer value → note row')).toBe('DecryptionError:wrong-data-key');
  });

  it('values copied to another row under the same (cached) data key fail: row-bound or not, each row has its own key (format v2)', async () => {
    // A cache makes rows share one data key: the case row binding exists for.
    const cache = new CachingKeyring(keyring);
    const shared = new RowEnvelope({ keyring: cache });
    const a = await shared.encryptRow({ table: 'customer', rowId: 1, values: { email: 'a@x.example' } });
    const b = await shared.encryptRow({ table: 'customer', rowId: 2, values: { email: 'b@x.example' } });
    expect(wrappedPartOf(a.dataKey)).toBe(wrappedPartOf(b.dataKey)); // one data key, two row salts
    const moved = await attempt(shared, 'customer', {
      values: { email: a.values.email },
      dataKey: b.dataKey,
      rowId: 2,
    });
    expect(expectRejected(moved, 'row 1 → row 2')).toBe('DecryptionError:wrong-data-key');
    // Format v2: an unbound value is bound to its row too, through the row salt.
    const c = await shared.encryptRow({ table: 'customer', values: { email: 'c@x.example' } });
    const d = await shared.encryptRow({ table: 'customer', values: { email: 'd@x.example' } });
    expect(wrappedPartOf(c.dataKey)).toBe(wrappedPartOf(d.dataKey));
    const swapped = await attempt(shared, 'customer', {
      values: { email: c.values.email },
      dataKey: d.dataKey,
    });
    expect(expectRejected(swapped, 'unbound value, row c → row d')).toBe('DecryptionError:wrong-data-key');
    const noId = await attempt(shared, 'customer', { values: { email: a.values.email }, dataKey: a.dataKey });
    expect(expectRejected(noId, 'row-bound value read without a row id')).toBe(
      'DecryptionError:authentication-failed',
    );
    cache.close();
  });

  it('data-key columns swapped between two rows: both rows are rejected (wrong-data-key)', async () => {
    const other = await envelope.encryptRow({
      table: 'customer',
      values: { email: 'other@x.example', ssn: 'other' },
    });
    const first = await attempt(envelope, 'customer', { values: row.values, dataKey: other.dataKey });
    const second = await attempt(envelope, 'customer', { values: other.values, dataKey: row.dataKey });
    expect(expectRejected(first, 'swap 1')).toBe('DecryptionError:wrong-data-key');
    expect(expectRejected(second, 'swap 2')).toBe('DecryptionError:wrong-data-key');
  });

  it('a row under a master key the keyring does not hold: unknown-master-key; same id, other bytes: unwrap-failed', async () => {
    const foreign = new RowEnvelope({
      keyring: LocalKeyring.fromString(LocalKeyring.generateKeyText('someone-else')),
    });
    const impostor = new RowEnvelope({
      keyring: LocalKeyring.fromString(LocalKeyring.generateKeyText('tamper')),
    });
    expect(expectRejected(await attempt(foreign, 'customer', row), 'foreign keyring')).toBe(
      'KeyringError:unknown-master-key',
    );
    expect(expectRejected(await attempt(impostor, 'customer', row), 'same key id')).toBe(
      'KeyringError:unwrap-failed',
    );
  });

  it('unknown format versions and flags are refused, never read as plaintext', async () => {
    const email = row.values.email as string;
    const cases: Array<[string, Record<string, unknown>, unknown, string]> = [
      ['fs3 value', { email: `fs3:${email.slice(4)}` }, row.dataKey, 'DecryptionError:unsupported-version'],
      ['fs10 value', { email: `fs10:${email.slice(4)}` }, row.dataKey, 'DecryptionError:unsupported-version'],
      [
        'unknown flag bit',
        { email: flipTextBody(email, 'fs2:', 0, 3) },
        row.dataKey,
        'DecryptionError:malformed-value',
      ],
      ['fsk3 data key', { email }, `fsk3:${row.dataKey.slice(5)}`, 'DecryptionError:malformed-data-key'],
      [
        'binary fs3',
        {
          photo: Buffer.concat([
            Buffer.from('fs3:'),
            Buffer.from(row.values.photo as Uint8Array).subarray(4),
          ]),
        },
        row.dataKey,
        'DecryptionError:unsupported-version',
      ],
    ];
    for (const [what, values, dataKey, expected] of cases) {
      expect(expectRejected(await attempt(envelope, 'customer', { values, dataKey }), what)).toBe(expected);
    }
  });
});

describe('tampering through core with AwsKmsKeyring (real SDK, kms-local)', () => {
  let kms: KmsRig;
  let envelope: RowEnvelope;
  let row: Stored;
  beforeAll(async () => {
    kms = await startKms({ maxAttempts: 1 });
    envelope = new RowEnvelope({ keyring: kms.keyring });
    row = await envelope.encryptRow({ table: 'customer', values: { email: EMAIL, ssn: SSN } });
  });
  afterAll(async () => kms?.close());

  it('every single-bit flip inside the KMS-wrapped data key is rejected by KMS with a typed error', async () => {
    const body = Buffer.from(row.dataKey.slice(KEY_IDENTITY_LENGTH), 'base64url');
    const idLength = body.readUInt16BE(0);
    const start = 2 + idLength; // the CiphertextBlob; before it, the key-id label and its length
    const codes: string[] = [];
    for (let byte = start; byte < body.length; byte++) {
      for (const bit of [0, 7]) {
        const dataKey = flipTextBody(row.dataKey, row.dataKey.slice(0, KEY_IDENTITY_LENGTH), byte, bit);
        codes.push(
          expectRejected(
            await attempt(envelope, 'customer', { values: row.values, dataKey }),
            `blob byte ${byte} bit ${bit}`,
          ),
        );
      }
    }
    expect(codes.length).toBe((body.length - start) * 2);
    figures.kmsBlobBitFlips = { cases: codes.length, codes: tally(codes) };
  });

  it('flips in the readable key-id label are either rejected or leave the exact plaintext (the label is not authenticated for KMS keys)', async () => {
    const body = Buffer.from(row.dataKey.slice(KEY_IDENTITY_LENGTH), 'base64url');
    const idLength = body.readUInt16BE(0);
    let rejected = 0;
    let exact = 0;
    for (let byte = 0; byte < 2 + idLength; byte++) {
      const outcome = await attempt(envelope, 'customer', {
        values: row.values,
        dataKey: flipTextBody(row.dataKey, row.dataKey.slice(0, KEY_IDENTITY_LENGTH), byte, 0),
      });
      if ('error' in outcome) {
        expectRejected(outcome, `label byte ${byte}`);
        rejected++;
      } else {
        expect(outcome.plain).toEqual({ email: EMAIL, ssn: SSN }); // never different plaintext
        exact++;
      }
    }
    figures.kmsLabelFlips = { cases: 2 + idLength, rejected, exactPlaintext: exact };
    expect(rejected + exact).toBe(2 + idLength);
  });

  it('a row wrapped under another KMS key this keyring may not use: unknown-master-key', async () => {
    const { KeyMetadata } = await kms.client.send(new CreateKeyCommand({}));
    const other = new RowEnvelope({
      keyring: new AwsKmsKeyring({ keyId: KeyMetadata?.Arn as string, client: kms.client }),
    });
    const foreign = await other.encryptRow({ table: 'customer', values: { email: EMAIL } });
    const outcome = await attempt(envelope, 'customer', foreign);
    expect(expectRejected(outcome, 'other KMS key')).toBe('KeyringError:unknown-master-key');
    // The same row read under the wrong table's context: KMS refuses the blob.
    const moved = await attempt(envelope, 'note', { values: {}, dataKey: row.dataKey });
    expect('plain' in moved).toBe(true); // nothing encrypted to read: no unwrap needed
    const movedWithValue = await attempt(envelope, 'note', {
      values: { body: row.values.email },
      dataKey: row.dataKey,
    });
    expect(expectRejected(movedWithValue, 'KMS key moved to another table')).toBe(
      'KeyringError:invalid-ciphertext',
    );
  });

  it('keyrings are interchangeable only with their own rows: a LocalKeyring cannot read a KMS row', async () => {
    const local: Keyring = LocalKeyring.fromString(LocalKeyring.generateKeyText('local'));
    const outcome = await attempt(new RowEnvelope({ keyring: local }), 'customer', row);
    expectRejected(outcome, 'KMS row via LocalKeyring');
  });
});
