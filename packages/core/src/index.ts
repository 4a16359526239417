export { buildAad, type ValuePlace } from './aad.js';
export { BLIND_INDEX_CONTEXT, BlindIndex, type BlindIndexOptions } from './blind-index.js';
export { fromBase64, fromBase64Url, toBase64Url } from './bytes.js';
export { DATA_KEY_PREFIX, formatDataKey, parseDataKey, type StoredDataKey } from './data-key-format.js';
export { assertEncryptionContext, canonicalContext, type EncryptionContext } from './encryption-context.js';
export {
  assertBlindIndexKey,
  envelopeFor,
  type FieldEncryptionBaseOptions,
  openBlindIndex,
} from './encryption-options.js';
export {
  ConfigError,
  DecryptionError,
  type DecryptionErrorCode,
  describeLocation,
  EncryptionError,
  type EncryptionErrorCode,
  type ErrorLocation,
  FIELDSEAL_ERROR_BRAND,
  FieldsealError,
  type FieldsealErrorOptions,
  isConfigError,
  isDecryptionError,
  isEncryptionError,
  isFieldsealError,
  isKeyringError,
  isUnsupportedOperationError,
  isWriteConflictError,
  KeyringError,
  type KeyringErrorCode,
  type UnsupportedOperationCode,
  UnsupportedOperationError,
  type UnsupportedOperationErrorOptions,
  WriteConflictError,
} from './errors.js';
export { decryptValue, type EncryptValueOptions, encryptValue, type PlaintextValue } from './field-cipher.js';
export { IV_LENGTH } from './iv-source.js';
export { COMMITMENT_LENGTH, type DerivedDataKey, deriveDataKey, wipeDataKey } from './key-derivation.js';
export {
  DATA_KEY_LENGTH,
  type DataKeyHint,
  type DataKeyMaterial,
  dataKeyMaterial,
  isRewrappingKeyring,
  type Keyring,
  type RewrappingKeyring,
} from './keyring.js';
export { LocalKeyring, type LocalKeyringEnvOptions, type LocalKeyringOptions } from './local-keyring.js';
export { type LocalMasterKey, MASTER_KEY_LENGTH, parseMasterKeys } from './master-keys.js';
export {
  NORMALIZER_NAMES,
  type NormalizerName,
  type NormalizeSpec,
  normalizerOf,
} from './normalizers.js';
export {
  type DecryptedRow,
  type DecryptRowInput,
  type EncryptedRow,
  type EncryptRowInput,
  type ReadMode,
  RowEnvelope,
  type RowEnvelopeOptions,
  type RowValues,
  TABLE_CONTEXT_KEY,
} from './row-envelope.js';
export {
  assertStoredTables,
  isSqlDialect,
  type SqlDialect,
  type SqlExecutor,
  type StoredEncryptedColumn,
  type StoredTable,
} from './stored-tables.js';
export {
  FLAG_BINARY,
  FLAG_ROW_BOUND,
  FORMAT_VERSION,
  isEncryptedValue,
  MIN_BODY_LENGTH,
  type ParsedValue,
  parseValue,
  TAG_LENGTH,
  VALUE_PREFIX,
} from './value-format.js';
