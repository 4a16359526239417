import { describe, expect, it } from 'vitest';
import {
  assertBlindIndexKey,
  BlindIndex,
  ConfigError,
  envelopeFor,
  openBlindIndex,
  RowEnvelope,
} from '../src/index.js';
import { expectThrows, randomKeyring, rejectionOf } from './helpers.js';

const keyring = randomKeyring('k1');

describe('shared integration options', () => {
  it('envelopeFor builds the envelope with read mode and context', () => {
    const envelope = envelopeFor({ keyring, readMode: 'tolerant', encryptionContext: { app: 'billing' } });
    expect(envelope).toBeInstanceOf(RowEnvelope);
    expect(envelope.readMode).toBe('tolerant');
    expect(envelope.contextFor('User')).toEqual({ app: 'billing', 'fieldseal:table': 'User' });
  });

  it('envelopeFor refuses a missing options object, a missing keyring and a non-text index key', () => {
    expect(expectThrows(() => envelopeFor(undefined as never), ConfigError, 'invalid-config').option).toBe(
      'options',
    );
    expect(expectThrows(() => envelopeFor({} as never), ConfigError, 'invalid-config').option).toBe(
      'keyring',
    );
    expect(
      expectThrows(() => envelopeFor({ keyring, blindIndexKey: 42 as never }), ConfigError, 'invalid-config')
        .option,
    ).toBe('blindIndexKey');
  });

  it('a blind-index key is required exactly when something declares an index, and the error names it', async () => {
    expect(() => assertBlindIndexKey({ keyring }, [])).not.toThrow();
    const error = expectThrows(
      () => assertBlindIndexKey({ keyring }, ['User', 'Post']),
      ConfigError,
      'invalid-config',
    );
    expect(error.option).toBe('blindIndexKey');
    expect(error.message).toContain('User, Post declare blind indexes');
    expect(await rejectionOf(openBlindIndex({ keyring, blindIndexKey: '' }, ['User']))).toBeInstanceOf(
      ConfigError,
    );
  });

  it('openBlindIndex unwraps the key (with the byte count) or resolves undefined when none is declared', async () => {
    const blindIndexKey = await BlindIndex.generateKey(keyring);
    expect(await openBlindIndex({ keyring, blindIndexKey }, [])).toBeUndefined();
    const index = await openBlindIndex({ keyring, blindIndexKey, blindIndexBytes: 8 }, ['User']);
    expect(index?.length).toBe(16);
    expect(index?.compute('User', 'email', 'a@b.c')).toMatch(/^[0-9a-f]{16}$/);
  });
});
