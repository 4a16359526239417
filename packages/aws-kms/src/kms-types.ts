/**
 * The part of AWS KMS this keyring uses, described structurally (like the AWS Encryption
 * SDK's `kms_types.ts`): the keyring logic depends on these shapes only, and just
 * `sdk-client.ts` knows `@aws-sdk/client-kms`. Member names are KMS's own.
 */

/** A KMS encryption context: non-secret string pairs authenticated with the ciphertext. */
export type KmsEncryptionContext = Record<string, string>;

/** `GenerateDataKey` request, as this keyring sends it. */
export interface KmsGenerateDataKeyInput {
  readonly KeyId: string;
  readonly KeySpec: 'AES_256';
  readonly EncryptionContext: KmsEncryptionContext;
  readonly GrantTokens?: string[];
}

/** `GenerateDataKey` response members this keyring reads. */
export interface KmsGenerateDataKeyOutput {
  readonly Plaintext?: Uint8Array | undefined;
  readonly CiphertextBlob?: Uint8Array | undefined;
  /** The key ARN, even when the request named an alias. */
  readonly KeyId?: string | undefined;
}

/** `Decrypt` request; `KeyId` is omitted only in discovery mode. */
export interface KmsDecryptInput {
  readonly CiphertextBlob: Uint8Array;
  readonly EncryptionContext: KmsEncryptionContext;
  readonly KeyId?: string;
  readonly GrantTokens?: string[];
}

/** `Decrypt` response members this keyring reads. */
export interface KmsDecryptOutput {
  readonly Plaintext?: Uint8Array | undefined;
  readonly KeyId?: string | undefined;
}

/** `ReEncrypt` request: decrypt and encrypt again inside KMS. */
export interface KmsReEncryptInput {
  readonly CiphertextBlob: Uint8Array;
  readonly SourceEncryptionContext: KmsEncryptionContext;
  readonly SourceKeyId?: string;
  readonly DestinationKeyId: string;
  readonly DestinationEncryptionContext: KmsEncryptionContext;
  readonly GrantTokens?: string[];
}

/** `ReEncrypt` response members this keyring reads. */
export interface KmsReEncryptOutput {
  readonly CiphertextBlob?: Uint8Array | undefined;
  readonly KeyId?: string | undefined;
  readonly SourceKeyId?: string | undefined;
}

/** `ScheduleKeyDeletion` request (crypto-shredding a tenant's own key). */
export interface KmsScheduleKeyDeletionInput {
  /** Key id or key ARN (KMS refuses aliases here). */
  readonly KeyId: string;
  /** 7 to 30 days. */
  readonly PendingWindowInDays?: number;
}

/** `ScheduleKeyDeletion` response members this keyring reads. */
export interface KmsScheduleKeyDeletionOutput {
  readonly KeyId?: string | undefined;
  readonly DeletionDate?: Date | undefined;
  readonly PendingWindowInDays?: number | undefined;
}

/**
 * The three KMS calls the keyring makes. The aggregated `KMS` client of
 * `@aws-sdk/client-kms` has exactly these methods; a plain `KMSClient` is adapted to them.
 */
export interface KmsOperations {
  generateDataKey(input: KmsGenerateDataKeyInput): Promise<KmsGenerateDataKeyOutput>;
  decrypt(input: KmsDecryptInput): Promise<KmsDecryptOutput>;
  reEncrypt(input: KmsReEncryptInput): Promise<KmsReEncryptOutput>;
  /** Only for `AwsKmsKeyring.scheduleKeyDeletion` (`fieldseal shred`); a client without it cannot shred keys. */
  scheduleKeyDeletion?(input: KmsScheduleKeyDeletionInput): Promise<KmsScheduleKeyDeletionOutput>;
}
