export { buildAad, type ValuePlace } from './aad.js';
export { BLIND_INDEX_CONTEXT, BlindIndex, type BlindIndexOptions } from './blind-index.js';
export { fromBase64, fromBase64Url, toBase64Url } from './bytes.js';
export { DATA_KEY_PREFIX, formatDataKey, parseDataKey, type StoredDataKey } from './data-key-format.js';
export {
  assertBlindIndexKey,
  envelopeFor,
  type FieldEncryptionBaseOptions,
  openBlindIndex,
} from './encryption-options.js';
export { assertEncryptionContext, canonicalContext, type EncryptionContext } from './encryption-context.js';
export {
  ConfigError,
  describeLocation,
  DecryptionError,
  type DecryptionErrorCode,
  EncryptionError,
  type EncryptionErrorCode,
  type ErrorLocation,
  FieldsealError,
  type FieldsealErrorOptions,
  FIELDSEAL_ERROR_BRAND,
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
export { GUARD_NAME_LIMIT, GUARD_PREFIX, guardName } from './guards/guard-names.js';
export {
  type ColumnGuard,
  existingGuardsSql,
  type GuardInstallSql,
  type GuardKind,
  type GuardOptions,
  type GuardPlace,
  guardClause,
  guardInstallSql,
  guardPlaces,
  guardRemoveSql,
  guardViolationsSql,
  type TableGuards,
  tableGuards,
} from './guards/guard-sql.js';
export {
  GuardViolationError,
  guardViolationOf,
  isGuardViolationError,
} from './guards/guard-violation-error.js';
export {
  rebuildTableName,
  type SqliteRebuild,
  sqliteGuardNames,
  sqliteRebuild,
  sqliteRebuildScript,
  type SqliteTableSchema,
} from './guards/sqlite-rebuild.js';
export { runSqliteRebuild, sqliteInstalled, sqliteSchemaOf } from './guards/sqlite-runner.js';
export { IV_LENGTH } from './iv-source.js';
export { COMMITMENT_LENGTH, type DerivedDataKey, deriveDataKey, wipeDataKey } from './key-derivation.js';
export {
  DATA_KEY_LENGTH,
  type DataKeyHint,
  type DataKeyMaterial,
  isRewrappingKeyring,
  type Keyring,
  type RewrappingKeyring,
} from './keyring.js';
export { LocalKeyring, type LocalKeyringOptions } from './local-keyring.js';
export {
  NORMALIZER_NAMES,
  type NormalizerName,
  type NormalizeSpec,
  normalizerOf,
} from './normalizers.js';
export { type LocalMasterKey, MASTER_KEY_LENGTH, parseMasterKeys } from './master-keys.js';
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
export {
  assertStoredTables,
  isSqlDialect,
  type SqlDialect,
  type SqlExecutor,
  type StoredEncryptedColumn,
  type StoredTable,
} from './stored-tables.js';
