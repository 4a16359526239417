/**
 * One "app instance" of bench/kms-calls.ts: writes (or reads back) rows for many tenants through
 * one keyring setting, against the shared kms-local and PostgreSQL schema. Prints one JSON line.
 *   tsx bench/kms-calls-worker.ts <json options>
 */
import { KMSClient } from '@aws-sdk/client-kms';
import { AwsKmsKeyring } from '@fieldseal/aws-kms';
import { CachingKeyring } from '@fieldseal/cache';
import { type DecryptRowInput, type Keyring, RowEnvelope } from '@fieldseal/core';
import { BranchKeyKeyring, BranchKeyStore } from '../src/index.js';
import { executorFor } from '../test/helpers/databases.js';

export type Setting = 'per-row' | 'caching' | 'branch-tenant' | 'branch-global';
interface Options {
  setting: Setting;
  mode: 'write' | 'read';
  endpoint: string;
  keyArn: string;
  schema: string;
  worker: number;
  rows: number;
  tenants: number;
}

const o = JSON.parse(process.argv[2] as string) as Options;
const executor = executorFor({ dialect: 'postgres', target: o.schema });
const kms = new KMSClient({
  endpoint: o.endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
});
const master = new AwsKmsKeyring({ keyId: o.keyArn, client: kms });
let keyring: Keyring = master;
if (o.setting === 'caching') keyring = new CachingKeyring(master);
if (o.setting.startsWith('branch')) {
  const store = new BranchKeyStore({ executor, keyring: master });
  keyring = new BranchKeyKeyring({ store, ...(o.setting === 'branch-global' ? { scopeOf: () => '' } : {}) });
}
const envelope = new RowEnvelope({ keyring });
const table = 'bench_rows';

if (o.mode === 'write') {
  for (let start = 0; start < o.rows; start += 100) {
    const values: unknown[] = [];
    const tuples: string[] = [];
    for (let i = start; i < Math.min(o.rows, start + 100); i++) {
      const tenant = `tenant-${(i * 7 + o.worker) % o.tenants}`;
      const row = await envelope.encryptRow({ table, tenant, values: { memo: `memo ${o.worker}-${i}` } });
      const n = values.length;
      tuples.push(`($${n + 1}, $${n + 2}, $${n + 3}, $${n + 4})`);
      values.push(`${o.worker}-${i}`, tenant, row.values.memo, row.dataKey);
    }
    await executor.execute(
      `INSERT INTO ${table} (id, tenant, memo, data_key) VALUES ${tuples.join(', ')}`,
      values,
    );
  }
} else {
  const rows = await executor.query<{ id: string; tenant: string; memo: string; data_key: string }>(
    `SELECT id, tenant, memo, data_key FROM ${table} ORDER BY id`,
  );
  let checked = 0;
  // Small batches: decryptRows asks for every distinct data key of a batch at once, and with
  // per-row KMS that is one concurrent Decrypt per row.
  for (let start = 0; start < rows.length; start += 25) {
    const batch = rows.slice(start, start + 25);
    const inputs: DecryptRowInput[] = batch.map((r) => ({
      table,
      tenant: r.tenant,
      values: { memo: r.memo },
      dataKey: r.data_key,
    }));
    const out = await envelope.decryptRows(inputs);
    out.forEach((r, i) => {
      if (r.memo !== `memo ${batch[i]?.id}`) throw new Error(`row ${batch[i]?.id} read back wrong`);
      checked++;
    });
  }
  if (checked !== rows.length) throw new Error('rows missing');
}
await executor.close();
kms.destroy();
console.log(JSON.stringify({ ok: true }));
