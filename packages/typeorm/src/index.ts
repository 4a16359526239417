export type { EncryptedValueType } from '@fieldseal/core';
export {
  BlindIndex,
  type BlindIndexDecoratorOptions,
  DataKeyColumn,
  Encrypted,
  type EncryptedOptions,
  Tenant,
} from './decorators.js';
export {
  type UnsupportedOperationCode,
  UnsupportedOperationError,
  type UnsupportedOperationErrorOptions,
} from './errors.js';
export { type FieldEncryption, type FieldEncryptionOptions, fieldEncryption } from './field-encryption.js';
export { sqlExecutor, storedTables } from './stored-tables.js';
