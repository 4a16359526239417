export { type UnsupportedOperationCode, UnsupportedOperationError, WriteConflictError } from './errors.js';
export { type FieldEncryptionOptions, fieldEncryption } from './field-encryption.js';
export type {
  EncryptedFieldMetadata,
  FieldEncryptionMetadata,
  ModelEncryptionMetadata,
  RelationMetadata,
} from './metadata.js';
export { AnnotationError, metadataFromDmmf } from './metadata-from-dmmf.js';
export {
  type PrismaRawClient,
  type SqlExecutorOptions,
  type StoredTablesOptions,
  sqlExecutor,
  storedTables,
} from './stored-tables.js';
export type { TransactionOptions } from './transaction-runner.js';
