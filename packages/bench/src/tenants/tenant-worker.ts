/**
 * One app instance of `bench tenants`: writes (or reads back) rows for many tenants through one
 * keyring setting, against the run's kms-local and PostgreSQL database. Exits 0 when done (a
 * read checks every plaintext).
 *   node tenant-worker.js <json WorkerOptions>
 */
import { KMSClient } from '@aws-sdk/client-kms';
import { AwsKmsKeyring } from '@fieldseal/aws-kms';
import { BranchKeyKeyring, BranchKeyStore } from '@fieldseal/branch-keys';
import { CachingKeyring } from '@fieldseal/cache';
import { type DecryptRowInput, type Keyring, RowEnvelope, type SqlExecutor } from '@fieldseal/core';
import pg from 'pg';
import type { TenantSetting } from './tenant-settings.js';

/** What the parent passes to a worker. */
export interface WorkerOptions {
  readonly setting: TenantSetting;
  readonly mode: 'write' | 'read';
  readonly kms: {
    endpoint: string;
    region: string;
    credentials: { accessKeyId: string; secretAccessKey: string };
  };
  readonly keyArn: string;
  readonly pgUrl: string;
  readonly worker: number;
  readonly rows: number;
  readonly tenants: number;
}

const TABLE = 'bench_tenant_rows';

/** A pooled PostgreSQL `SqlExecutor` (the key store's transactions get one connection each). */
function executorFor(url: string): SqlExecutor & { close(): Promise<void> } {
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  const over = (client: pg.Pool | pg.PoolClient, inTx: boolean): SqlExecutor => ({
    dialect: 'postgres',
    query: async <T>(sql: string, params: readonly unknown[] = []) =>
      (await client.query(sql, params as unknown[])).rows as T[],
    execute: async (sql, params = []) => (await client.query(sql, params as unknown[])).rowCount ?? 0,
    transaction: async (fn) => {
      if (inTx) return fn(over(client, true));
      const connection = await pool.connect();
      try {
        await connection.query('BEGIN');
        const out = await fn(over(connection, true));
        await connection.query('COMMIT');
        return out;
      } catch (error) {
        await connection.query('ROLLBACK');
        throw error;
      } finally {
        connection.release();
      }
    },
  });
  return { ...over(pool, false), close: () => pool.end() };
}

async function main(o: WorkerOptions): Promise<void> {
  const executor = executorFor(o.pgUrl);
  const kms = new KMSClient({ ...o.kms, maxAttempts: 3 });
  const master = new AwsKmsKeyring({ keyId: o.keyArn, client: kms });
  let keyring: Keyring = master;
  if (o.setting === 'caching') keyring = new CachingKeyring(master);
  if (o.setting === 'branch-tenant' || o.setting === 'branch-global') {
    const store = new BranchKeyStore({ executor, keyring: master });
    keyring = new BranchKeyKeyring({
      store,
      ...(o.setting === 'branch-global' ? { scopeOf: () => '' } : {}),
    });
  }
  const envelope = new RowEnvelope({ keyring });
  try {
    if (o.mode === 'write') {
      for (let start = 0; start < o.rows; start += 100) {
        const values: unknown[] = [];
        const tuples: string[] = [];
        for (let i = start; i < Math.min(o.rows, start + 100); i++) {
          const tenant = `tenant-${(i * 7 + o.worker) % o.tenants}`;
          const row = await envelope.encryptRow({
            table: TABLE,
            tenant,
            values: { memo: `memo ${o.worker}-${i}` },
          });
          const n = values.length;
          tuples.push(`($${n + 1}, $${n + 2}, $${n + 3}, $${n + 4})`);
          values.push(`${o.worker}-${i}`, tenant, row.values.memo, row.dataKey);
        }
        await executor.execute(
          `INSERT INTO ${TABLE} (id, tenant, memo, data_key) VALUES ${tuples.join(', ')}`,
          values,
        );
      }
      return;
    }
    const rows = await executor.query<{ id: string; tenant: string; memo: string; data_key: string }>(
      `SELECT id, tenant, memo, data_key FROM ${TABLE} ORDER BY id`,
    );
    // Small batches: decryptRows asks for every distinct data key of a batch at once, and with
    // per-row KMS that is one concurrent Decrypt per row.
    for (let start = 0; start < rows.length; start += 25) {
      const batch = rows.slice(start, start + 25);
      const inputs: DecryptRowInput[] = batch.map((r) => ({
        table: TABLE,
        tenant: r.tenant,
        values: { memo: r.memo },
        dataKey: r.data_key,
      }));
      const out = await envelope.decryptRows(inputs);
      out.forEach((r, i) => {
        if (r.memo !== `memo ${batch[i]?.id}`) throw new Error(`row ${batch[i]?.id} read back wrong`);
      });
    }
  } finally {
    await executor.close();
    kms.destroy();
  }
}

await main(JSON.parse(process.argv[2] as string) as WorkerOptions);
