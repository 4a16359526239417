import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { canonicalContext, type EncryptionContext } from './encryption-context.js';
import { ConfigError, KeyringError } from './errors.js';
import { IV_LENGTH } from './iv-source.js';
import { DATA_KEY_LENGTH, type DataKeyMaterial, type RewrappingKeyring } from './keyring.js';
import {
  assertKeyId,
  decodeMasterKey,
  type LocalMasterKey,
  masterKeysFromEnv,
  masterKeysFromFile,
  parseMasterKeys,
} from './master-keys.js';

/** Options of {@link LocalKeyring}. */
export interface LocalKeyringOptions {
  /** Master keys. Every listed key can unwrap; the primary wraps new data keys. */
  readonly keys: readonly LocalMasterKey[];
  /** Key id of the key that wraps new data keys. Defaults to the first key. */
  readonly primaryKeyId?: string;
}

const FORMAT = 0x01;
const TAG_LENGTH = 16;
const AAD_DOMAIN = 'fieldseal local keyring v1';

/**
 * A keyring over raw AES-256 master keys held by the application: the embedded default,
 * for development and for apps without a KMS. Data keys are wrapped with AES-256-GCM; the
 * wrapped key names its master key and authenticates the encryption context.
 *
 * Encrypted data key layout: `0x01 | len8(keyId) keyId | iv(12) | ciphertext(32) | tag(16)`.
 *
 * @example
 * const keyring = LocalKeyring.fromEnv('FIELDSEAL_LOCAL_KEYS'); // "2026-11:BASE64,2025-01:BASE64"
 */
export class LocalKeyring implements RewrappingKeyring {
  readonly name: string;
  /** The key id that wraps new data keys. */
  readonly primaryKeyId: string;
  /** Every key id this keyring can unwrap. */
  readonly keyIds: readonly string[];
  readonly #keys: ReadonlyMap<string, Buffer>;

  constructor(options: LocalKeyringOptions) {
    if (!options || !Array.isArray(options.keys) || options.keys.length === 0) {
      throw new ConfigError(
        'keys',
        'at least one master key is required; generate one with "fieldseal keygen"',
      );
    }
    const keys = new Map<string, Buffer>();
    options.keys.forEach((entry, index) => {
      assertKeyId(entry.keyId, `keys[${index}].keyId`);
      if (keys.has(entry.keyId))
        throw new ConfigError(`keys[${index}].keyId`, `key id "${entry.keyId}" is listed twice`);
      keys.set(entry.keyId, decodeMasterKey(entry.key, `keys[${index}].key (key id "${entry.keyId}")`));
    });
    const primary = options.primaryKeyId ?? (options.keys[0] as LocalMasterKey).keyId;
    if (!keys.has(primary))
      throw new ConfigError('primaryKeyId', `no key with id "${primary}" is listed in keys`);
    this.#keys = keys;
    this.primaryKeyId = primary;
    this.keyIds = Object.freeze([...keys.keys()]);
    this.name = `local:${primary}`;
  }

  /** Keys from their text form: `keyId:base64` entries separated by commas or new lines; the first is primary. */
  static fromString(text: string): LocalKeyring {
    return new LocalKeyring({ keys: parseMasterKeys(text, 'keys') });
  }

  /** Keys from an environment variable holding the text form (default `FIELDSEAL_LOCAL_KEYS`). */
  static fromEnv(variable = 'FIELDSEAL_LOCAL_KEYS', env: NodeJS.ProcessEnv = process.env): LocalKeyring {
    return new LocalKeyring({ keys: masterKeysFromEnv(variable, env) });
  }

  /** Keys from a file holding the text form, one `keyId:base64` per line. */
  static fromFile(path: string): LocalKeyring {
    return new LocalKeyring({ keys: masterKeysFromFile(path) });
  }

  /** A new random master key in the text form `LocalKeyring.fromString` reads. */
  static generateKeyText(keyId: string): string {
    assertKeyId(keyId, 'keyId');
    return `${keyId}:${randomBytes(32).toString('base64')}`;
  }

