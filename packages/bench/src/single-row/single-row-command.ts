import { readFile } from 'node:fs/promises';
import { Command, InvalidArgumentError } from 'commander';
import { BenchError } from '../errors.js';
import { writeSingleRowOutputs } from '../output.js';
import type { Dialect, Orm } from './single-row-case.js';
import { formatSingleRowMarkdown, singleRowVerdicts } from './single-row-report.js';
import type { SingleRowReport } from './single-row-results.js';

interface SingleRowCliOptions {
  dialects: Dialect[];
  orms: Orm[];
  iterations: number;
  rounds: number;
  pgUrl?: string;
  out?: string;
  from?: string;
  check?: boolean;
  progress: boolean;
}

const list =
  <T extends string>(allowed: readonly T[]) =>
  (value: string): T[] => {
    const items = value.split(',').map((item) => item.trim()) as T[];
    for (const item of items)
      if (!allowed.includes(item)) throw new InvalidArgumentError(`expected some of ${allowed.join(', ')}`);
    return items;
  };
const positive = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number ≥ 1');
  return n;
};

/**
 * `bench single-row`: one-row operations through TypeORM and Prisma on PostgreSQL and SQLite,
 * plain ORM vs fieldseal vs the static-key peer in one run; p50/p99, ratio to plain, statements
 * and round trips per op. Writes `single-row.json`, `single-row.md` and a chart with `--out`.
 */
export function singleRowCommand(): Command {
  return new Command('single-row')
    .description(
      'time insert / find by id / find by blind index / update encrypted / update plain / delete of one row: plain ORM, fieldseal and the static-key peer, PostgreSQL and SQLite',
    )
    .option('--dialects <list>', 'postgres,sqlite', list(['postgres', 'sqlite'] as const), [
      'postgres',
      'sqlite',
    ])
    .option('--orms <list>', 'typeorm,prisma', list(['typeorm', 'prisma'] as const), ['typeorm', 'prisma'])
    .option('--iterations <n>', 'iterations (each runs every op once) per case per round', positive, 100)
    .option('--rounds <n>', 'measured rounds after one warm-up round', positive, 5)
    .option(
      '--pg-url <url>',
      'PostgreSQL server (default FIELDSEAL_PG_URL or postgres://postgres@127.0.0.1:5432/test)',
    )
    .option('--out <dir>', 'write single-row.json, single-row.md and bench-single-row.svg (and .png) here')
    .option('--from <file>', 'read a single-row.json instead of running')
    .option('--check', 'exit with status 1 when a PostgreSQL target is missed')
    .option('--no-progress', 'no progress lines on stderr')
    .action(async (options: SingleRowCliOptions) => {
      let report: SingleRowReport;
      if (options.from) report = JSON.parse(await readFile(options.from, 'utf8')) as SingleRowReport;
      else {
        // Loaded here: the peers and the generated clients are needed by this command only.
        const { runSingleRow } = await loadRunner();
        report = await runSingleRow({
          dialects: options.dialects,
          orms: options.orms,
          iterations: options.iterations,
          rounds: options.rounds,
          ...(options.pgUrl ? { pgUrl: options.pgUrl } : {}),
          ...(options.progress ? { onProgress: (m: string) => process.stderr.write(`${m}\n`) } : {}),
        });
      }
      console.log(formatSingleRowMarkdown(report));
      if (options.out) {
        const files = await writeSingleRowOutputs(report, options.out);
        console.log(`Wrote ${[files.json, files.markdown, ...files.svg, ...files.png].join(', ')}`);
      }
      const missed = singleRowVerdicts(report).filter((v) => v.dialect === 'postgres' && !v.met);
      if (options.check && missed.length > 0) {
        console.error(`Targets missed on PostgreSQL: ${missed.map((v) => `${v.orm} ${v.op}`).join(', ')}`);
        process.exitCode = 1;
      }
    });
}

/**
 * The runner, loaded on demand. The peers it compares against are development dependencies of this
 * package: an install without them gets a message saying what to add, not a bare module error.
 */
async function loadRunner(): Promise<typeof import('./run-single-row.js')> {
  try {
    return await import('./run-single-row.js');
  } catch (error) {
    const missing = /Cannot find (?:package|module) '([^']+)'/.exec(String((error as Error)?.message))?.[1];
    if (!missing) throw error;
    throw new BenchError(
      'missing-dependency',
      `bench single-row needs ${missing} (it compares fieldseal with typeorm-encrypted and prisma-field-encryption on pg and better-sqlite3): npm install -D typeorm-encrypted prisma-field-encryption pg @prisma/adapter-pg`,
    );
  }
}
