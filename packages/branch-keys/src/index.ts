export {
  BRANCH_KEY_LENGTH,
  deriveWrappingKey,
  ROW_MAC_LABEL,
  rowMac,
  WRAP_LABEL,
  WRAP_SALT_LENGTH,
} from './branch-key-kdf.js';
export { ACTIVE_BRANCH_KEY, BranchKeyKeyring, type BranchKeyKeyringOptions } from './branch-key-keyring.js';
export {
  type BranchKeyCheck,
  type BranchKeyInfo,
  BranchKeyStore,
  type BranchKeyStoreOptions,
  type BranchKeyStoreStats,
  branchKeyContext,
  type ScopeMasterKey,
} from './branch-key-store.js';
export {
  BRANCH_KEY_TABLE,
  type BranchKeyRow,
  type BranchKeyStatus,
  BranchKeyTable,
  branchKeyDdl,
} from './branch-key-table.js';
export { type BranchRef, branchKeyId, parseBranchWrap, wrapDataKey } from './wrapped-data-key.js';
