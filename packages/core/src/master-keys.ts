import { readFileSync } from 'node:fs';
import { fromBase64 } from './bytes.js';
import { ConfigError } from './errors.js';

/** One raw AES-256 master key held by the application. */
export interface LocalMasterKey {
  /** A short, stable, non-secret name, e.g. `2026-11`. Letters, digits and `._-/`. */
  readonly keyId: string;
  /** 32 bytes, or their standard base64. */
  readonly key: Uint8Array | string;
}

const KEY_ID = /^[A-Za-z0-9._/-]{1,128}$/;
/** Length of a local master key in bytes (AES-256). */
export const MASTER_KEY_LENGTH = 32;

/** Checks a key id; throws `ConfigError` naming `option`. */
export function assertKeyId(keyId: unknown, option: string): asserts keyId is string {
  if (typeof keyId !== 'string' || !KEY_ID.test(keyId)) {
    throw new ConfigError(
      option,
      'a key id must be 1–128 characters of letters, digits, ".", "_", "-" or "/"',
    );
  }
}

/** Decodes a master key to 32 bytes; throws `ConfigError` (without echoing the key) otherwise. */
export function decodeMasterKey(key: Uint8Array | string, option: string): Buffer {
  const bytes = typeof key === 'string' ? fromBase64(key) : Buffer.from(key);
  if (!bytes) throw new ConfigError(option, 'the key is not valid base64');
  if (bytes.length !== MASTER_KEY_LENGTH) {
    throw new ConfigError(
      option,
      `a master key must be ${MASTER_KEY_LENGTH} bytes (AES-256), got ${bytes.length}`,
    );
  }
  return bytes;
}

/**
 * Parses the text form of local master keys: `keyId:base64` entries separated by commas or
 * new lines, the first being the primary; blank lines and `#` comments are ignored. This is
 * what `fieldseal keygen` prints.
 */
export function parseMasterKeys(text: string, source: string): LocalMasterKey[] {
  const entries = text
    .split(/[\n,]/)
    .map((line) => line.replace(/#.*$/, '').trim())
    .filter((line) => line.length > 0);
  if (entries.length === 0)
    throw new ConfigError(source, 'no master keys found (expected "keyId:base64key" entries)');
  return entries.map((entry, index) => {
    const colon = entry.indexOf(':');
    if (colon <= 0) throw new ConfigError(source, `entry ${index + 1} is not of the form "keyId:base64key"`);
    return { keyId: entry.slice(0, colon).trim(), key: entry.slice(colon + 1).trim() };
  });
}

/** Reads master keys from an environment variable holding the text form. */
export function masterKeysFromEnv(variable: string, env: NodeJS.ProcessEnv = process.env): LocalMasterKey[] {
  const text = env[variable];
  if (text === undefined || text.trim() === '') {
    throw new ConfigError(
      variable,
      `environment variable ${variable} is not set; generate a key with "fieldseal keygen"`,
    );
  }
  return parseMasterKeys(text, variable);
}

/** Reads master keys from a file holding the text form (one `keyId:base64key` per line). */
export function masterKeysFromFile(path: string): LocalMasterKey[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ConfigError('keyFile', `cannot read key file ${path}`, { cause });
  }
  return parseMasterKeys(text, `keyFile ${path}`);
}