  async generateDataKey(context: EncryptionContext): Promise<DataKeyMaterial> {
    const plaintextKey = randomBytes(DATA_KEY_LENGTH);
    const keyId = this.primaryKeyId;
    return { plaintextKey, encryptedKey: this.#wrap(keyId, plaintextKey, context), keyId };
  }

  async decryptDataKey(encryptedKey: Uint8Array, context: EncryptionContext): Promise<Uint8Array> {
    const { keyId, iv, ciphertext, tag } = parseWrapped(encryptedKey);
    const masterKey = this.#keys.get(keyId);
    if (!masterKey) {
      throw new KeyringError(
        'unknown-master-key',
        `Data key was wrapped by local master key "${keyId}", which this keyring does not hold; add it to the keyring's keys`,
        { keyId },
      );
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', masterKey, iv, { authTagLength: TAG_LENGTH });
      decipher.setAAD(wrapAad(keyId, context));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
    } catch (cause) {
      throw new KeyringError(
        'unwrap-failed',
        `Data key failed to unwrap under local master key "${keyId}": it was altered or belongs to another table or encryption context`,
        { keyId, cause },
      );
    }
  }

  /** The key id recorded (and authenticated) inside a wrapped key; `undefined` if it is not one of ours. */
  keyIdOf(encryptedKey: Uint8Array): string | undefined {
    try {
      return parseWrapped(encryptedKey).keyId;
    } catch {
      return undefined;
    }
  }

  /** Re-wraps a data key under another listed key (local rotation; the plaintext stays in this process). */
  async reEncryptDataKey(
    encryptedKey: Uint8Array,
    context: EncryptionContext,
    options: { readonly destinationKeyId: string },
  ): Promise<{ readonly encryptedKey: Uint8Array; readonly keyId: string }> {
    const keyId = options.destinationKeyId;
    if (!this.#keys.has(keyId))
      throw new ConfigError('destinationKeyId', `no key with id "${keyId}" is listed in this keyring`);
    const plaintextKey = await this.decryptDataKey(encryptedKey, context);
    try {
      return { encryptedKey: this.#wrap(keyId, plaintextKey, context), keyId };
    } finally {
      plaintextKey.fill(0);
    }
  }

  #wrap(keyId: string, plaintextKey: Uint8Array, context: EncryptionContext): Buffer {
    const iv = randomBytes(IV_LENGTH);
    const cipher = createCipheriv('aes-256-gcm', this.#keys.get(keyId) as Buffer, iv);
    cipher.setAAD(wrapAad(keyId, context));
    const ciphertext = Buffer.concat([cipher.update(plaintextKey), cipher.final()]);
    const id = Buffer.from(keyId, 'utf8');
    return Buffer.concat([Buffer.from([FORMAT, id.length]), id, iv, ciphertext, cipher.getAuthTag()]);
  }

  /** Never prints key bytes. */
  toJSON(): object {
    return { type: 'LocalKeyring', primaryKeyId: this.primaryKeyId, keyIds: this.keyIds };
  }

  [inspect.custom](): string {
    return `LocalKeyring { primaryKeyId: ${JSON.stringify(this.primaryKeyId)}, keyIds: ${JSON.stringify(this.keyIds)} }`;
  }
}

function wrapAad(keyId: string, context: EncryptionContext): Buffer {
  return Buffer.from(`${AAD_DOMAIN}\u0000${keyId}\u0000${canonicalContext(context)}`, 'utf8');
}

function parseWrapped(encryptedKey: Uint8Array) {
  const bytes = Buffer.from(encryptedKey.buffer, encryptedKey.byteOffset, encryptedKey.byteLength);
  const idLength = bytes[1] ?? 0;
  const ivStart = 2 + idLength;
  if (bytes[0] !== FORMAT || bytes.length !== ivStart + IV_LENGTH + DATA_KEY_LENGTH + TAG_LENGTH) {
    throw new KeyringError(
      'malformed-encrypted-key',
      'Encrypted data key is not a local-keyring wrapped key (wrong format or length)',
    );
  }
  return {
    keyId: bytes.subarray(2, ivStart).toString('utf8'),
    iv: bytes.subarray(ivStart, ivStart + IV_LENGTH),
    ciphertext: bytes.subarray(ivStart + IV_LENGTH, ivStart + IV_LENGTH + DATA_KEY_LENGTH),
    tag: bytes.subarray(ivStart + IV_LENGTH + DATA_KEY_LENGTH),
  };
}
