import { inspect } from 'node:util';
import {
  ConfigError,
  DATA_KEY_LENGTH,
  type DataKeyMaterial,
  dataKeyMaterial,
  type EncryptionContext,
  isKeyringError,
  KeyringError,
  type RewrappingKeyring,
} from '@fieldseal/core';
import { type KmsCall, toKeyringError } from './kms-errors.js';
import { errorCodeOf, isThrottling, type KmsEvent, type KmsStats, KmsStatsCounter } from './kms-events.js';
import type { KmsEncryptionContext, KmsOperations } from './kms-types.js';
import {
  type AwsKmsKeyringOptions,
  assertKeyRef,
  type ResolvedKeyringOptions,
  resolveOptions,
} from './options.js';
import { type AttemptHooks, createClient, type KMSClient, operationsOf } from './sdk-client.js';

/** What {@link AwsKmsKeyring.reEncryptDataKey} returns. */
export interface ReEncryptedDataKey {
  /** The data key wrapped under the destination key; store it in place of the old one. */
  readonly encryptedKey: Uint8Array;
  /** ARN of the destination key. */
  readonly keyId: string;
}

/** Options of {@link AwsKmsKeyring.scheduleKeyDeletion}. */
export interface ScheduleKeyDeletionOptions {
  /** Days before KMS deletes the key, 7 to 30 (KMS's range); the key refuses all use meanwhile. Defaults to 30. */
  readonly pendingWindowInDays?: number;
}

/** What {@link AwsKmsKeyring.scheduleKeyDeletion} returns. */
export interface ScheduledKeyDeletion {
  /** ARN of the key KMS scheduled for deletion. */
  readonly keyId: string;
  /** When KMS deletes it, unless `aws kms cancel-key-deletion` runs first. */
  readonly deletionDate: Date | undefined;
  readonly pendingWindowInDays: number;
}

/**
 * A keyring whose master key lives in AWS KMS. New data keys come from KMS `GenerateDataKey`
 * (AES-256) and are unwrapped with `Decrypt`, both bound to the encryption context, so a data
 * key moved to another table or tenant does not unwrap. Use it behind `CachingKeyring` so
 * KMS is called once per many rows.
 *
 * Strict by default: only `keyId` and `decryptKeyIds` may unwrap (each `Decrypt` names its
 * `KeyId`); `discovery: true` lets any key the caller may use unwrap.
 *
 * @example
 * const keyring = new CachingKeyring(
 *   new AwsKmsKeyring({ keyId: 'arn:aws:kms:eu-west-1:111122223333:alias/billing' }),
 *   { maxAge: 5 * 60_000, maxUses: 10_000 },
 * );
 */
export class AwsKmsKeyring implements RewrappingKeyring {
  /** `aws-kms:<keyId>`; a caching keyring partitions its cache by it. */
  readonly name: string;
  /** The key that wraps new data keys, as configured. */
  readonly keyId: string;
  /** Keys allowed to unwrap in strict mode, `keyId` first. Not consulted when `discovery` is on. */
  readonly decryptKeyIds: readonly string[];
  /** Whether any key may unwrap. */
  readonly discovery: boolean;
  readonly #options: ResolvedKeyringOptions;
  readonly #kms: KmsOperations;
  readonly #ownedClient: KMSClient | undefined;
  readonly #stats = new KmsStatsCounter();
  /** Whether attempt-level events come from the SDK middleware (so not from the final error). */
  readonly #seesAttempts: boolean;

