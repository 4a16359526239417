// @fieldseal/branch-keys as installed: a key store in the app's SQLite database (through the
// TypeORM adapter's executor), two tenants, one shredded; the other stays readable.
import 'reflect-metadata';
import { join } from 'node:path';
import { BranchKeyKeyring, BranchKeyStore } from '@fieldseal/branch-keys';
import { isFieldsealError, RowEnvelope } from '@fieldseal/core';
import { sqlExecutor } from '@fieldseal/typeorm';
import { DataSource } from 'typeorm';
import { appKeyring, dataDir } from './keys.mjs';

const dataSource = new DataSource({ type: 'better-sqlite3', database: join(dataDir, 'branch-keys.db') });
await dataSource.initialize();
const store = new BranchKeyStore({ executor: sqlExecutor(dataSource), keyring: appKeyring() });
await store.ensureTable();
const envelope = new RowEnvelope({ keyring: new BranchKeyKeyring({ store }) });
const rows = {};
for (const tenant of ['acme', 'globex']) {
  rows[tenant] = await envelope.encryptRow({
    table: 'Invoice',
    tenant,
    values: { memo: `memo of ${tenant}` },
  });
}
const read = (tenant) =>
  envelope.decryptRow({
    table: 'Invoice',
    tenant,
    values: rows[tenant].values,
    dataKey: rows[tenant].dataKey,
  });
for (const tenant of ['acme', 'globex'])
  if ((await read(tenant)).memo !== `memo of ${tenant}`) throw new Error(`${tenant} did not read back`);
const shredded = await store.shred('acme');
store.forget();
const after = await read('acme').catch((error) => error);
if (!isFieldsealError(after)) throw new Error('a shredded tenant was still readable');
if ((await read('globex')).memo !== 'memo of globex') throw new Error('shredding acme broke globex');
console.log(
  `branch-keys: 2 tenants written and read; shredded acme (${shredded.length} key) → ${after.code}; globex readable. OK`,
);
await dataSource.destroy();
