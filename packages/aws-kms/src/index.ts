export { AwsKmsKeyring, type ReEncryptedDataKey } from './aws-kms-keyring.js';
export type { KmsCall } from './kms-errors.js';
export type { KmsEvent, KmsStats } from './kms-events.js';
export type {
  KmsDecryptInput,
  KmsDecryptOutput,
  KmsEncryptionContext,
  KmsGenerateDataKeyInput,
  KmsGenerateDataKeyOutput,
  KmsOperations,
  KmsReEncryptInput,
  KmsReEncryptOutput,
} from './kms-types.js';
export type { AwsKmsKeyringOptions } from './options.js';
