export { KmsLocalConfigError } from './config-error.js';
export type { FailNext, FaultSettings } from './faults.js';
export type { KmsPolicy, PolicyStatement } from './policy.js';
export type { KmsSeed, SeedKey } from './seed.js';
export { BANNER, type KmsServer, type KmsServerOptions, startKmsServer } from './server.js';
export type { KmsServerStats } from './stats.js';
