import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  DecryptionError,
  EncryptionError,
  FieldsealError,
  formatDataKey,
  type Keyring,
  KeyringError,
  parseDataKey,
  parseValue,
  RowEnvelope,
} from '../src/index.js';
import {
  BASE64URL_ALPHABET,
  CountingKeyring,
  expectRejects,
  expectThrows,
  randomKeyring,
  rejectionOf,
  textBitFlips,
} from './helpers.js';

const keyring = randomKeyring('k1');
const envelope = new RowEnvelope({ keyring });

describe('encryptRow / decryptRow', () => {
  it('round-trips every column of a row: strings, empty strings, bytes', async () => {
    const values = { email: 'alice@example.com', note: '', avatar: Uint8Array.of(0, 255, 7) };
    const row = await envelope.encryptRow({ table: 'User', values });
    expect(await envelope.decryptRow({ table: 'User', values: row.values, dataKey: row.dataKey })).toEqual(
      values,
    );
  });

  it('null and undefined pass through unencrypted, and absent columns stay absent', async () => {
    const row = await envelope.encryptRow({
      table: 'User',
      values: { email: 'a@b.c', phone: null, fax: undefined },
    });
    expect(row.values.phone).toBeNull();
    expect(row.values.fax).toBeUndefined();
    expect('fax' in row.values).toBe(true);
    expect(Object.keys(row.values)).toEqual(['email', 'phone', 'fax']);
    const back = await envelope.decryptRow({ table: 'User', values: row.values, dataKey: row.dataKey });
    expect(back).toEqual({ email: 'a@b.c', phone: null, fax: undefined });
    expect(Object.keys(back)).toEqual(['email', 'phone', 'fax']);
  });

  it('a row whose values are all null still gets a data key (later writes reuse it)', async () => {
    const counting = new CountingKeyring(keyring);
    const row = await new RowEnvelope({ keyring: counting }).encryptRow({
      table: 'User',
      values: { email: null },
    });
    expect(row.dataKey.startsWith('fsk2:')).toBe(true);
    expect(counting.hints).toEqual([{ plaintextBytes: 0, encryptions: 1 }]);
  });

  it('all values of one row are encrypted under one data key (one commitment), each row under its own', async () => {
    const a = await envelope.encryptRow({
      table: 'User',
      values: { email: 'a', name: 'b', blob: Uint8Array.of(1) },
    });
    const b = await envelope.encryptRow({ table: 'User', values: { email: 'a' } });
    const commitments = Object.values(a.values).map((v) =>
      parseValue(v as string).commitment.toString('hex'),
    );
    expect(new Set(commitments).size).toBe(1);
    expect(parseValue(b.values.email as string).commitment.toString('hex')).not.toBe(commitments[0]);
    expect(a.dataKey).not.toBe(b.dataKey);
  });

  it('asks the keyring for one data key per row, hinting the plaintext bytes and value count', async () => {
    const counting = new CountingKeyring(keyring);
    await new RowEnvelope({ keyring: counting }).encryptRow({
      table: 'User',
      values: { email: 'héllo', blob: new Uint8Array(10), none: null },
    });
    expect(counting.generated).toBe(1);
    expect(counting.hints).toEqual([{ plaintextBytes: 6 + 10, encryptions: 2 }]);
  });

  it('the output option picks text or binary per column', async () => {
    const row = await envelope.encryptRow({
      table: 'User',
      values: { a: 'text', b: 'text', c: Uint8Array.of(1), d: Uint8Array.of(1) },
      output: { b: 'binary', d: 'text' },
    });
    expect(typeof row.values.a).toBe('string');
    expect(row.values.b).toBeInstanceOf(Uint8Array);
    expect(row.values.c).toBeInstanceOf(Uint8Array);
    expect(typeof row.values.d).toBe('string');
    expect(await envelope.decryptRow({ table: 'User', values: row.values, dataKey: row.dataKey })).toEqual({
      a: 'text',
      b: 'text',
      c: Uint8Array.of(1),
      d: Uint8Array.of(1),
    });
  });

  it('decryptRow with only some of the columns decrypts just those', async () => {
    const row = await envelope.encryptRow({ table: 'User', values: { email: 'e', name: 'n' } });
    expect(
      await envelope.decryptRow({ table: 'User', values: { name: row.values.name }, dataKey: row.dataKey }),
    ).toEqual({ name: 'n' });
  });

  it('refuses to encrypt a value that is already ciphertext (never encrypt twice)', async () => {
    const row = await envelope.encryptRow({ table: 'User', values: { email: 'e' } });
    await expectRejects(
      envelope.encryptRow({ table: 'User', values: { email: row.values.email } }),
      EncryptionError,
      'already-encrypted',
    );
  });

  // BUG (src/row-envelope.ts encryptRow): the hint is computed before the types are checked, so
  // a number gives `plaintextBytes: NaN` and a key is generated (and a cache use spent) for a row
  // that then fails. Behind CachingKeyring the NaN hint is rejected first, so the caller sees
  // KeyringError('not-allowed', 'Data-key hint must hold…') instead of unsupported-type.
  it('refuses an unsupported value type with unsupported-type before asking the keyring for a key', async () => {
    const counting = new CountingKeyring(keyring);
    const error = await rejectionOf(
      new RowEnvelope({ keyring: counting }).encryptRow({
        table: 'User',
        values: { age: 42 as unknown as string },
      }),
    );
    expect(error).toBeInstanceOf(EncryptionError);
    expect((error as EncryptionError).code).toBe('unsupported-type');
    expect(counting.generated).toBe(0);
  });
});

