import { ConfigError } from './errors.js';

/**
 * An encryption context: non-secret string pairs that are authenticated (not encrypted)
 * when a data key is wrapped. Unwrapping with a different context fails.
 * AWS KMS uses the same notion; fieldseal adds `fieldseal:table` for every row.
 */
export type EncryptionContext = Readonly<Record<string, string>>;

/**
 * A canonical, unambiguous string for a context: keys sorted, each pair length-prefixed.
 * Two contexts give the same string exactly when they hold the same pairs.
 */
export function canonicalContext(context: EncryptionContext): string {
  const keys = Object.keys(context).sort();
  let out = '';
  for (const key of keys) {
    const value = context[key] as string;
    out += `${key.length}:${key}${value.length}:${value};`;
  }
  return out;
}

/** Checks that a context is a flat map of strings; throws `ConfigError` otherwise. */
export function assertEncryptionContext(
  context: unknown,
  option = 'encryptionContext',
): asserts context is EncryptionContext {
  if (context === null || typeof context !== 'object' || Array.isArray(context)) {
    throw new ConfigError(option, 'must be an object mapping strings to strings');
  }
  for (const [key, value] of Object.entries(context)) {
    if (typeof value !== 'string') throw new ConfigError(option, `the value of "${key}" must be a string`);
  }
}
