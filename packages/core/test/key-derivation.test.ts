import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  decryptValue,
  deriveDataKey,
  deriveRowKey,
  encryptValue,
  formatDataKey,
  KeyringError,
  parseDataKey,
  wipeDataKey,
} from '../src/index.js';
import { expectError, thrownBy } from './helpers.js';

const place = { table: 'User', column: 'email' };

describe('derived keys after their data key is wiped (evicted from a cache)', () => {
  it.each([
    ['v1', (dk: Uint8Array) => deriveDataKey(dk)],
    ['v2', (dk: Uint8Array) => deriveRowKey(dk, randomBytes(16))],
  ] as const)('a %s key held past the wipe refuses to encrypt (never an all-zero key)', (_v, derive) => {
    const dataKey = new Uint8Array(randomBytes(32));
    const key = derive(dataKey);
    const stored = encryptValue(key, place, 'before');
    wipeDataKey(dataKey);
    expectError(
      thrownBy(() => encryptValue(key, place, 'after')),
      KeyringError,
      'invalid-key-material',
    );
    expectError(
      thrownBy(() => decryptValue(key, place, stored)),
      KeyringError,
      'invalid-key-material',
    );
    expectError(
      thrownBy(() => derive(dataKey)),
      KeyringError,
      'invalid-key-material',
    );
  });

  it('v2 keys of two rows sharing a data key differ, and each commits to its own row', () => {
    const dataKey = new Uint8Array(randomBytes(32));
    const a = deriveRowKey(dataKey, randomBytes(16));
    const b = deriveRowKey(dataKey, randomBytes(16));
    expect(a.encryptionKey.equals(b.encryptionKey)).toBe(false);
    expect(a.commitment.length).toBe(32);
    expect(a.commitment.equals(b.commitment)).toBe(false);
  });
});

describe('formatDataKey memo', () => {
  it('the same wrapped bytes under two key ids format as two texts, each naming its own key id', () => {
    const encryptedKey = new Uint8Array(randomBytes(60));
    const one = formatDataKey({ keyId: 'k1', encryptedKey });
    const two = formatDataKey({ keyId: 'k2', encryptedKey });
    expect(one).not.toBe(two);
    expect(parseDataKey(one).keyId).toBe('k1');
    expect(parseDataKey(two).keyId).toBe('k2');
  });
});
