export { CachingKeyring } from './caching-keyring.js';
export type { CacheEvent, CacheSide, CacheStats, EvictionReason } from './events.js';
export { type CachingKeyringOptions, GCM_ENCRYPTION_LIMIT } from './options.js';
