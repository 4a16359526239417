import type { BenchOptions } from './options.js';
import type { BenchReport } from './results.js';

/**
 * Runs every workload × cache setting on every target against an in-process kms-local with the
 * profile's latency, jitter and quota, plus the peers (plain Prisma/TypeORM, the AWS Encryption
 * SDK), and returns the report; prints nothing. The ORMs, Prisma Client and the ESDK load on the
 * first call, so importing this package (e.g. for `benchCommand()`) stays cheap.
 *
 * @example
 * const report = await runBench({ targets: ['core'], workloads: ['encrypt'], rows: 5_000 });
 * console.log(formatReport(report), report.checks);
 */
export async function runBench(options: BenchOptions = {}): Promise<BenchReport> {
  const { runBenchNow } = await import('./run-bench.js');
  return runBenchNow(options);
}
