import { readFile } from 'node:fs/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { FieldsealTarget } from './options.js';
import { writeOutputs } from './output.js';
import { fmt, recommend } from './recommend.js';
import { formatReport } from './report-text.js';
import type { BenchReport } from './results.js';
import { runBench } from './run.js';
import {
  type CacheSetting,
  defaultGrid,
  parseCount,
  parseDuration,
  parseSetting,
  settingsGrid,
} from './settings.js';
import { singleRowCommand } from './single-row/single-row-command.js';
import { formatSingleRowMarkdown } from './single-row/single-row-report.js';
import type { TargetName } from './targets/target.js';
import { formatTenantMarkdown } from './tenants/tenant-report.js';
import { tenantsCommand } from './tenants/tenants-command.js';
import type { WorkloadName } from './workload.js';

interface CliOptions {
  targets: FieldsealTarget[];
  workloads: WorkloadName[];
  setting?: CacheSetting[];
  maxUses?: number[];
  maxAge?: number[];
  capacity?: number[];
  rows?: number;
  duration?: number;
  concurrency?: number;
  writeShare?: number;
  seedRows?: number;
  seedRowsPerKey?: number;
  latency?: number;
  jitter?: number;
  rateLimit?: number;
  maxAttempts?: number;
  peers: boolean;
  out?: string;
  from?: string;
  recommend?: boolean;
  maxKmsCallsPerSecond?: number;
  maxRowsPerKey?: number;
  forTarget: TargetName;
  forWorkload: WorkloadName;
  check?: boolean;
  progress: boolean;
  singleRow?: boolean;
  tenants?: boolean;
}

const list =
  <T extends string>(allowed: readonly T[]) =>
  (value: string): T[] => {
    const items = value.split(',').map((item) => item.trim()) as T[];
    for (const item of items)
      if (!allowed.includes(item)) throw new InvalidArgumentError(`expected some of ${allowed.join(', ')}`);
    return items;
  };
const whole = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number');
  return n;
};
const positive = (value: string) => {
  const n = Number(value);
  if (!(n > 0)) throw new InvalidArgumentError('expected a positive number');
  return n;
};
const wrap =
  <T>(parse: (text: string, option: string) => T) =>
  (text: string) => {
    try {
      return parse(text, 'value');
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message);
    }
  };
const collect = (value: string, previous: CacheSetting[] = []) => [...previous, wrap(parseSetting)(value)];
const counts = (value: string) => value.split(',').map((v) => wrap(parseCount)(v));
const durations = (value: string) => value.split(',').map((v) => wrap(parseDuration)(v));

/**
 * The `bench` command (commander 14): `fieldseal bench` in the CLI, `fieldseal-bench` on its own.
 * Runs the grid, prints the tables, writes JSON and charts, and answers `--recommend`.
 *
 * @example
 * program.addCommand(benchCommand()); // fieldseal bench --recommend --max-kms-calls-per-second 10
 */
