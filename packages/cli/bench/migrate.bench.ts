// Benchmark of `fieldseal migrate` on the local PostgreSQL: rows/s and peak RSS migrating a
// table with two encrypted columns, at 100,000 and 1,000,000 rows, beside a baseline that runs
// the same engine (keyset batches, guarded batched UPDATEs, lease checkpoints) but rewrites the
// columns without encrypting them. Each run is its own process so peak RSS is its own.
//   pnpm bench                      # 100k and 1M rows
//   pnpm bench -- --rows 200000     # one size
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { CachingKeyring } from '@fieldseal/cache';
import { LocalKeyring, type StoredTable } from '@fieldseal/core';
import { sqlExecutor, storedTables } from '@fieldseal/prisma';
import { sqlExecutor as typeormExecutor } from '@fieldseal/typeorm';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { runJob } from '../src/job-runner.js';
import { LeaseTable } from '../src/leases.js';
import { migrate } from '../src/operations.js';
import type { RowWork } from '../src/row-work.js';
import { TableAccess } from '../src/table-access.js';
import { PrismaClient } from '../test/generated/postgresql/client/client.js';
import { fieldEncryptionMetadata } from '../test/generated/sqlite/fieldseal/metadata.js';

const PG_URL = process.env.FIELDSEAL_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
const args = process.argv.slice(2);
const arg = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};

// Enough chunks for --concurrency to have work in parallel, few enough to plan in no time.
const CHUNK_ROWS = 20_000;

interface RunResult {
  executor: string;
  mode: string;
  rows: number;
  concurrency: number;
  batch: number;
  seconds: number;
  rowsPerSecond: number;
  peakRssMb: number;
}

/** One measured run, in this process (the child). */
async function child(): Promise<void> {
  const rows = Number(arg('rows'));
  const mode = arg('mode') as 'migrate' | 'baseline';
  const concurrency = Number(arg('concurrency') ?? 2);
  const batch = Number(arg('batch') ?? 2000);
  const schema = `fs_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Pool({ connectionString: PG_URL, max: 1 });
  await admin.query(`CREATE SCHEMA "${schema}"`);
  await admin.query(
    `CREATE TABLE "${schema}".bench_rows (id INTEGER PRIMARY KEY, a TEXT NOT NULL, b TEXT NOT NULL, "dataKey" TEXT)`,
  );
  await admin.query(
    `INSERT INTO "${schema}".bench_rows (id, a, b) SELECT i, 'person' || i || '@example.com', 'AB-' || lpad(i::text, 9, '0') || '-secret' FROM generate_series(1, $1::int) AS i`,
    [rows],
  );
  await admin.query(`VACUUM ANALYZE "${schema}".bench_rows`);
  const via = (arg('executor') ?? 'prisma') as 'prisma' | 'typeorm';
  const prisma = new PrismaClient({
    adapter: new PrismaPg({ connectionString: PG_URL, max: concurrency + 2 }),
  });
  // The TypeORM executor runs the same SQL through TypeORM query runners on node-postgres.
  const dataSource = new DataSource({ type: 'postgres', url: PG_URL, extra: { max: concurrency + 2 } });
  if (via === 'typeorm') await dataSource.initialize();
  const executor =
    via === 'typeorm' ? typeormExecutor(dataSource) : sqlExecutor(prisma, { dialect: 'postgres' });
  const tables = storedTables(fieldEncryptionMetadata, { schema }).filter((t) => t.model === 'BenchRow');
  const keyring = new CachingKeyring(LocalKeyring.fromString(LocalKeyring.generateKeyText('bench')));
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 50);
  const began = performance.now();
  if (mode === 'migrate') {
    const report = await migrate(
      { executor, tables, keyring },
      { batch, concurrency, chunkRows: CHUNK_ROWS },
    );
    if (report.totals.written !== rows) throw new Error(`wrote ${report.totals.written} of ${rows} rows`);
  } else {
    const access = new TableAccess(executor, tables[0] as StoredTable);
    await access.check();
    const leases = new LeaseTable(executor, {
      name: 'fieldseal_leases',
      schema,
      leaseMs: 60_000,
      chunkRows: CHUNK_ROWS,
    });
    await leases.ensure();
    // The same reads, guarded batched writes and checkpoints; the values are copied, not encrypted.
    const copy: RowWork = {
      keysOnly: false,
      setColumns: ['dataKey', 'a', 'b'],
      guardColumns: ['dataKey', 'a', 'b'],
      async plan(batchRows) {
        const writes = batchRows
          .filter((row) => row.dataKey === null)
          .map((row) => ({
            key: row.id,
            set: ['plain', `${row.a}`, `${row.b}`],
            guard: [null, row.a, row.b],
          }));
        return { writes, problems: [] };
      },
    };
    const result = await runJob('baseline', access, copy, leases, { batch, concurrency });
    if (result.written !== rows) throw new Error(`wrote ${result.written} of ${rows} rows`);
  }
  const seconds = (performance.now() - began) / 1000;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  await prisma.$disconnect();
  if (dataSource.isInitialized) await dataSource.destroy();
  await admin.query(`DROP SCHEMA "${schema}" CASCADE`);
  await admin.end();
  const result: RunResult = {
    executor: via,
    mode,
    rows,
    concurrency,
    batch,
    seconds: Math.round(seconds * 10) / 10,
    rowsPerSecond: Math.round(rows / seconds),
    peakRssMb: Math.round(peak / 1024 / 1024),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** Runs every configuration in its own process and prints a table. */
function parent(): void {
  const sizes = arg('rows') ? [Number(arg('rows'))] : [100_000, 1_000_000];
  const runs: RunResult[] = [];
  for (const rows of sizes) {
    for (const [executor, mode, concurrency] of [
      ['typeorm', 'baseline', 2],
      ['typeorm', 'migrate', 1],
      ['typeorm', 'migrate', 2],
      ['prisma', 'baseline', 2],
      ['prisma', 'migrate', 2],
    ] as const) {
      const out = execFileSync(
        process.execPath,
        [
          '--import',
          'tsx',
          fileURLToPath(import.meta.url),
          '--child',
          '--rows',
          String(rows),
          '--mode',
          mode,
          '--concurrency',
          String(concurrency),
          '--executor',
          executor,
        ],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
      );
      const result = JSON.parse(out.trim().split('\n').at(-1) as string) as RunResult;
      runs.push(result);
      console.log(
        `${result.executor.padEnd(7)} ${result.mode.padEnd(8)} rows=${String(result.rows).padStart(8)} concurrency=${result.concurrency} batch=${result.batch}  ${String(result.rowsPerSecond).padStart(7)} rows/s  ${String(result.seconds).padStart(6)} s  peak RSS ${result.peakRssMb} MB`,
      );
    }
  }
}

if (args.includes('--child')) await child();
else parent();
