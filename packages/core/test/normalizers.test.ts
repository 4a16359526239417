import { describe, expect, it } from 'vitest';
import { ConfigError, NORMALIZER_NAMES, normalizerOf } from '../src/index.js';
import { expectThrows } from './helpers.js';

describe('blind-index normalizers', () => {
  it('applies the named steps in order', () => {
    expect(normalizerOf(['trim', 'lowercase'], 'x')?.('  Ada@Example.COM ')).toBe('ada@example.com');
    expect(normalizerOf(['collapse-whitespace', 'trim'], 'x')?.(' a \t\n b  ')).toBe('a b');
    expect(normalizerOf(['uppercase'], 'x')?.('straße')).toBe('STRASSE');
    expect(normalizerOf(['nfkc'], 'x')?.('ﬁle')).toBe('file');
    // NFC composes: e + combining acute becomes é, so both spellings index alike.
    expect(normalizerOf(['nfc'], 'x')?.('e\u0301')).toBe('\u00e9');
  });

  it('none (undefined, null or an empty list) is no function; a function is used as it is', () => {
    expect(normalizerOf(undefined, 'x')).toBeUndefined();
    expect(normalizerOf(null, 'x')).toBeUndefined();
    expect(normalizerOf([], 'x')).toBeUndefined();
    const own = (text: string) => text.replaceAll('.', '');
    expect(normalizerOf(own, 'x')).toBe(own);
  });

  it('an unknown name or a wrong type is a ConfigError naming the option and listing the names', () => {
    const error = expectThrows(
      () => normalizerOf(['trim', 'lower'], 'User.email'),
      ConfigError,
      'invalid-config',
    );
    expect(error.option).toBe('User.email');
    expect(error.message).toContain('"lower"');
    for (const name of NORMALIZER_NAMES) expect(error.message).toContain(name);
    expectThrows(() => normalizerOf('lowercase', 'x'), ConfigError, 'invalid-config');
    expectThrows(() => normalizerOf([42], 'x'), ConfigError, 'invalid-config');
    expectThrows(() => normalizerOf(['toString'], 'x'), ConfigError, 'invalid-config');
  });
});
