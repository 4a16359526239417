// Benchmark of `fieldseal migrate` on the local PostgreSQL: rows/s and peak RSS migrating the
// table shape of issue 15 — 3 encrypted text columns (email, iban, note) and 1 blind index on
// email, normalized (trim + lowercase) — at 100,000 and 300,000 rows, beside a baseline that runs
// the same engine (keyset batches, guarded batched UPDATEs, lease checkpoints, the final check)
// but rewrites the columns without encrypting them. Each run is its own process so peak RSS is
// its own; `--cpu-prof` profiles the migrate runs (Node's CPU profiler, files in the temp dir).
//   pnpm bench                      # 100k and 300k rows
//   pnpm bench -- --rows 200000     # one size
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CachingKeyring } from '@fieldseal/cache';
import { BlindIndex, LocalKeyring, type StoredTable } from '@fieldseal/core';
import { sqlExecutor } from '@fieldseal/prisma';
import { sqlExecutor as typeormExecutor } from '@fieldseal/typeorm';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { runJob } from '../src/job-runner.js';
import { LeaseTable } from '../src/leases.js';
import { migrate } from '../src/operations.js';
import type { RowWork } from '../src/row-work.js';
import { scanPending } from '../src/run-jobs.js';
import { TableAccess } from '../src/table-access.js';
import { PrismaClient } from '../test/generated/postgresql/client/client.js';

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

/** The benchmark's table: 3 encrypted text columns and a normalized blind index on email. */
const ACCOUNTS = (schema: string): StoredTable => ({
  model: 'Account',
  table: 'accounts',
  schema,
  primaryKey: ['id'],
  dataKeyColumn: 'data_key',
  columns: [
    {
      field: 'email',
      column: 'email',
      output: 'text',
      blindIndex: { field: 'emailHash', column: 'email_hash', normalize: (t) => t.trim().toLowerCase() },
    },
    { field: 'iban', column: 'iban', output: 'text' },
    { field: 'note', column: 'note', output: 'text' },
  ],
});

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
    `CREATE TABLE "${schema}".accounts (id INTEGER PRIMARY KEY, email TEXT NOT NULL, iban TEXT NOT NULL, note TEXT, email_hash TEXT UNIQUE, data_key TEXT)`,
  );
  await admin.query(
    `INSERT INTO "${schema}".accounts (id, email, iban, note) SELECT i, ' Person' || i || '@Example.com', 'DE89' || lpad(i::text, 18, '0'), 'customer since ' || (2000 + i % 25) || ', tier ' || (i % 7) FROM generate_series(1, $1::int) AS i`,
    [rows],
  );
  await admin.query(`VACUUM ANALYZE "${schema}".accounts`);
  const via = (arg('executor') ?? 'prisma') as 'prisma' | 'typeorm';
  const prisma = new PrismaClient({
    adapter: new PrismaPg({ connectionString: PG_URL, max: concurrency + 2 }),
  });
  // The TypeORM executor runs the same SQL through TypeORM query runners on node-postgres.
  const dataSource = new DataSource({ type: 'postgres', url: PG_URL, extra: { max: concurrency + 2 } });
  if (via === 'typeorm') await dataSource.initialize();
  const executor =
    via === 'typeorm' ? typeormExecutor(dataSource) : sqlExecutor(prisma, { dialect: 'postgres' });
  const tables: StoredTable[] = [ACCOUNTS(schema)];
  const keyring = new CachingKeyring(LocalKeyring.fromString(LocalKeyring.generateKeyText('bench')));
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 50);
  const began = performance.now();
  if (mode === 'migrate') {
    const blindIndexKey = await BlindIndex.generateKey(keyring);
    const report = await migrate(
      { executor, tables, keyring, blindIndexKey },
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
      setColumns: ['data_key', 'email', 'iban', 'note', 'email_hash'],
      guardColumns: ['data_key', 'email', 'iban', 'note'],
      async plan(batchRows) {
        const writes = batchRows
          .filter((row) => row.data_key === null)
          .map((row) => ({
            key: row.id,
            set: ['plain', `${row.email}`, `${row.iban}`, `${row.note}`, `h${row.id}`],
            guard: [null, row.email, row.iban, row.note],
          }));
        return { writes, problems: [] };
      },
    };
    const result = await runJob('baseline', access, copy, leases, { batch, concurrency });
    if (result.written !== rows) throw new Error(`wrote ${result.written} of ${rows} rows`);
    // migrate's check after the run: one more keyset scan of the table.
    await scanPending(access, { pending: (_t, row) => row.data_key === null }, 5_000);
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
  const sizes = arg('rows') ? [Number(arg('rows'))] : [100_000, 300_000];
  const profileDir = join(tmpdir(), 'fieldseal-migrate-prof');
  const profile = args.includes('--cpu-prof') ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
  if (profile.length) console.log(`CPU profiles of the migrate runs go to ${profileDir}`);
  const runs: RunResult[] = [];
  for (const rows of sizes) {
    for (const [executor, mode, concurrency] of [
      ['prisma', 'baseline', 1],
      ['prisma', 'migrate', 1],
      ['prisma', 'migrate', 2],
      ['typeorm', 'migrate', 1],
    ] as const) {
      const out = execFileSync(
        process.execPath,
        [
          ...(mode === 'migrate' ? profile : []),
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