describe('data keys are bound to their row and table', () => {
  it("a value paired with another row's data key fails with wrong-data-key, naming table, column and row", async () => {
    const a = await envelope.encryptRow({ table: 'User', values: { email: 'alice@example.com' } });
    const b = await envelope.encryptRow({ table: 'User', values: { email: 'bob@example.com' } });
    const error = await expectRejects(
      envelope.decryptRow({ table: 'User', values: { email: a.values.email }, dataKey: b.dataKey, rowId: 2 }),
      DecryptionError,
      'wrong-data-key',
    );
    expect(error.location).toEqual({ table: 'User', column: 'email', rowId: 2 });
    expect(error.message).toContain('table "User", column "email", row 2');
  });

  it("a row's data key moved to another table fails to unwrap (the table is in the encryption context)", async () => {
    const row = await envelope.encryptRow({ table: 'User', values: { email: 'e' } });
    const error = await expectRejects(
      envelope.decryptRow({ table: 'Admin', values: { email: row.values.email }, dataKey: row.dataKey }),
      KeyringError,
      'unwrap-failed',
    );
    expect(error.location).toEqual({ table: 'Admin' });
  });

  it('a value moved to another column of the same row fails with authentication-failed', async () => {
    const row = await envelope.encryptRow({ table: 'User', values: { email: 'e', phone: 'p' } });
    await expectRejects(
      envelope.decryptRow({ table: 'User', values: { email: row.values.phone }, dataKey: row.dataKey }),
      DecryptionError,
      'authentication-failed',
    );
  });

  it('the encryptionContext option is bound too: another context cannot unwrap the row key', async () => {
    const billing = new RowEnvelope({ keyring, encryptionContext: { app: 'billing' } });
    const other = new RowEnvelope({ keyring, encryptionContext: { app: 'crm' } });
    const row = await billing.encryptRow({ table: 'User', values: { email: 'e' } });
    expect(await billing.decryptRow({ table: 'User', values: row.values, dataKey: row.dataKey })).toEqual({
      email: 'e',
    });
    await expectRejects(
      other.decryptRow({ table: 'User', values: row.values, dataKey: row.dataKey }),
      KeyringError,
      'unwrap-failed',
    );
    await expectRejects(
      envelope.decryptRow({ table: 'User', values: row.values, dataKey: row.dataKey }),
      KeyringError,
      'unwrap-failed',
    );
  });

  it('contextFor adds fieldseal:table to the configured pairs and returns one frozen object per table', () => {
    const e = new RowEnvelope({ keyring, encryptionContext: { app: 'x' } });
    const context = e.contextFor('User');
    expect(context).toEqual({ app: 'x', 'fieldseal:table': 'User' });
    expect(Object.isFrozen(context)).toBe(true);
    expect(e.contextFor('User')).toBe(context);
  });
});

describe('row-bound rows', () => {
  it('values written with a row id decrypt only with that row id', async () => {
    const row = await envelope.encryptRow({ table: 'User', rowId: 7, values: { email: 'e' } });
    expect(
      await envelope.decryptRow({ table: 'User', rowId: 7, values: row.values, dataKey: row.dataKey }),
    ).toEqual({ email: 'e' });
    await expectRejects(
      envelope.decryptRow({ table: 'User', rowId: 8, values: row.values, dataKey: row.dataKey }),
      DecryptionError,
      'authentication-failed',
    );
    await expectRejects(
      envelope.decryptRow({ table: 'User', values: row.values, dataKey: row.dataKey }),
      DecryptionError,
      'authentication-failed',
    );
  });
});

