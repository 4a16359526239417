export { type UnsupportedOperationCode, UnsupportedOperationError, WriteConflictError } from './errors.js';
export { AnnotationError, metadataFromDmmf } from './generate/annotations.js';
export type { TransactionOptions } from './query/transaction.js';
export { type FieldEncryptionOptions, fieldEncryption } from './setup/field-encryption.js';
export type {
  EncryptedFieldMetadata,
  FieldEncryptionMetadata,
  ModelEncryptionMetadata,
  RelationMetadata,
} from './setup/metadata.js';
export {
  type PrismaRawClient,
  type SqlExecutorOptions,
  type StoredTablesOptions,
  sqlExecutor,
  storedTables,
} from './setup/stored-tables.js';
