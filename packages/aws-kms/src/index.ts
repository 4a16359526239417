export {
  AwsKmsKeyring,
  type ReEncryptedDataKey,
  type ScheduledKeyDeletion,
  type ScheduleKeyDeletionOptions,
} from './aws-kms-keyring.js';
export type { KmsAdminCall, KmsCall } from './kms-errors.js';
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
  KmsScheduleKeyDeletionInput,
  KmsScheduleKeyDeletionOutput,
} from './kms-types.js';
export type { AwsKmsKeyringOptions } from './options.js';