describe('read modes', () => {
  it('strict (the default) refuses a plaintext value in an encrypted column, naming the place, not the value', async () => {
    expect(envelope.readMode).toBe('strict');
    const error = await expectRejects(
      envelope.decryptRow({
        table: 'User',
        rowId: 3,
        values: { email: 'legacy@example.com' },
        dataKey: null,
      }),
      DecryptionError,
      'plaintext-in-strict-mode',
    );
    expect(error.location).toEqual({ table: 'User', column: 'email', rowId: 3 });
    expect(error.message).not.toContain('legacy@example.com');
  });

  it('tolerant returns legacy plaintext (strings and bytes) as it is and still decrypts ciphertext', async () => {
    const tolerant = new RowEnvelope({ keyring, readMode: 'tolerant' });
    const row = await tolerant.encryptRow({ table: 'User', values: { email: 'new@example.com' } });
    const back = await tolerant.decryptRow({
      table: 'User',
      values: { email: row.values.email, legacy: 'old@example.com', blob: Uint8Array.of(9) },
      dataKey: row.dataKey,
    });
    expect(back).toEqual({ email: 'new@example.com', legacy: 'old@example.com', blob: Uint8Array.of(9) });
  });

  it('a row of only legacy plaintext needs no data key in tolerant mode', async () => {
    expect(
      await envelope.decryptRow({
        table: 'User',
        values: { email: 'old' },
        dataKey: null,
        readMode: 'tolerant',
      }),
    ).toEqual({
      email: 'old',
    });
  });

  it('the per-call readMode overrides the envelope default, both ways', async () => {
    const tolerant = new RowEnvelope({ keyring, readMode: 'tolerant' });
    await expectRejects(
      tolerant.decryptRow({ table: 'User', values: { email: 'old' }, dataKey: null, readMode: 'strict' }),
      DecryptionError,
      'plaintext-in-strict-mode',
    );
  });

  it('tolerant mode still fails on a value that is ciphertext but damaged (it is never returned as plaintext)', async () => {
    const tolerant = new RowEnvelope({ keyring, readMode: 'tolerant' });
    const row = await tolerant.encryptRow({ table: 'User', values: { email: 'e' } });
    const damaged = `${(row.values.email as string).slice(0, -3)}___`;
    await expect(
      tolerant.decryptRow({ table: 'User', values: { email: damaged }, dataKey: row.dataKey }),
    ).rejects.toBeInstanceOf(DecryptionError);
  });

  it('tolerant mode still refuses values that are neither strings nor bytes', async () => {
    await expect(
      envelope.decryptRow({ table: 'User', values: { n: 42 }, dataKey: null, readMode: 'tolerant' }),
    ).rejects.toBeInstanceOf(DecryptionError);
  });

  it('an unknown future version is unsupported-version, not legacy plaintext, even in tolerant mode', async () => {
    const row = await envelope.encryptRow({ table: 'User', values: { email: 'e' } });
    await expectRejects(
      envelope.decryptRow({
        table: 'User',
        values: { email: 'fs3:AAAA' },
        dataKey: row.dataKey,
        readMode: 'tolerant',
      }),
      DecryptionError,
      'unsupported-version',
    );
  });
});

describe('missing and malformed data keys', () => {
  it.each([null, undefined])(
    'ciphertext with a %s data-key column fails with missing-data-key',
    async (dataKey) => {
      const row = await envelope.encryptRow({ table: 'User', values: { email: 'e' } });
      const error = await expectRejects(
        envelope.decryptRow({ table: 'User', rowId: 5, values: row.values, dataKey }),
        DecryptionError,
        'missing-data-key',
      );
      expect(error.location).toEqual({ table: 'User', rowId: 5 });
    },
  );

  it('a row with only null values needs no data key', async () => {
    expect(await envelope.decryptRow({ table: 'User', values: { email: null }, dataKey: null })).toEqual({
      email: null,
    });
  });

  it.each([
    ['a number', 42],
    ['a wrong prefix', 'fsk2:AAAA'],
    ['no prefix', 'AAAAAAAA'],
    ['bad base64url', 'fsk1:!!!!'],
    ['a body that is too short', 'fsk1:AA'],
    ['a key id length past the end', `fsk1:${Buffer.from([0, 9, 65]).toString('base64url')}`],
    ['bytes instead of text', Buffer.from('fsk1:AAAA')],
  ])('a data-key column holding %s fails with malformed-data-key', async (_name, dataKey) => {
    const row = await envelope.encryptRow({ table: 'User', values: { email: 'e' } });
    await expectRejects(
      envelope.decryptRow({ table: 'User', values: row.values, dataKey }),
      DecryptionError,
      'malformed-data-key',
    );
  });
});

