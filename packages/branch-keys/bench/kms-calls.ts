/**
 * KMS calls of the key hierarchy against per-row KMS and CachingKeyring, in one run: 8 processes
 * (app instances) write rows for 100 tenants into one PostgreSQL schema through the real AWS SDK
 * against kms-local, then one fresh process reads every row back. KMS calls are counted by
 * kms-local's own stats. Writes docs/images/tenants-kms-calls.svg and prints a Markdown table.
 *   pnpm --filter @fieldseal/branch-keys bench [rowsPerProcess=1000] [processes=8] [tenants=100]
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { startKmsServer } from '@fieldseal/kms-local';
import pg from 'pg';
import type { Setting } from './kms-calls-worker.js';

const [rowsPerProcess = 1000, processes = 8, tenants = 100] = process.argv.slice(2).map(Number);
const PG_URL = process.env.FIELDSEAL_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
const worker = fileURLToPath(new URL('./kms-calls-worker.ts', import.meta.url));
const SETTINGS: readonly Setting[] = ['per-row', 'caching', 'branch-tenant', 'branch-global'];
const NAMES: Record<Setting, string> = {
  'per-row': 'per-row KMS (no cache)',
  caching: 'CachingKeyring (defaults)',
  'branch-tenant': 'branch keys, one per tenant',
  'branch-global': 'branch keys, one global',
};

function run(options: object): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', worker, JSON.stringify(options)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`worker exited ${code}`))));
  });
}

const server = await startKmsServer({ port: 0, warn: () => {} });
const client = new KMSClient(server.clientConfig);
const keyArn = (await client.send(new CreateKeyCommand({}))).KeyMetadata?.Arn as string;
const admin = new pg.Pool({ connectionString: PG_URL, max: 1 });
const results: { setting: Setting; write: number; read: number }[] = [];
try {
  for (const setting of SETTINGS) {
    const schema = `fs_bench_${randomBytes(4).toString('hex')}`;
    await admin.query(`CREATE SCHEMA "${schema}"`);
    await admin.query(
      `CREATE TABLE "${schema}".bench_rows (id TEXT PRIMARY KEY, tenant TEXT NOT NULL, memo TEXT, data_key TEXT)`,
    );
    await admin.query(
      `CREATE TABLE "${schema}".fieldseal_branch_keys (scope TEXT NOT NULL, version INTEGER NOT NULL, status TEXT NOT NULL, key_id TEXT NOT NULL, wrapped_key TEXT, created_at TEXT NOT NULL, mac TEXT, PRIMARY KEY (scope, version))`,
    );
    const base = { setting, endpoint: server.endpoint, keyArn, schema, rows: rowsPerProcess, tenants };
    server.reset();
    await Promise.all(
      Array.from({ length: processes }, (_, w) => run({ ...base, mode: 'write', worker: w })),
    );
    const write = server.stats().total;
    server.reset();
    await run({ ...base, mode: 'read', worker: 0 });
    const read = server.stats().total;
    results.push({ setting, write, read });
    await admin.query(`DROP SCHEMA "${schema}" CASCADE`);
    console.error(`${setting}: ${write} KMS calls writing, ${read} reading`);
  }
} finally {
  await admin.end();
  client.destroy();
  await server.close();
}

const rows = processes * rowsPerProcess;
const per1000 = (n: number) => ((n / rows) * 1000).toFixed(n / rows < 0.01 ? 2 : 1);
console.log(
  `\n${processes} processes × ${rowsPerProcess} rows = ${rows} rows, ${tenants} tenants; KMS calls counted by kms-local\n`,
);
console.log(
  '| setting | KMS calls, writing | per 1,000 rows | per instance | KMS calls, reading all rows (1 process) |',
);
console.log('|---|---:|---:|---:|---:|');
for (const r of results)
  console.log(
    `| ${NAMES[r.setting]} | ${r.write} | ${per1000(r.write)} | ${(r.write / processes).toFixed(1)} | ${r.read} |`,
  );

// A log-scale bar chart of KMS calls (writing and reading) per setting.
const W = 760;
const barH = 18;
const left = 230;
const max = Math.max(...results.flatMap((r) => [r.write, r.read]), 10);
const x = (n: number) => (Math.log10(Math.max(n, 1)) / Math.log10(max)) * (W - left - 80);
const bars = results
  .map((r, i) => {
    const y = 40 + i * (barH * 2 + 14);
    return [
      `<text x="${left - 8}" y="${y + barH}" text-anchor="end" font-size="13">${NAMES[r.setting]}</text>`,
      `<rect x="${left}" y="${y}" width="${x(r.write)}" height="${barH - 2}" fill="#1f77b4"/>`,
      `<text x="${left + x(r.write) + 4}" y="${y + 13}" font-size="12">${r.write} writing</text>`,
      `<rect x="${left}" y="${y + barH}" width="${x(r.read)}" height="${barH - 2}" fill="#ff7f0e"/>`,
      `<text x="${left + x(r.read) + 4}" y="${y + barH + 13}" font-size="12">${r.read} reading</text>`,
    ].join('');
  })
  .join('');
const height = 60 + results.length * (barH * 2 + 14);
const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" font-family="sans-serif"><rect width="100%" height="100%" fill="white"/><text x="10" y="22" font-size="15">KMS calls (log scale): ${processes} processes write ${rows} rows for ${tenants} tenants, then 1 process reads them</text>${bars}</svg>`;
const out = fileURLToPath(new URL('../../../docs/images/tenants-kms-calls.svg', import.meta.url));
writeFileSync(out, `${svg}\n`);
console.log(`\nchart: ${out}`);
