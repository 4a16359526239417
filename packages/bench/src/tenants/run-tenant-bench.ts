import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { branchKeyDdl } from '@fieldseal/branch-keys';
import { startKmsServer } from '@fieldseal/kms-local';
import { BenchError } from '../errors.js';
import { DEFAULT_PG_URL, postgresDatabase } from '../single-row/databases.js';
import { TENANT_SETTINGS, type TenantSetting } from './tenant-settings.js';
import type { WorkerOptions } from './tenant-worker.js';

/** Options of {@link runTenantBench}. */
export interface TenantBenchOptions {
  /** App instances writing at once. Defaults to 8. */
  readonly processes?: number;
  /** Rows each instance writes. Defaults to 1,000. */
  readonly rowsPerProcess?: number;
  /** Tenants the rows are spread over. Defaults to 100. */
  readonly tenants?: number;
  /** Settings to run, in order. Defaults to all four. */
  readonly settings?: readonly TenantSetting[];
  /** PostgreSQL server; a throwaway database is made on it per setting. Defaults to FIELDSEAL_PG_URL or the local one. */
  readonly pgUrl?: string;
  readonly onProgress?: (message: string) => void;
}

/** KMS calls of one setting, counted by kms-local. */
export interface TenantBenchResult {
  readonly setting: TenantSetting;
  /** KMS calls while every instance wrote its rows. */
  readonly writeCalls: number;
  /** KMS calls of one fresh instance reading every row back (each plaintext checked). */
  readonly readCalls: number;
  readonly writeCallsPer1000Rows: number;
  readonly writeCallsPerInstance: number;
}

/** What `bench tenants` measured. */
export interface TenantBenchReport {
  readonly processes: number;
  readonly rowsPerProcess: number;
  readonly rows: number;
  readonly tenants: number;
  readonly results: readonly TenantBenchResult[];
}

/** The compiled worker next to this file (`.js` in dist; `.ts` under vitest, run through tsx). */
function workerCommand(): string[] {
  const js = new URL('./tenant-worker.js', import.meta.url);
  if (import.meta.url.endsWith('.js')) return [fileURLToPath(js)];
  return ['--import', 'tsx', fileURLToPath(new URL('./tenant-worker.ts', import.meta.url))];
}

function runWorker(options: WorkerOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...workerCommand(), JSON.stringify(options)], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    });
    let stderr = '';
    child.stderr?.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('close', (code) =>
      code === 0
        ? resolve()
        : reject(
            new BenchError(
              'workload-failed',
              `tenant bench worker (${options.setting}, ${options.mode}) exited ${code}: ${stderr.slice(-2000)}`,
            ),
          ),
    );
  });
}

/**
 * KMS calls of the key hierarchy against per-row KMS and `CachingKeyring`, in one run: for each
 * setting, `processes` app instances write rows for `tenants` tenants into one PostgreSQL
 * database through the real AWS SDK against kms-local, then one fresh instance reads every row
 * back. kms-local's own counters give the calls.
 */
export async function runTenantBench(options: TenantBenchOptions = {}): Promise<TenantBenchReport> {
  const processes = options.processes ?? 8;
  const rowsPerProcess = options.rowsPerProcess ?? 1000;
  const tenants = options.tenants ?? 100;
  for (const [name, n] of Object.entries({ processes, rowsPerProcess, tenants }))
    if (!Number.isInteger(n) || n < 1)
      throw new BenchError('workload-failed', `${name} must be a whole number ≥ 1`);
  const pgUrl = options.pgUrl ?? process.env.FIELDSEAL_PG_URL ?? DEFAULT_PG_URL;
  const server = await startKmsServer({ port: 0, warn: () => {} });
  const client = new KMSClient({ ...server.clientConfig });
  const results: TenantBenchResult[] = [];
  const rows = processes * rowsPerProcess;
  try {
    const keyArn = (await client.send(new CreateKeyCommand({}))).KeyMetadata?.Arn as string;
    for (const setting of options.settings ?? TENANT_SETTINGS) {
      const db = await postgresDatabase(pgUrl);
      try {
        await db.exec(
          `CREATE TABLE bench_tenant_rows (id TEXT PRIMARY KEY, tenant TEXT NOT NULL, memo TEXT, data_key TEXT); ${branchKeyDdl('postgres')}`,
        );
        const base = {
          setting,
          kms: server.clientConfig,
          keyArn,
          pgUrl: db.location,
          rows: rowsPerProcess,
          tenants,
        };
        server.reset();
        await Promise.all(
          Array.from({ length: processes }, (_, worker) => runWorker({ ...base, mode: 'write', worker })),
        );
        const writeCalls = server.stats().total;
        server.reset();
        await runWorker({ ...base, mode: 'read', worker: 0 });
        const readCalls = server.stats().total;
        results.push({
          setting,
          writeCalls,
          readCalls,
          writeCallsPer1000Rows: (writeCalls / rows) * 1000,
          writeCallsPerInstance: writeCalls / processes,
        });
        options.onProgress?.(`${setting}: ${writeCalls} KMS calls writing, ${readCalls} reading`);
      } finally {
        await db.drop();
      }
    }
  } finally {
    client.destroy();
    await server.close();
  }
  return { processes, rowsPerProcess, rows, tenants, results };
}