describe('data-key column format', () => {
  it('is "fsk2:" + base64url(16-byte row salt) + "." + unpadded base64url(len16(keyId) | keyId | encryptedKey), naming the primary key', async () => {
    const row = await envelope.encryptRow({ table: 'User', values: { email: 'e' } });
    expect(row.dataKey).toMatch(/^fsk2:[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]+$/);
    expect(Buffer.from(row.dataKey.slice(5, 27), 'base64url').length).toBe(16);
    const body = Buffer.from(row.dataKey.slice(28), 'base64url');
    expect(body.readUInt16BE(0)).toBe(2);
    expect(body.subarray(2, 4).toString()).toBe('k1');
    const parsed = parseDataKey(row.dataKey);
    expect(parsed.keyId).toBe('k1');
    expect(Buffer.from(parsed.encryptedKey).equals(body.subarray(4))).toBe(true);
  });

  it('formatDataKey and parseDataKey are inverses', () => {
    const stored = {
      keyId: 'arn:aws:kms:eu-west-1:111122223333:key/abc',
      encryptedKey: Uint8Array.from({ length: 184 }, (_, i) => i),
    };
    const parsed = parseDataKey(formatDataKey(stored));
    expect(parsed.keyId).toBe(stored.keyId);
    expect(Buffer.from(parsed.encryptedKey).equals(Buffer.from(stored.encryptedKey))).toBe(true);
  });

  // BUG (src/data-key-format.ts + src/bytes.ts): the key id in the column is neither authenticated
  // nor checked against the wrapped key, and non-canonical base64url is accepted. Flipping bits
  // in the stored key id leaves a column that still decrypts the row, so tooling that selects rows
  // by key id (rotation: "rows still wrapped by 2025-01") can be misled.
  it('every single-bit flip of a data-key column makes decryptRow fail with a typed error', async () => {
    const row = await envelope.encryptRow({ table: 'User', values: { email: 'e' } });
    const accepted: string[] = [];
    for (const { at, bit, text } of textBitFlips(row.dataKey)) {
      try {
        await envelope.decryptRow({ table: 'User', values: row.values, dataKey: text });
        accepted.push(`char ${at} bit ${bit}`);
      } catch (error) {
        expect(error).toBeInstanceOf(FieldsealError);
      }
    }
    expect(accepted).toEqual([]);
  });

  it('a data-key column whose stored key id was altered is rejected', async () => {
    const row = await envelope.encryptRow({ table: 'User', values: { email: 'e' } });
    const forged = formatDataKey({ keyId: 'k9', encryptedKey: parseDataKey(row.dataKey).encryptedKey });
    await expect(
      envelope.decryptRow({ table: 'User', values: row.values, dataKey: forged }),
    ).rejects.toBeInstanceOf(FieldsealError);
  });

  it('replacing any character of the wrapped-key part of a data-key column fails', async () => {
    const row = await envelope.encryptRow({ table: 'User', values: { email: 'e' } });
    // Characters 5..10 hold the length and key id ("k1"); from 11 on only the wrapped key. The
    // last character is left to the bit-flip test above (it has unused bits).
    for (let at = 11; at < row.dataKey.length - 1; at++) {
      for (const c of BASE64URL_ALPHABET) {
        if (c === row.dataKey[at]) continue;
        const dataKey = row.dataKey.slice(0, at) + c + row.dataKey.slice(at + 1);
        await expect(
          envelope.decryptRow({ table: 'User', values: row.values, dataKey }),
        ).rejects.toBeInstanceOf(FieldsealError);
      }
    }
  });
});

