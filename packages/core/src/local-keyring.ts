import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { canonicalContext, type EncryptionContext } from './encryption-context.js';
import { ConfigError, KeyringError } from './errors.js';
import { IV_LENGTH } from './iv-source.js';
import { DATA_KEY_LENGTH, type DataKeyMaterial, dataKeyMaterial, type RewrappingKeyring } from './keyring.js';
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

/** Layout 1 wrapped with the master key itself; still read. */
const FORMAT_V1 = 0x01;
/** Layout 2 (written): wrapped with a key derived from the master key and a random salt. */
const FORMAT_V2 = 0x02;
const SALT_LENGTH = 16;
const TAG_LENGTH = 16;
const AAD_DOMAIN = { [FORMAT_V1]: 'fieldseal local keyring v1', [FORMAT_V2]: 'fieldseal local keyring v2' };
const WRAP_KEY_INFO = 'fieldseal local keyring v2 wrapping key';

/** Options of {@link LocalKeyring.fromEnv}. */
export interface LocalKeyringEnvOptions {
  /**
   * Leave the variable in the environment after reading it. Defaults to false: it is deleted,
   * so child processes, crash reporters and environment dumps do not see the master keys.
   */
  readonly keepInEnv?: boolean;
}

/**
 * A keyring over raw AES-256 master keys held by the application. Fit for production in apps
 * without a KMS, with the trade-off that the master keys live in the application's memory and
 * configuration (no audit log, no access policy, rotation by hand); prefer `AwsKmsKeyring`
 * where a KMS is available. Each wrap derives its own AES-256-GCM wrapping key from the master
 * key and a random 16-byte salt (HKDF-SHA-256), so no GCM usage bound applies to the master key;
 * the wrapped key names its master key and authenticates the encryption context.
 *
 * Encrypted data key layout: `0x02 | len8(keyId) keyId | salt(16) | iv(12) | ciphertext(32) |
 * tag(16)`. Keys wrapped by older versions (`0x01`, no salt, wrapped with the master key
 * itself) still unwrap.
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

  /**
   * Keys from an environment variable holding the text form (default `FIELDSEAL_LOCAL_KEYS`).
   * The variable is then deleted from `env` unless `options.keepInEnv` is set.
   */
  static fromEnv(
    variable = 'FIELDSEAL_LOCAL_KEYS',
    env: NodeJS.ProcessEnv = process.env,
    options: LocalKeyringEnvOptions = {},
  ): LocalKeyring {
    const keyring = new LocalKeyring({ keys: masterKeysFromEnv(variable, env) });
    if (options.keepInEnv !== true) delete env[variable];
    return keyring;
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
    return dataKeyMaterial({ plaintextKey, encryptedKey: this.#wrap(keyId, plaintextKey, context), keyId });
  }

  async decryptDataKey(encryptedKey: Uint8Array, context: EncryptionContext): Promise<Uint8Array> {
    const { format, keyId, salt, iv, ciphertext, tag } = parseWrapped(encryptedKey);
    const masterKey = this.#keys.get(keyId);
    if (!masterKey) {
      throw new KeyringError(
        'unknown-master-key',
        `Data key was wrapped by local master key "${keyId}", which this keyring does not hold; add it to the keyring's keys`,
        { keyId },
      );
    }
    try {
      const wrappingKey = format === FORMAT_V1 ? masterKey : deriveWrappingKey(masterKey, salt);
      const decipher = createDecipheriv('aes-256-gcm', wrappingKey, iv, { authTagLength: TAG_LENGTH });
      decipher.setAAD(wrapAad(format, keyId, context));
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
    const salt = randomBytes(SALT_LENGTH);
    const iv = randomBytes(IV_LENGTH);
    const wrappingKey = deriveWrappingKey(this.#keys.get(keyId) as Buffer, salt);
    const cipher = createCipheriv('aes-256-gcm', wrappingKey, iv);
    cipher.setAAD(wrapAad(FORMAT_V2, keyId, context));
    const ciphertext = Buffer.concat([cipher.update(plaintextKey), cipher.final()]);
    wrappingKey.fill(0);
    const id = Buffer.from(keyId, 'utf8');
    return Buffer.concat([
      Buffer.from([FORMAT_V2, id.length]),
      id,
      salt,
      iv,
      ciphertext,
      cipher.getAuthTag(),
    ]);
  }

  /** Never prints key bytes. */
  toJSON(): object {
    return { type: 'LocalKeyring', primaryKeyId: this.primaryKeyId, keyIds: this.keyIds };
  }

  [inspect.custom](): string {
    return `LocalKeyring { primaryKeyId: ${JSON.stringify(this.primaryKeyId)}, keyIds: ${JSON.stringify(this.keyIds)} }`;
  }
}

function wrapAad(
  format: typeof FORMAT_V1 | typeof FORMAT_V2,
  keyId: string,
  context: EncryptionContext,
): Buffer {
  return Buffer.from(`${AAD_DOMAIN[format]}\u0000${keyId}\u0000${canonicalContext(context)}`, 'utf8');
}

/**
 * The wrapping key of one wrap: HKDF-SHA-256 of the master key with the wrap's random salt
 * (RFC 5869; one output block, written with two HMACs because `hkdfSync` costs several times more).
 */
function deriveWrappingKey(masterKey: Buffer, salt: Uint8Array): Buffer {
  const prk = createHmac('sha256', salt).update(masterKey).digest();
  const key = createHmac('sha256', prk).update(WRAP_KEY_INFO, 'utf8').update(Uint8Array.of(1)).digest();
  prk.fill(0);
  return key;
}

function parseWrapped(encryptedKey: Uint8Array) {
  const bytes = Buffer.from(encryptedKey.buffer, encryptedKey.byteOffset, encryptedKey.byteLength);
  const format = bytes[0];
  const idLength = bytes[1] ?? 0;
  const saltLength = format === FORMAT_V2 ? SALT_LENGTH : 0;
  const ivStart = 2 + idLength + saltLength;
  if (
    (format !== FORMAT_V1 && format !== FORMAT_V2) ||
    bytes.length !== ivStart + IV_LENGTH + DATA_KEY_LENGTH + TAG_LENGTH
  ) {
    throw new KeyringError(
      'malformed-encrypted-key',
      'Encrypted data key is not a local-keyring wrapped key (wrong format or length)',
    );
  }
  return {
    format: format as typeof FORMAT_V1 | typeof FORMAT_V2,
    keyId: bytes.subarray(2, 2 + idLength).toString('utf8'),
    salt: bytes.subarray(2 + idLength, ivStart),
    iv: bytes.subarray(ivStart, ivStart + IV_LENGTH),
    ciphertext: bytes.subarray(ivStart + IV_LENGTH, ivStart + IV_LENGTH + DATA_KEY_LENGTH),
    tag: bytes.subarray(ivStart + IV_LENGTH + DATA_KEY_LENGTH),
  };
}