export function benchCommand(): Command {
  return (
    new Command('bench')
      .enablePositionalOptions()
      // The AWS SDK warns once per process that its 2027 releases need Node 22: noise in a report.
      .hook('preAction', () => {
        process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
      })
      .description(
        'measure the data-key cache against a simulated KMS (latency, jitter, quota): rows/s, p50/p99, KMS calls and rows per data key for a grid of cache settings; table, JSON and charts',
      )
      .option('--targets <list>', 'core,prisma,typeorm', list(['core', 'prisma', 'typeorm'] as const), [
        'core',
        'prisma',
        'typeorm',
      ])
      .option('--workloads <list>', 'encrypt,decrypt,mixed', list(['encrypt', 'decrypt', 'mixed'] as const), [
        'encrypt',
        'decrypt',
        'mixed',
      ])
      .option('--setting <spec>', 'a grid point: off | maxUses=…,maxAge=…,capacity=… (repeatable)', collect)
      .option(
        '--max-uses <list>',
        'grid of maxUses values, e.g. 100,10k (crossed with --max-age, --capacity)',
        counts,
      )
      .option('--max-age <list>', 'grid of maxAge values, e.g. 1s,5m', durations)
      .option('--capacity <list>', 'grid of capacity values, e.g. 10,1000', counts)
      .option('--rows <n>', 'most operations per run (default 20000)', whole)
      .option('--duration <ms>', 'most milliseconds per run (default 1500)', whole)
      .option('--concurrency <n>', 'operations in flight (default 8)', whole)
      .option('--write-share <0-1>', 'share of writes in the mixed workload (default 0.5)', Number)
      .option('--seed-rows <n>', 'rows written before the read workloads (default 2000)', whole)
      .option('--seed-rows-per-key <n>', 'rows per data key in the seeded rows (default 50)', whole)
      .option('--latency <ms>', 'KMS latency added per request (default 5)', whole)
      .option('--jitter <ms>', 'up to this much more, random (default 10)', whole)
      .option(
        '--rate-limit <n>',
        'KMS requests per second before ThrottlingException, 0 = none (default 200)',
        whole,
      )
      .option('--max-attempts <n>', "AWS SDK attempts per call (default 3, the SDK's)", whole)
      .option('--no-peers', 'skip plain Prisma/TypeORM and the AWS Encryption SDK')
      .option('--out <dir>', 'write bench.json, bench.md and charts (SVG, PNG when possible) here')
      .option('--from <file>', 'read a bench.json instead of running (for --recommend, tables, charts)')
      .option('--recommend', 'print the settings meeting the target below with the best throughput, and why')
      .option('--max-kms-calls-per-second <n>', 'target for --recommend', positive)
      .option('--max-rows-per-key <n>', 'target for --recommend', wrap(parseCount))
      .addOption(
        new Option('--for-target <name>', 'target --recommend looks at')
          .choices(['core', 'prisma', 'typeorm'])
          .default('core'),
      )
      .addOption(
        new Option('--for-workload <name>', 'workload --recommend looks at')
          .choices(['encrypt', 'decrypt', 'mixed'])
          .default('encrypt'),
      )
      .option(
        '--check',
        'exit with status 1 unless the cached setting is ≥ 50× no cache with ≤ 1 KMS call / 1,000 rows',
      )
      .option('--no-progress', 'no progress line on stderr')
      .option(
        '--single-row',
        'also run the single-row suite (see `bench single-row`, defaults) and add its tables and chart',
      )
      .option(
        '--tenants',
        'also run the tenant KMS-call comparison (see `bench tenants`, defaults: 8 processes, 100 tenants) and add its table and chart',
      )
      .addCommand(singleRowCommand())
      .addCommand(tenantsCommand())
      .action(async (options: CliOptions, command: Command) => {
        if (
          options.recommend &&
          options.maxKmsCallsPerSecond === undefined &&
          options.maxRowsPerKey === undefined
        )
          command.error('--recommend needs --max-kms-calls-per-second and/or --max-rows-per-key');
        let report = options.from ? await readReport(options.from) : await run(options);
        if (options.singleRow && !options.from) {
          const { runSingleRow } = await import('./single-row/run-single-row.js');
          report = {
            ...report,
            singleRow: await runSingleRow(
              options.progress ? { onProgress: (m) => process.stderr.write(`[single-row] ${m}\n`) } : {},
            ),
          };
        }
        if (options.tenants && !options.from) {
          const { runTenantBench } = await import('./tenants/run-tenant-bench.js');
          report = {
            ...report,
            tenants: await runTenantBench(
              options.progress ? { onProgress: (m) => process.stderr.write(`[tenants] ${m}\n`) } : {},
            ),
          };
        }
        console.log(formatReport(report));
        if (report.singleRow) console.log(`\n${formatSingleRowMarkdown(report.singleRow)}`);
        if (report.tenants) console.log(`\n${formatTenantMarkdown(report.tenants)}`);
        if (options.out) {
          const files = await writeOutputs(report, options.out);
          console.log(`\nWrote ${[files.json, files.markdown, ...files.svg, ...files.png].join(', ')}`);
          if (files.png.length === 0) console.log('(no PNG: @resvg/resvg-js is not installed)');
        }
        if (options.recommend) {
          const found = recommend(
            report.results,
            {
              ...(options.maxKmsCallsPerSecond === undefined
                ? {}
                : { maxKmsCallsPerSecond: options.maxKmsCallsPerSecond }),
              ...(options.maxRowsPerKey === undefined ? {} : { maxRowsPerKey: options.maxRowsPerKey }),
            },
            { target: options.forTarget, workload: options.forWorkload },
          );
          console.log(`\nRecommendation\n${found.explanation.join('\n')}`);
          if (!found.best) process.exitCode = 1;
        }
        if (options.check && !report.checks.some((c) => c.target === 'core' && c.passed)) {
          console.error(
            `\nCheck failed: ${report.checks.map((c) => `${c.target} ${fmt(c.ratio)}×`).join(', ') || 'not run'}`,
          );
          process.exitCode = 1;
        }
      })
  );
}

async function run(options: CliOptions): Promise<BenchReport> {
  const grid =
    options.setting ??
    (options.maxUses || options.maxAge || options.capacity
      ? settingsGrid({
          ...(options.maxUses ? { maxUses: options.maxUses } : {}),
          ...(options.maxAge ? { maxAge: options.maxAge } : {}),
          ...(options.capacity ? { capacity: options.capacity } : {}),
        })
      : defaultGrid());
  const tty = process.stderr.isTTY === true;
  let last = 0;
  let lastLabel = '';
  const report = await runBench({
    targets: options.targets,
    workloads: options.workloads,
    settings: grid,
    ...defined({
      rows: options.rows,
      maxDurationMs: options.duration,
      concurrency: options.concurrency,
      writeShare: options.writeShare,
      seedRows: options.seedRows,
      seedRowsPerKey: options.seedRowsPerKey,
    }),
    kms: defined({
      latencyMs: options.latency,
      jitterMs: options.jitter,
      rateLimit: options.rateLimit,
      maxAttempts: options.maxAttempts,
    }),
    peers: options.peers,
    ...(options.progress
      ? {
          onProgress: ({ run, runs, label, done, rows }) => {
            // A TTY gets one line redrawn at most 10 times a second; a log gets one line per run.
            if (tty) {
              const now = Date.now();
              if (now - last < 100 && label === lastLabel) return;
              last = now;
              lastLabel = label;
              process.stderr.write(`\r\x1b[K[${run + 1}/${runs}] ${label}: ${done}/${rows}`);
            } else if (label !== lastLabel) {
              lastLabel = label;
              process.stderr.write(`[${run + 1}/${runs}] ${label}\n`);
            }
          },
        }
      : {}),
  });
  if (options.progress && tty) process.stderr.write('\r\x1b[K');
  return report;
}

async function readReport(file: string): Promise<BenchReport> {
  return JSON.parse(await readFile(file, 'utf8')) as BenchReport;
}

function defined<T extends object>(values: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as never;
}
