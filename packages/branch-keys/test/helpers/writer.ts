/**
 * A child "app instance" of rotation-processes.test.ts: writes rows for a few tenants through
 * branch keys until killed, printing each row id after its INSERT committed.
 *   tsx writer.ts <json {dialect, target, master, worker, tenants}>
 */
import { LocalKeyring, RowEnvelope, type SqlDialect } from '@fieldseal/core';
import { BranchKeyKeyring, BranchKeyStore } from '../../src/index.js';
import { executorFor } from './databases.js';

const o = JSON.parse(process.argv[2] as string) as {
  dialect: SqlDialect;
  target: string;
  master: string;
  worker: string;
  tenants: string[];
};
const executor = executorFor({ dialect: o.dialect, target: o.target });
// A short TTL so writers pick up new versions while the parent rotates.
const store = new BranchKeyStore({ executor, keyring: LocalKeyring.fromString(o.master), cacheTtlMs: 20 });
const envelope = new RowEnvelope({ keyring: new BranchKeyKeyring({ store }) });
const p = (n: number) => (o.dialect === 'postgres' ? `$${n}` : '?');
for (let i = 0; ; i++) {
  const tenant = o.tenants[i % o.tenants.length] as string;
  const id = `${o.worker}-${i}`;
  const row = await envelope.encryptRow({ table: 'app_rows', tenant, values: { memo: `memo ${id}` } });
  await executor.execute(
    `INSERT INTO app_rows (id, tenant, memo, data_key) VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)})`,
    [id, tenant, row.values.memo, row.dataKey],
  );
  process.stdout.write(`${id}\n`);
}
