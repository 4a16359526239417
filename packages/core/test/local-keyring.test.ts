import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  canonicalContext,
  isRewrappingKeyring,
  KeyringError,
  LocalKeyring,
  MASTER_KEY_LENGTH,
  parseMasterKeys,
} from '../src/index.js';
import { byteBitFlips, expectRejects, expectThrows, keyText } from './helpers.js';

const context = { 'fieldseal:table': 'User' };
const dir = mkdtempSync(join(tmpdir(), 'fieldseal-core-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('loading master keys', () => {
  const k1 = randomBytes(32);
  const k2 = randomBytes(32);
  const text = `${keyText('2026-11', k1)},${keyText('2025-01', k2)}`;

  it('fromString reads comma-separated keyId:base64 entries; the first is primary', () => {
    const keyring = LocalKeyring.fromString(text);
    expect(keyring.primaryKeyId).toBe('2026-11');
    expect(keyring.keyIds).toEqual(['2026-11', '2025-01']);
    expect(keyring.name).toBe('local:2026-11');
  });

  it('fromString also reads one entry per line, skipping blank lines and # comments', () => {
    const keyring = LocalKeyring.fromString(
      `# current\n${keyText('a', k1)}\n\n  ${keyText('b', k2)}  # old\n`,
    );
    expect(keyring.keyIds).toEqual(['a', 'b']);
  });

  it('fromEnv reads FIELDSEAL_LOCAL_KEYS by default, or the named variable', () => {
    expect(LocalKeyring.fromEnv(undefined, { FIELDSEAL_LOCAL_KEYS: text }).keyIds).toEqual([
      '2026-11',
      '2025-01',
    ]);
    expect(LocalKeyring.fromEnv('MY_KEYS', { MY_KEYS: keyText('x', k1) }).keyIds).toEqual(['x']);
  });

  it('fromEnv deletes the variable after reading it, unless keepInEnv is set', () => {
    const env: NodeJS.ProcessEnv = { MY_KEYS: keyText('x', k1), OTHER: 'kept' };
    LocalKeyring.fromEnv('MY_KEYS', env);
    expect(env).toEqual({ OTHER: 'kept' });
    const kept: NodeJS.ProcessEnv = { MY_KEYS: keyText('x', k1) };
    LocalKeyring.fromEnv('MY_KEYS', kept, { keepInEnv: true });
    expect(kept.MY_KEYS).toBe(keyText('x', k1));
    // The real process environment by default.
    process.env.FIELDSEAL_TEST_LOCAL_KEYS = keyText('y', k1);
    expect(LocalKeyring.fromEnv('FIELDSEAL_TEST_LOCAL_KEYS').keyIds).toEqual(['y']);
    expect('FIELDSEAL_TEST_LOCAL_KEYS' in process.env).toBe(false);
  });

  it.each([undefined, '', '   '])(
    'fromEnv with the variable %j is a ConfigError naming the variable',
    (value) => {
      const error = expectThrows(
        () => LocalKeyring.fromEnv('MY_KEYS', value === undefined ? {} : { MY_KEYS: value }),
        ConfigError,
        'invalid-config',
      );
      expect(error.option).toBe('MY_KEYS');
      expect(error.message).toContain('MY_KEYS');
    },
  );

  it('fromFile reads the same text form from a file', () => {
    const path = join(dir, 'keys.txt');
    writeFileSync(path, `${keyText('file-1', k1)}\n${keyText('file-0', k2)}\n`);
    expect(LocalKeyring.fromFile(path).keyIds).toEqual(['file-1', 'file-0']);
  });

  it('fromFile with a missing file is a ConfigError (option keyFile) with the cause kept', () => {
    const error = expectThrows(
      () => LocalKeyring.fromFile(join(dir, 'missing.txt')),
      ConfigError,
      'invalid-config',
    );
    expect(error.option).toBe('keyFile');
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('the constructor takes raw bytes or base64 and an explicit primary', async () => {
    const keyring = new LocalKeyring({
      keys: [
        { keyId: 'a', key: k1 },
        { keyId: 'b', key: k2.toString('base64') },
      ],
      primaryKeyId: 'b',
    });
    expect(keyring.primaryKeyId).toBe('b');
    expect((await keyring.generateDataKey(context)).keyId).toBe('b');
  });

  it("the raw-bytes key is copied: changing the caller's buffer later does not change the keyring", async () => {
    const bytes = Buffer.from(k1);
    const keyring = new LocalKeyring({ keys: [{ keyId: 'a', key: bytes }] });
    const dk = await keyring.generateDataKey(context);
    bytes.fill(0);
    expect(await keyring.decryptDataKey(dk.encryptedKey, context)).toEqual(Buffer.from(dk.plaintextKey));
  });

  it('standard base64 without padding is accepted', () => {
    expect(LocalKeyring.fromString(`a:${k1.toString('base64').replace(/=+$/, '')}`).keyIds).toEqual(['a']);
  });

  it('generateKeyText makes a key in the text form fromString reads, 32 random bytes each time', () => {
    const a = LocalKeyring.generateKeyText('new-key');
    const b = LocalKeyring.generateKeyText('new-key');
    expect(a).not.toBe(b);
    const [entry] = parseMasterKeys(a, 'test');
    expect(entry?.keyId).toBe('new-key');
    expect(Buffer.from(entry?.key as string, 'base64').length).toBe(MASTER_KEY_LENGTH);
    expect(LocalKeyring.fromString(a).primaryKeyId).toBe('new-key');
  });
});

describe('configuration errors never echo the key', () => {
  const secret = 'c2VjcmV0LWtleS1tYXRlcmlhbC10aGF0LW11c3Qtbm90LWxlYWs';
  it.each([
    ['bad base64', `k:${secret}!!`],
    ['base64url instead of base64', `k:${randomBytes(32).toString('base64url').replace(/^./, '_')}`],
    ['16 bytes (AES-128)', `k:${randomBytes(16).toString('base64')}`],
    ['33 bytes', `k:${randomBytes(33).toString('base64')}`],
    ['an entry without a key id', secret],
    ['an empty key id', `:${secret}`],
    ['a key id with a space', `my key:${secret}`],
    ['no entries at all', '# nothing here\n'],
  ])('%s → ConfigError without the key text', (_name, text) => {
    const error = expectThrows(() => LocalKeyring.fromString(text), ConfigError, 'invalid-config');
    const keyPart = text.slice(text.indexOf(':') + 1);
    if (keyPart.length > 8) expect(error.message).not.toContain(keyPart.slice(0, 12));
    expect(error.message).not.toContain(secret.slice(0, 12));
  });

  it('a wrong-length key names the length it got and the option, not the key', () => {
    const key = randomBytes(16).toString('base64');
    const error = expectThrows(
      () => new LocalKeyring({ keys: [{ keyId: 'short', key }] }),
      ConfigError,
      'invalid-config',
    );
    expect(error.option).toBe('keys[0].key (key id "short")');
    expect(error.message).toMatch(/32 bytes.*got 16/);
    expect(error.message).not.toContain(key);
  });

  it.each([
    ['no keys', { keys: [] }, 'keys'],
    ['no options', undefined, 'keys'],
    [
      'a duplicate key id',
      {
        keys: [
          { keyId: 'a', key: randomBytes(32) },
          { keyId: 'a', key: randomBytes(32) },
        ],
      },
      'keys[1].keyId',
    ],
    [
      'an unknown primary',
      { keys: [{ keyId: 'a', key: randomBytes(32) }], primaryKeyId: 'b' },
      'primaryKeyId',
    ],
    [
      'a key id of 129 characters',
      { keys: [{ keyId: 'x'.repeat(129), key: randomBytes(32) }] },
      'keys[0].keyId',
    ],
  ])('%s is a ConfigError naming the option', (_name, options, option) => {
    expect(expectThrows(() => new LocalKeyring(options as never), ConfigError, 'invalid-config').option).toBe(
      option,
    );
  });
});

describe('wrapping and unwrapping', () => {
  it('generateDataKey returns a fresh random 32-byte key wrapped by the primary, which unwraps to the same bytes', async () => {
    const keyring = LocalKeyring.fromString(keyText('p'));
    const a = await keyring.generateDataKey(context);
    const b = await keyring.generateDataKey(context);
    expect(a.plaintextKey.length).toBe(32);
    expect(Buffer.from(a.plaintextKey).equals(Buffer.from(b.plaintextKey))).toBe(false);
    expect(a.keyId).toBe('p');
    expect(
      Buffer.from(await keyring.decryptDataKey(a.encryptedKey, context)).equals(Buffer.from(a.plaintextKey)),
    ).toBe(true);
  });

  it('the wrapped key is 0x02 | len8(keyId) | keyId | salt(16) | iv(12) | ciphertext(32) | tag(16), its wrapping key HKDF(master, salt), checkable with node:crypto alone', async () => {
    const master = randomBytes(32);
    const keyring = new LocalKeyring({ keys: [{ keyId: 'key-7', key: master }] });
    const { plaintextKey, encryptedKey } = await keyring.generateDataKey(context);
    const bytes = Buffer.from(encryptedKey);
    expect(bytes.length).toBe(2 + 5 + 16 + 12 + 32 + 16);
    expect(bytes[0]).toBe(2);
    expect(bytes[1]).toBe(5);
    expect(bytes.subarray(2, 7).toString()).toBe('key-7');
    // Independent unwrap, from docs/format.md.
    const salt = bytes.subarray(7, 23);
    const wrappingKey = Buffer.from(
      hkdfSync('sha256', master, salt, 'fieldseal local keyring v2 wrapping key', 32),
    );
    expect(wrappingKey.equals(master)).toBe(false);
    const aad = Buffer.from(
      `fieldseal local keyring v2\u0000key-7\u0000${canonicalContext(context)}`,
      'utf8',
    );
    expect(canonicalContext(context)).toBe('15:fieldseal:table4:User;');
    const decipher = createDecipheriv('aes-256-gcm', wrappingKey, bytes.subarray(23, 35));
    decipher.setAAD(aad);
    decipher.setAuthTag(bytes.subarray(67));
    const unwrapped = Buffer.concat([decipher.update(bytes.subarray(35, 67)), decipher.final()]);
    expect(unwrapped.equals(Buffer.from(plaintextKey))).toBe(true);
  });

  it('every wrap uses its own salt, so two wraps of keys under one master key never share a wrapping key', async () => {
    const keyring = LocalKeyring.fromString(keyText('k'));
    const salts = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const { encryptedKey } = await keyring.generateDataKey(context);
      salts.add(Buffer.from(encryptedKey).subarray(3, 19).toString('hex'));
    }
    expect(salts.size).toBe(50);
  });

  it('still unwraps the older layout 0x01 | len8(keyId) | keyId | iv(12) | ciphertext(32) | tag(16), wrapped with the master key itself', async () => {
    const master = randomBytes(32);
    const dataKey = randomBytes(32);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', master, iv);
    cipher.setAAD(
      Buffer.from(`fieldseal local keyring v1\u0000key-7\u0000${canonicalContext(context)}`, 'utf8'),
    );
    const ciphertext = Buffer.concat([cipher.update(dataKey), cipher.final()]);
    const v1 = Buffer.concat([
      Buffer.from([1, 5]),
      Buffer.from('key-7'),
      iv,
      ciphertext,
      cipher.getAuthTag(),
    ]);
    const keyring = new LocalKeyring({ keys: [{ keyId: 'key-7', key: master }] });
    expect(Buffer.from(await keyring.decryptDataKey(v1, context)).equals(dataKey)).toBe(true);
    expect(keyring.keyIdOf(v1)).toBe('key-7');
    // Re-wrapping (rotation) moves it to the current layout.
    const rewrapped = await keyring.reEncryptDataKey(v1, context, { destinationKeyId: 'key-7' });
    expect(Buffer.from(rewrapped.encryptedKey)[0]).toBe(2);
    expect(Buffer.from(await keyring.decryptDataKey(rewrapped.encryptedKey, context)).equals(dataKey)).toBe(
      true,
    );
    // A v1 key relabelled as v2 (or the reverse) does not unwrap.
    const relabelled = Buffer.concat([Buffer.from([2]), v1.subarray(1), randomBytes(16)]);
    await expect(keyring.decryptDataKey(relabelled, context)).rejects.toThrow(KeyringError);
  });

  it('rotation: a keyring listing the new primary and the old key unwraps keys wrapped by either, and wraps with the new one', async () => {
    const oldKey = keyText('2025-01');
    const newKey = keyText('2026-11');
    const before = LocalKeyring.fromString(oldKey);
    const after = LocalKeyring.fromString(`${newKey},${oldKey}`);
    const old = await before.generateDataKey(context);
    const fresh = await after.generateDataKey(context);
    expect(fresh.keyId).toBe('2026-11');
    expect(await after.decryptDataKey(old.encryptedKey, context)).toEqual(Buffer.from(old.plaintextKey));
    expect(await after.decryptDataKey(fresh.encryptedKey, context)).toEqual(Buffer.from(fresh.plaintextKey));
  });

  it('a key wrapped by a master key the keyring does not hold fails with unknown-master-key naming that key id', async () => {
    const dk = await LocalKeyring.fromString(keyText('retired')).generateDataKey(context);
    const error = await expectRejects(
      LocalKeyring.fromString(keyText('current')).decryptDataKey(dk.encryptedKey, context),
      KeyringError,
      'unknown-master-key',
    );
    expect(error.keyId).toBe('retired');
    expect(error.message).toContain('"retired"');
  });

  it('the same key id with different key material fails with unwrap-failed', async () => {
    const dk = await LocalKeyring.fromString(keyText('k')).generateDataKey(context);
    await expectRejects(
      LocalKeyring.fromString(keyText('k')).decryptDataKey(dk.encryptedKey, context),
      KeyringError,
      'unwrap-failed',
    );
  });

  it.each([
    ['another table', { 'fieldseal:table': 'Admin' }],
    ['an extra pair', { 'fieldseal:table': 'User', app: 'x' }],
    ['an empty context', {}],
  ])(
    'unwrapping under a different encryption context (%s) fails with unwrap-failed',
    async (_name, other) => {
      const keyring = LocalKeyring.fromString(keyText('k'));
      const dk = await keyring.generateDataKey(context);
      await expectRejects(keyring.decryptDataKey(dk.encryptedKey, other), KeyringError, 'unwrap-failed');
    },
  );

  it('context key order does not matter', async () => {
    const keyring = LocalKeyring.fromString(keyText('k'));
    const dk = await keyring.generateDataKey({ a: '1', b: '2' });
    expect(await keyring.decryptDataKey(dk.encryptedKey, { b: '2', a: '1' })).toEqual(
      Buffer.from(dk.plaintextKey),
    );
  });

  it('every single-bit flip of a wrapped key fails with a KeyringError', async () => {
    const keyring = LocalKeyring.fromString(keyText('k'));
    const dk = await keyring.generateDataKey(context);
    for (const { bytes } of byteBitFlips(dk.encryptedKey)) {
      await expect(keyring.decryptDataKey(bytes, context)).rejects.toBeInstanceOf(KeyringError);
    }
  });

  it('a truncated, extended or empty wrapped key fails with malformed-encrypted-key', async () => {
    const keyring = LocalKeyring.fromString(keyText('k'));
    const dk = await keyring.generateDataKey(context);
    for (const bytes of [
      dk.encryptedKey.subarray(0, dk.encryptedKey.length - 1),
      Buffer.concat([dk.encryptedKey, Buffer.of(0)]),
      new Uint8Array(0),
    ]) {
      await expectRejects(keyring.decryptDataKey(bytes, context), KeyringError, 'malformed-encrypted-key');
    }
  });
});

describe('reEncryptDataKey', () => {
  it('re-wraps a data key under another listed key; a keyring holding only that key unwraps the same plaintext', async () => {
    const oldText = keyText('old');
    const newText = keyText('new');
    const both = LocalKeyring.fromString(`${oldText},${newText}`);
    const dk = await both.generateDataKey(context);
    expect(dk.keyId).toBe('old');
    const moved = await both.reEncryptDataKey(dk.encryptedKey, context, { destinationKeyId: 'new' });
    expect(moved.keyId).toBe('new');
    expect(Buffer.from(moved.encryptedKey).subarray(2, 5).toString()).toBe('new');
    expect(await LocalKeyring.fromString(newText).decryptDataKey(moved.encryptedKey, context)).toEqual(
      Buffer.from(dk.plaintextKey),
    );
    await expectRejects(
      LocalKeyring.fromString(oldText).decryptDataKey(moved.encryptedKey, context),
      KeyringError,
      'unknown-master-key',
    );
  });

  it('keeps the encryption context: the re-wrapped key still fails under another context', async () => {
    const keyring = LocalKeyring.fromString(`${keyText('a')},${keyText('b')}`);
    const dk = await keyring.generateDataKey(context);
    const moved = await keyring.reEncryptDataKey(dk.encryptedKey, context, { destinationKeyId: 'b' });
    await expectRejects(keyring.decryptDataKey(moved.encryptedKey, {}), KeyringError, 'unwrap-failed');
  });

  it('an unlisted destination is a ConfigError; a key it cannot unwrap is a KeyringError', async () => {
    const keyring = LocalKeyring.fromString(keyText('a'));
    const dk = await keyring.generateDataKey(context);
    const error = await expectRejects(
      keyring.reEncryptDataKey(dk.encryptedKey, context, { destinationKeyId: 'zzz' }),
      ConfigError,
      'invalid-config',
    );
    expect(error.option).toBe('destinationKeyId');
    await expectRejects(
      keyring.reEncryptDataKey(dk.encryptedKey, {}, { destinationKeyId: 'a' }),
      KeyringError,
      'unwrap-failed',
    );
  });

  it('LocalKeyring is a RewrappingKeyring', () => {
    expect(isRewrappingKeyring(LocalKeyring.fromString(keyText('a')))).toBe(true);
    expect(
      isRewrappingKeyring({
        name: 'x',
        generateDataKey: async () => ({}) as never,
        decryptDataKey: async () => new Uint8Array(),
      }),
    ).toBe(false);
  });
});