describe('encryptForRow', () => {
  it("reuses the row's data key: no new key, the same data-key column, the same commitment, isNewKey false", async () => {
    const counting = new CountingKeyring(keyring);
    const e = new RowEnvelope({ keyring: counting });
    const row = await e.encryptRow({ table: 'User', values: { email: 'old@example.com', name: 'Old' } });
    const update = await e.encryptForRow({
      table: 'User',
      values: { email: 'new@example.com' },
      dataKey: row.dataKey,
    });
    expect(update.isNewKey).toBe(false);
    expect(update.dataKey).toBe(row.dataKey);
    expect(counting.generated).toBe(1);
    expect(counting.decrypted).toBe(1);
    expect(
      parseValue(update.values.email as string).commitment.equals(
        parseValue(row.values.name as string).commitment,
      ),
    ).toBe(true);
    // The updated column and the untouched one still open together.
    expect(
      await e.decryptRow({
        table: 'User',
        values: { ...row.values, ...update.values },
        dataKey: row.dataKey,
      }),
    ).toEqual({
      email: 'new@example.com',
      name: 'Old',
    });
  });

  it.each([null, undefined])('a %s data key makes a new one and says so (isNewKey true)', async (dataKey) => {
    const update = await envelope.encryptForRow({ table: 'User', values: { email: 'e' }, dataKey });
    expect(update.isNewKey).toBe(true);
    expect(update.dataKey.startsWith('fsk2:')).toBe(true);
    expect(
      await envelope.decryptRow({ table: 'User', values: update.values, dataKey: update.dataKey }),
    ).toEqual({ email: 'e' });
  });

  it('row-bound updates bind the new values to the row id', async () => {
    const row = await envelope.encryptRow({ table: 'User', rowId: 1, values: { email: 'a' } });
    const update = await envelope.encryptForRow({
      table: 'User',
      rowId: 1,
      values: { email: 'b' },
      dataKey: row.dataKey,
    });
    await expectRejects(
      envelope.decryptRow({ table: 'User', rowId: 2, values: update.values, dataKey: row.dataKey }),
      DecryptionError,
      'authentication-failed',
    );
  });

  it("a malformed data key, or another table's, is refused rather than replaced", async () => {
    await expectRejects(
      envelope.encryptForRow({ table: 'User', values: { email: 'e' }, dataKey: 'nonsense' }),
      DecryptionError,
      'malformed-data-key',
    );
    const row = await envelope.encryptRow({ table: 'User', values: { email: 'e' } });
    await expectRejects(
      envelope.encryptForRow({ table: 'Admin', values: { email: 'e' }, dataKey: row.dataKey }),
      KeyringError,
      'unwrap-failed',
    );
  });
});

describe('keyring failures', () => {
  const failing = (error: unknown): Keyring => ({
    name: 'failing',
    generateDataKey: () => Promise.reject(error),
    decryptDataKey: () => Promise.reject(error),
  });

  it('a plain Error from a keyring becomes KeyringError unavailable, with the table and row and the cause kept', async () => {
    const cause = new Error('ECONNRESET');
    const e = new RowEnvelope({ keyring: failing(cause) });
    const error = await expectRejects(
      e.encryptRow({ table: 'User', rowId: 4, values: { email: 'e' } }),
      KeyringError,
      'unavailable',
    );
    expect(error.location).toEqual({ table: 'User', rowId: 4 });
    expect(error.cause).toBe(cause);
  });

  it('a KeyringError from a keyring keeps its code and key id and gains the location', async () => {
    const cause = new KeyringError('throttled', 'Slow down', { keyId: 'k1' });
    const e = new RowEnvelope({ keyring: failing(cause) });
    const row = await envelope.encryptRow({ table: 'User', values: { email: 'e' } });
    const error = await expectRejects(
      e.decryptRow({ table: 'User', values: row.values, dataKey: row.dataKey }),
      KeyringError,
      'throttled',
    );
    expect(error.keyId).toBe('k1');
    expect(error.location).toEqual({ table: 'User' });
    expect(error.cause).toBe(cause);
  });

  it('a keyring returning a key of the wrong length is refused with invalid-key-material', async () => {
    const short: Keyring = {
      name: 'short',
      generateDataKey: async () => ({
        plaintextKey: new Uint8Array(16).fill(1),
        encryptedKey: Uint8Array.of(1),
        keyId: 'x',
      }),
      decryptDataKey: async () => new Uint8Array(16).fill(1),
    };
    await expectRejects(
      new RowEnvelope({ keyring: short }).encryptRow({ table: 'T', values: { a: 'x' } }),
      KeyringError,
      'invalid-key-material',
    );
  });
});

describe('configuration', () => {
  it.each([
    ['no keyring', {}, 'keyring'],
    [
      'a reserved encryption-context key',
      { keyring, encryptionContext: { 'fieldseal:table': 'x' } },
      'encryptionContext',
    ],
    ['a non-string context value', { keyring, encryptionContext: { a: 1 } }, 'encryptionContext'],
    ['an unknown read mode', { keyring, readMode: 'lenient' }, 'readMode'],
  ])('%s is a ConfigError naming the option', (_name, options, option) => {
    const error = expectThrows(() => new RowEnvelope(options as never), ConfigError, 'invalid-config');
    expect(error.option).toBe(option);
  });
});
