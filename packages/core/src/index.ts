export { buildAad, type ValuePlace } from './aad.js';
export { BLIND_INDEX_CONTEXT, BlindIndex, type BlindIndexOptions } from './blind-index.js';
export { fromBase64, fromBase64Url, toBase64Url } from './bytes.js';
export {
  DATA_KEY_PREFIX,
  DATA_KEY_PREFIX_V2,
  formatDataKey,
  formatRowDataKey,
  KEY_IDENTITY_LENGTH,
  newRowSalt,
  parseDataKey,
  parseWrapped,
  rewrapRowDataKey,
  type StoredDataKey,
  splitDataKey,
  type WrappedDataKey,
  wrappedPartOf,
} from './data-key-format.js';
export { assertEncryptionContext, canonicalContext, type EncryptionContext } from './encryption-context.js';
export {
  assertEncryptionNames,
  type EncryptionNames,
  encryptionNameOf,
  NamedRowEnvelope,
} from './encryption-names.js';
export {
  assertBlindIndexKey,
  envelopeFor,
  type FieldEncryptionBaseOptions,
  openBlindIndex,
} from './encryption-options.js';
export {
  CommittedWriteResultError,
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
  isCommittedWriteResultError,
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
export {
  decryptValue,
  decryptValueWith,
  type EncryptValueOptions,
  encryptValue,
  type PlaintextValue,
} from './field-cipher.js';
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
  type SqliteTableSchema,
  sqliteGuardNames,
  sqliteRebuild,
  sqliteRebuildScript,
} from './guards/sqlite-rebuild.js';
export { runSqliteRebuild, sqliteInstalled, sqliteSchemaOf } from './guards/sqlite-runner.js';
export { IV_LENGTH } from './iv-source.js';
export {
  COMMITMENT_LENGTH,
  type DerivedDataKey,
  deriveDataKey,
  deriveRowKey,
  ROW_SALT_LENGTH,
  wipeDataKey,
} from './key-derivation.js';
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
export { type RebindRowInput, type ReboundRow, rebindRow } from './rebind.js';
export {
  type DecryptedRow,
  type DecryptRowInput,
  type EncryptedRow,
  type EncryptedRowWrite,
  type EncryptRowInput,
  type ReadMode,
  RowEnvelope,
  type RowEnvelopeOptions,
  type RowValues,
  TABLE_CONTEXT_KEY,
  TENANT_CONTEXT_KEY,
} from './row-envelope.js';
export type {
  GuardedRowWrite,
  RowKeyGuard,
  RowKeyPort,
  RowKeyRead,
  WriteToRowsInput,
  WriteToRowsResult,
} from './row-protocol.js';
export type { RewriteRowsInput, RewriteRowsResult, RowRewritePort } from './row-rewrite.js';
export { rewriteRows } from './row-rewrite.js';
export {
  assertStoredTables,
  bindingOf,
  isSqlDialect,
  type SqlDialect,
  type SqlExecutor,
  type StoredEncryptedColumn,
  type StoredTable,
} from './stored-tables.js';
export {
  decodeValue,
  type EncryptedValueType,
  encodeValue,
  isValueType,
  ValueTypeMismatch,
  valueTypeFromDesign,
} from './value-codec.js';
export {
  COMMITMENT_LENGTHS,
  FLAG_BINARY,
  FLAG_ROW_BOUND,
  FLAG_SCOPED,
  FORMAT_VERSION,
  type FormatVersion,
  isEncryptedValue,
  MIN_BODY_LENGTH,
  MIN_BODY_LENGTHS,
  type ParsedValue,
  parseValue,
  TAG_LENGTH,
  VALUE_PREFIX,
  VALUE_PREFIX_V1,
  valueVersion,
} from './value-format.js';