  /** Validates the options (throws `ConfigError` naming the option); makes no KMS call. */
  constructor(options: AwsKmsKeyringOptions) {
    this.#options = resolveOptions(options);
    this.keyId = this.#options.keyId;
    this.decryptKeyIds = this.#options.decryptKeyIds;
    this.discovery = this.#options.discovery;
    this.name = `aws-kms:${this.keyId}`;
    const client = this.#options.client;
    this.#ownedClient = client === undefined ? createClient(this.#options.clientConfig) : undefined;
    const target = client ?? (this.#ownedClient as KMSClient);
    const kms = operationsOf(target, this.#attemptHooks());
    this.#kms = kms;
    this.#seesAttempts = kms !== target;
  }

  /** Counters since construction: calls per operation, errors, throttled attempts, retries. */
  stats(): KmsStats {
    return this.#stats.snapshot();
  }

  /** A new AES-256 data key from KMS `GenerateDataKey`; `keyId` in the result is the key ARN KMS reports. */
  async generateDataKey(context: EncryptionContext): Promise<DataKeyMaterial> {
    const out = await this.#call('GenerateDataKey', this.keyId, () =>
      this.#kms.generateDataKey({
        KeyId: this.keyId,
        KeySpec: 'AES_256',
        EncryptionContext: this.#context(context),
        ...this.#grants(),
      }),
    );
    if (out.Plaintext?.length !== DATA_KEY_LENGTH || !out.CiphertextBlob?.length) {
      out.Plaintext?.fill(0);
      throw new KeyringError(
        'invalid-key-material',
        `KMS GenerateDataKey for key "${this.keyId}" returned no 32-byte data key`,
        { keyId: this.keyId },
      );
    }
    return dataKeyMaterial({
      plaintextKey: out.Plaintext,
      encryptedKey: out.CiphertextBlob,
      keyId: out.KeyId ?? this.keyId,
    });
  }

  /**
   * Unwraps a data key with KMS `Decrypt` and the same context. Strict mode names each allowed
   * key in turn (`keyId` first) and moves on only when KMS answers `IncorrectKeyException`.
   */
  async decryptDataKey(encryptedKey: Uint8Array, context: EncryptionContext): Promise<Uint8Array> {
    const kmsContext = this.#context(context);
    const out = await this.#withAllowedKeys('Decrypt', (keyId) =>
      this.#kms.decrypt({
        CiphertextBlob: encryptedKey,
        EncryptionContext: kmsContext,
        ...(keyId === undefined ? {} : { KeyId: keyId }),
        ...this.#grants(),
      }),
    );
    if (out.Plaintext?.length !== DATA_KEY_LENGTH) {
      out.Plaintext?.fill(0);
      throw new KeyringError(
        'invalid-key-material',
        'KMS Decrypt returned something other than a 32-byte data key',
        {
          keyId: out.KeyId ?? this.keyId,
        },
      );
    }
    return out.Plaintext;
  }

  /**
   * Re-wraps a data key under `destinationKeyId` with KMS `ReEncrypt`: KMS decrypts and
   * encrypts again internally, so the plaintext key never leaves KMS. The context stays the
   * same. The source key must be one this keyring may unwrap with (or discovery is on). Used
   * by key rotation (`fieldseal rotate`).
   *
   * @example
   * const { encryptedKey, keyId } = await keyring.reEncryptDataKey(stored, context, {
   *   destinationKeyId: 'arn:aws:kms:eu-west-1:111122223333:key/NEW-KEY-ID',
   * });
   */
  async reEncryptDataKey(
    encryptedKey: Uint8Array,
    context: EncryptionContext,
    options: { readonly destinationKeyId: string },
  ): Promise<ReEncryptedDataKey> {
    assertKeyRef(options?.destinationKeyId, 'destinationKeyId');
    const destination = options.destinationKeyId;
    const kmsContext = this.#context(context);
    const out = await this.#withAllowedKeys('ReEncrypt', (keyId) =>
      this.#kms.reEncrypt({
        CiphertextBlob: encryptedKey,
        SourceEncryptionContext: kmsContext,
        ...(keyId === undefined ? {} : { SourceKeyId: keyId }),
        DestinationKeyId: destination,
        DestinationEncryptionContext: kmsContext,
        ...this.#grants(),
      }),
    );
    if (!out.CiphertextBlob?.length) {
      throw new KeyringError(
        'invalid-key-material',
        `KMS ReEncrypt to key "${destination}" returned no ciphertext`,
        { keyId: destination },
      );
    }
    return { encryptedKey: out.CiphertextBlob, keyId: out.KeyId ?? destination };
  }

  /**
   * Schedules deletion of a KMS key (`ScheduleKeyDeletion`): from now on KMS refuses every use
   * of it (`KMSInvalidStateException`), and deletes it after the pending window. Used by
   * `fieldseal shred` for a tenant's own key; `keyId` is a key id or ARN (KMS refuses aliases).
   * Throws `ConfigError` for a window outside 7–30 days, `KeyringError` when KMS refuses.
   */
  async scheduleKeyDeletion(
    keyId: string,
    options: ScheduleKeyDeletionOptions = {},
  ): Promise<ScheduledKeyDeletion> {
    const days = options.pendingWindowInDays ?? 30;
    if (!Number.isInteger(days) || days < 7 || days > 30)
      throw new ConfigError(
        'pendingWindowInDays',
        "must be a whole number of days from 7 to 30 (KMS's range)",
      );
    const schedule = this.#kms.scheduleKeyDeletion?.bind(this.#kms);
    if (!schedule)
      throw new KeyringError(
        'not-allowed',
        `The KMS client of this keyring has no scheduleKeyDeletion; pass a KMSClient or the aggregated KMS client`,
        { keyId },
      );
    try {
      const out = await schedule({ KeyId: keyId, PendingWindowInDays: days });
      return {
        keyId: out.KeyId ?? keyId,
        deletionDate: out.DeletionDate,
        pendingWindowInDays: out.PendingWindowInDays ?? days,
      };
    } catch (error) {
      throw toKeyringError(error, 'ScheduleKeyDeletion', keyId);
    }
  }

  /** Closes the `KMSClient` the keyring created (none when `client` was given). */
  destroy(): void {
    this.#ownedClient?.destroy();
  }

  /** Never prints credentials or key bytes. */
  toJSON(): object {
    return {
      type: 'AwsKmsKeyring',
      keyId: this.keyId,
      decryptKeyIds: this.decryptKeyIds,
      discovery: this.discovery,
    };
  }

  [inspect.custom](): string {
    return `AwsKmsKeyring ${inspect(this.toJSON())}`;
  }

  /** Runs `call` with each allowed key (or once without a key in discovery mode). */
  async #withAllowedKeys<T>(call: KmsCall, run: (keyId: string | undefined) => Promise<T>): Promise<T> {
    if (this.discovery) return this.#call(call, this.keyId, () => run(undefined));
    let last: KeyringError | undefined;
    for (const keyId of this.decryptKeyIds) {
      try {
        return await this.#call(call, keyId, () => run(keyId));
      } catch (error) {
        if (!(isKeyringError(error) && error.code === 'unknown-master-key')) throw error;
        last = error;
      }
    }
    throw new KeyringError(
      'unknown-master-key',
      `The data key was wrapped by a KMS key this keyring may not use (allowed: ${this.decryptKeyIds.join(', ')}). Add that key to decryptKeyIds, or set discovery: true`,
      { keyId: this.keyId, cause: last },
    );
  }

  async #call<T>(call: KmsCall, keyId: string, run: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      const out = await run();
      this.#emit({
        type: 'kms-call',
        operation: call,
        keyId,
        durationMs: performance.now() - started,
        ok: true,
        attempts: attemptsOf(out),
      });
      return out;
    } catch (error) {
      const errorCode = errorCodeOf(error);
      // Without the SDK middleware only the last attempt is known: report its throttling.
      if (!this.#seesAttempts && isThrottling(errorCode))
        this.#emit({ type: 'throttle', operation: call, keyId, attempt: attemptsOf(error) });
      this.#emit({
        type: 'kms-call',
        operation: call,
        keyId,
        durationMs: performance.now() - started,
        ok: false,
        errorCode,
        attempts: attemptsOf(error),
      });
      throw toKeyringError(error, call, keyId);
    }
  }

  #attemptHooks(): AttemptHooks {
    // Discovery-mode Decrypt names no key; report the configured one, as kms-call does.
    return {
      attemptFailed: ({ operation, keyId = this.keyId }, attempt, error) => {
        if (isThrottling(errorCodeOf(error))) this.#emit({ type: 'throttle', operation, keyId, attempt });
      },
      retrying: ({ operation, keyId = this.keyId }, attempt, errorCode) =>
        this.#emit({ type: 'retry', operation, keyId, attempt, errorCode }),
    };
  }

  /** Records and delivers an event; a throwing `onEvent` never fails the KMS call it reports. */
  #emit(event: KmsEvent): void {
    this.#stats.record(event);
    try {
      this.#options.onEvent?.(event);
    } catch {
      // Ignored on purpose: metrics must not decide whether a key is returned.
    }
  }

  #context(context: EncryptionContext): KmsEncryptionContext {
    const merged: KmsEncryptionContext = { ...this.#options.encryptionContext };
    for (const [key, value] of Object.entries(context)) {
      if (key in merged && merged[key] !== value) {
        throw new KeyringError(
          'not-allowed',
          `Encryption context key "${key}" is fixed by this keyring's encryptionContext option; the call may not give it another value`,
          { keyId: this.keyId },
        );
      }
      merged[key] = value;
    }
    return merged;
  }

  #grants(): { GrantTokens?: string[] } {
    const tokens = this.#options.grantTokens;
    return tokens.length > 0 ? { GrantTokens: [...tokens] } : {};
  }
}

/** HTTP attempts the SDK reports for a response or error (`$metadata.attempts`); 1 when absent. */
function attemptsOf(result: unknown): number {
  const attempts = (result as { $metadata?: { attempts?: unknown } } | null)?.$metadata?.attempts;
  return typeof attempts === 'number' && attempts >= 1 ? attempts : 1;
}
