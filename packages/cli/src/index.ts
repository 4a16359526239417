export {
  defineConfig,
  type FieldsealConfig,
  type FieldsealConfigInput,
  selectTables,
  validateConfig,
} from './config.js';
export { CliError, type CliErrorCode, EXIT, exitCodeOf } from './errors.js';
export {
  type GuardChangeReport,
  type GuardTableStatus,
  type GuardViolations,
  guardSql,
  guardStatus,
  installGuards,
  removeGuards,
} from './guards.js';
export { CONFIG_FILES, findConfig, loadConfig } from './load-config.js';
export { main } from './main.js';
export {
  type JobOptions,
  type JobReport,
  migrate,
  type RowProblem,
  rotate,
  status,
  upgrade,
  type VerifyOptions,
  type VerifyReport,
  verify,
} from './operations.js';
export { type RebindOptions, type RebindReport, rebind } from './rebind.js';
export type { StatusResult, VerifyResult } from './verify.js';
