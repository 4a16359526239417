import { ConfigError } from './errors.js';

/**
 * Named text normalizations for blind indexes, applied in the order given before hashing, on
 * writes and lookups alike. Names (not functions) so they can live in generated metadata and
 * config files, and every tool (adapters, CLI) computes the same index.
 * - `trim`: strip leading and trailing whitespace
 * - `lowercase` / `uppercase`: locale-independent case mapping
 * - `collapse-whitespace`: every run of whitespace becomes one space
 * - `nfc` / `nfkc`: Unicode normalization (NFKC also folds compatibility forms such as `ﬁ` → `fi`)
 */
export type NormalizerName = 'trim' | 'lowercase' | 'uppercase' | 'collapse-whitespace' | 'nfc' | 'nfkc';

const NORMALIZERS: Readonly<Record<NormalizerName, (text: string) => string>> = {
  trim: (text) => text.trim(),
  lowercase: (text) => text.toLowerCase(),
  uppercase: (text) => text.toUpperCase(),
  'collapse-whitespace': (text) => text.replace(/\s+/gu, ' '),
  nfc: (text) => text.normalize('NFC'),
  nfkc: (text) => text.normalize('NFKC'),
};

/** The names {@link normalizerOf} accepts. */
export const NORMALIZER_NAMES = Object.freeze(Object.keys(NORMALIZERS) as NormalizerName[]);

/** A blind-index normalization: a list of {@link NormalizerName}s, or your own function. */
export type NormalizeSpec = readonly NormalizerName[] | ((text: string) => string);

/**
 * The function a normalization spec stands for, or undefined for none. `option` names where
 * the spec came from, for the `ConfigError` an unknown name or a wrong type raises.
 */
export function normalizerOf(spec: unknown, option: string): ((text: string) => string) | undefined {
  if (spec === undefined || spec === null) return undefined;
  if (typeof spec === 'function') return spec as (text: string) => string;
  if (!Array.isArray(spec))
    throw new ConfigError(option, 'must be a list of normalizer names or a function (text) => text');
  const steps = spec.map((name) => {
    if (typeof name !== 'string' || !Object.hasOwn(NORMALIZERS, name))
      throw new ConfigError(
        option,
        `unknown normalizer ${typeof name === 'string' ? `"${name}"` : typeof name}; use ${NORMALIZER_NAMES.join(', ')}`,
      );
    return NORMALIZERS[name as NormalizerName];
  });
  if (steps.length === 0) return undefined;
  if (steps.length === 1) return steps[0];
  return (text) => steps.reduce((value, step) => step(value), text);
}
