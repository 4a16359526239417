import { createHmac } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  BLIND_INDEX_CONTEXT,
  BlindIndex,
  ConfigError,
  EncryptionError,
  KeyringError,
  RowEnvelope,
} from '../src/index.js';
import { CountingKeyring, expectRejects, expectThrows, randomKeyring } from './helpers.js';

const keyring = randomKeyring('idx');
const wrappedKey = await BlindIndex.generateKey(keyring);
const index = await BlindIndex.open({ keyring, wrappedKey });

describe('BlindIndex', () => {
  it('generateKey returns a data-key column text wrapped under the blind-index context', () => {
    expect(wrappedKey).toMatch(/^fsk1:[A-Za-z0-9_-]+$/);
    expect(BLIND_INDEX_CONTEXT).toEqual({ 'fieldseal:purpose': 'blind-index' });
  });

  it('is deterministic: the same value in the same column gives the same index, across opened instances', async () => {
    const again = await BlindIndex.open({ keyring, wrappedKey });
    expect(index.compute('User', 'email', 'alice@example.com')).toBe(
      again.compute('User', 'email', 'alice@example.com'),
    );
  });

  it('differs per column and per table, so equal values in two columns do not match', () => {
    const a = index.compute('User', 'email', 'x');
    expect(index.compute('User', 'backupEmail', 'x')).not.toBe(a);
    expect(index.compute('Admin', 'email', 'x')).not.toBe(a);
  });

  it('differs per value, including case', () => {
    expect(index.compute('User', 'email', 'Alice')).not.toBe(index.compute('User', 'email', 'alice'));
  });

  it('a string and bytes with the same UTF-8 content index differently', () => {
    expect(index.compute('T', 'c', 'abc')).not.toBe(index.compute('T', 'c', Buffer.from('abc')));
  });

  it('a different index key gives unrelated index values', async () => {
    const other = await BlindIndex.open({ keyring, wrappedKey: await BlindIndex.generateKey(keyring) });
    expect(other.compute('User', 'email', 'x')).not.toBe(index.compute('User', 'email', 'x'));
  });

  it('is lower-case hex of `bytes` bytes: 16 by default (32 characters), 8 to 32 allowed', async () => {
    expect(index.length).toBe(32);
    expect(index.compute('T', 'c', '')).toMatch(/^[0-9a-f]{32}$/);
    for (const bytes of [8, 20, 32]) {
      const sized = await BlindIndex.open({ keyring, wrappedKey, bytes });
      expect(sized.length).toBe(bytes * 2);
      expect(sized.compute('T', 'c', 'v')).toMatch(new RegExp(`^[0-9a-f]{${bytes * 2}}$`));
      // A shorter index is a prefix of the longer one: the same HMAC, truncated.
      expect(index.compute('T', 'c', 'v').startsWith(sized.compute('T', 'c', 'v').slice(0, 16))).toBe(true);
    }
  });

  it.each([7, 33, 0, 16.5, Number.NaN])('bytes %s is a ConfigError naming the option', async (bytes) => {
    const error = await expectRejects(
      BlindIndex.open({ keyring, wrappedKey, bytes }),
      ConfigError,
      'invalid-config',
    );
    expect(error.option).toBe('bytes');
  });

  it('matches HMAC-SHA-256(HMAC-SHA-256(indexKey, "fieldseal v1 blind index" 0 table 0 column), 0x00|utf8 or 0x01|bytes)', async () => {
    const counting = new CountingKeyring(keyring);
    let indexKey: Uint8Array = new Uint8Array();
    const spy = {
      name: 'spy',
      generateDataKey: counting.generateDataKey.bind(counting),
      decryptDataKey: async (e: Uint8Array, c: Record<string, string>) => {
        indexKey = Buffer.from(await counting.decryptDataKey(e, c));
        return indexKey;
      },
    };
    const opened = await BlindIndex.open({ keyring: spy, wrappedKey });
    const columnKey = createHmac('sha256', indexKey)
      .update('fieldseal v1 blind index\u0000User\u0000email')
      .digest();
    const expected = createHmac('sha256', columnKey)
      .update(Buffer.concat([Buffer.of(0), Buffer.from('alice@example.com')]))
      .digest();
    expect(opened.compute('User', 'email', 'alice@example.com')).toBe(
      expected.subarray(0, 16).toString('hex'),
    );
    const expectedBytes = createHmac('sha256', columnKey)
      .update(Buffer.of(1, 0xde, 0xad))
      .digest();
    expect(opened.compute('User', 'email', Uint8Array.of(0xde, 0xad))).toBe(
      expectedBytes.subarray(0, 16).toString('hex'),
    );
  });

  it('matches createHmac for values of every size and script, short after long (reused buffer, large-value path)', async () => {
    let indexKey: Uint8Array = new Uint8Array();
    const spy = {
      name: 'spy',
      generateDataKey: keyring.generateDataKey.bind(keyring),
      decryptDataKey: async (e: Uint8Array, c: Record<string, string>) => {
        indexKey = Buffer.from(await keyring.decryptDataKey(e, c));
        return indexKey;
      },
    };
    const opened = await BlindIndex.open({ keyring: spy, wrappedKey, bytes: 32 });
    const columnKey = createHmac('sha256', indexKey)
      .update('fieldseal v1 blind index\u0000T\u0000c')
      .digest();
    const expected = (tag: number, bytes: Uint8Array) =>
      createHmac('sha256', columnKey).update(Buffer.of(tag)).update(bytes).digest('hex');
    const strings = [
      '',
      'a',
      'x'.repeat(1365), // 3 × 1365 = 4095: the reused buffer
      'x'.repeat(1366), // 3 × 1366 = 4098: a buffer of its own
      'é'.repeat(2048), // 4096 UTF-8 bytes
      '€'.repeat(1500), // 4500 UTF-8 bytes
      '😀'.repeat(1000),
      'lone \ud800 surrogate',
      'y'.repeat(70_000),
      'b',
    ];
    for (const value of strings)
      expect(opened.compute('T', 'c', value), `${value.length} characters`).toBe(
        expected(0, Buffer.from(value, 'utf8')),
      );
    for (const length of [0, 1, 55, 56, 64, 4096, 4097, 10_000, 3]) {
      const value = new Uint8Array(length).map((_, i) => (i * 31 + length) & 0xff);
      expect(opened.compute('T', 'c', value), `${length} bytes`).toBe(expected(1, value));
    }
  });

  it("a row's data-key column cannot be opened as an index key (different encryption context)", async () => {
    const row = await new RowEnvelope({ keyring }).encryptRow({ table: 'User', values: { email: 'e' } });
    await expectRejects(BlindIndex.open({ keyring, wrappedKey: row.dataKey }), KeyringError, 'unwrap-failed');
  });

  it('an index key wrapped by another keyring fails with unknown-master-key', async () => {
    await expectRejects(
      BlindIndex.open({ keyring: randomKeyring('other'), wrappedKey }),
      KeyringError,
      'unknown-master-key',
    );
  });

  it('a non-string, non-bytes value is an EncryptionError unsupported-type naming the place', () => {
    const error = expectThrows(
      () => index.compute('User', 'age', 42 as unknown as string),
      EncryptionError,
      'unsupported-type',
    );
    expect(error.location).toEqual({ table: 'User', column: 'age' });
  });

  it('inspect and JSON show the size only, never the key', () => {
    expect(inspect(index)).toBe('BlindIndex { bytes: 16 }');
    expect(JSON.stringify(index)).toBe('{"type":"BlindIndex","bytes":16}');
  });
});

describe('BlindIndex names', () => {
  it('refuses table or column names containing NUL, which would make two columns share a key', async () => {
    const { LocalKeyring, BlindIndex, ConfigError } = await import('../src/index.js');
    const keyring = LocalKeyring.fromString(LocalKeyring.generateKeyText('k1'));
    const index = await BlindIndex.open({ keyring, wrappedKey: await BlindIndex.generateKey(keyring) });
    expect(() => index.compute('T\u0000a', 'b', 'x')).toThrow(ConfigError);
    expect(() => index.compute('T', 'a\u0000b', 'x')).toThrow(ConfigError);
    expect(index.compute('T', 'a', 'x')).toMatch(/^[0-9a-f]{32}$/);
  });
});
