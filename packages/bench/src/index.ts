export { chartSvg, svgToPng } from './chart.js';
export { CHECK_MAX_CALLS_PER_1K, CHECK_MIN_RATIO, CHECKED_SETTING } from './check.js';
export { benchCommand } from './cli.js';
export { BenchError, type BenchErrorCode } from './errors.js';
export type { KmsProfile } from './kms-env.js';
export type { BenchOptions, BenchProgress, FieldsealTarget } from './options.js';
export { type WrittenFiles, writeOutputs, writeSingleRowOutputs, writeTenantOutputs } from './output.js';
export {
  fmt,
  type Recommendation,
  type RecommendGoal,
  recommend,
  rowsPerKeyBound,
  steadyKmsCallsPerSecond,
} from './recommend.js';
export { formatMarkdown, formatReport } from './report-text.js';
export type { BenchReport, BenchResult, CheckResult, PeerRatio } from './results.js';
export { runBench } from './run.js';
export {
  CACHE_DEFAULTS,
  CACHE_OFF,
  type CacheBounds,
  type CacheSetting,
  cacheSetting,
  defaultGrid,
  GUIDE_SETTINGS,
  parseSetting,
  settingsGrid,
} from './settings.js';
export { singleRowChartSvg } from './single-row/single-row-chart.js';
// Single-row suite: its runner is loaded by `bench single-row` on demand (the peers it compares
// against are loaded with it); the report, tables and chart are plain functions.
export { singleRowCommand } from './single-row/single-row-command.js';
export {
  formatSingleRowMarkdown,
  SINGLE_ROW_TARGETS,
  singleRowVerdicts,
  type TargetVerdict,
} from './single-row/single-row-report.js';
export type {
  OpResult,
  SingleRowOptions,
  SingleRowReport,
  SingleRowResult,
} from './single-row/single-row-results.js';
export type { TargetName } from './targets/target.js';
export {
  runTenantBench,
  type TenantBenchOptions,
  type TenantBenchReport,
  type TenantBenchResult,
} from './tenants/run-tenant-bench.js';
export { formatTenantMarkdown, tenantChartSvg } from './tenants/tenant-report.js';
export { TENANT_SETTING_NAMES, TENANT_SETTINGS, type TenantSetting } from './tenants/tenant-settings.js';
export { tenantsCommand } from './tenants/tenants-command.js';
export { WORKLOADS, type WorkloadName } from './workload.js';
