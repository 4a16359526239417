/**
 * A child "app instance" of tenant-rotation.test.ts: inserts, updates and replaces rows of the
 * `invoices` table for several tenants through branch keys until killed. Updates go through the
 * row-key protocol (`RowEnvelope.writeToRows`, as the adapters do); a replace deletes a row and
 * inserts it again under the same id with a fresh data key, in one transaction. Before each write
 * it prints `try <id> <memo>`, after the commit `ok <id>`, so the parent knows what was
 * acknowledged and what may be in flight when it SIGKILLs the process.
 *   tsx tenant-writer.ts <json {dialect, target, master, worker, tenants}>
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { BranchKeyKeyring, BranchKeyStore } from '@fieldseal/branch-keys';
import {
  type GuardedRowWrite,
  LocalKeyring,
  RowEnvelope,
  type RowKeyPort,
  type SqlDialect,
} from '@fieldseal/core';
import { executorFor } from '../../../branch-keys/test/helpers/databases.js';

const o = JSON.parse(process.argv[2] as string) as {
  dialect: SqlDialect;
  target: string;
  master: string;
  worker: number;
  tenants: string[];
};
const executor = executorFor({ dialect: o.dialect, target: o.target });
// Odd workers use a short TTL and so pick up the versions the parent's `branch-key rotate` adds;
// even ones keep writing under the version they cached (the default TTL), as a long-lived app
// instance does, so `rotate --to branch:active` keeps meeting rows their writers are replacing.
const store = new BranchKeyStore({
  executor,
  keyring: LocalKeyring.fromString(o.master),
  ...(o.worker % 2 === 1 ? { cacheTtlMs: 20 } : {}),
});
const envelope = new RowEnvelope({ keyring: new BranchKeyKeyring({ store }) });
const p = (n: number) => (o.dialect === 'postgres' ? `$${n}` : '?');
const say = (line: string) => process.stdout.write(`${line}\n`);

/** The `invoices` table as a `RowKeyPort`: reads data keys and tenants, writes guarded on the key. */
function port(ids: readonly number[]): RowKeyPort<number> {
  return {
    async readKeys(only) {
      const list = only ?? ids;
      const rows = await executor.query<{ id: unknown; data_key: string | null; tenant_id: string }>(
        `SELECT id, data_key, tenant_id FROM invoices WHERE id IN (${list.map((_, i) => p(i + 1)).join(', ')})`,
        list,
      );
      return rows.map((r) => ({ id: Number(r.id), dataKey: r.data_key, tenant: r.tenant_id }));
    },
    async write(writes: readonly GuardedRowWrite<number>[]) {
      const hits: boolean[] = [];
      for (const w of writes) {
        const params: unknown[] = [w.values.memo];
        let set = `memo = ${p(1)}`;
        if (w.dataKey !== undefined) {
          params.push(w.dataKey);
          set += `, data_key = ${p(params.length)}`;
        }
        params.push(w.id);
        let where = `id = ${p(params.length)}`;
        if (w.guard.kind === 'absent') where += ' AND data_key IS NULL';
        else {
          const text = w.guard.kind === 'prefix' ? w.guard.prefix : w.guard.text;
          params.push(text);
          where +=
            w.guard.kind === 'prefix'
              ? ` AND SUBSTR(data_key, 1, ${text.length}) = ${p(params.length)}`
              : ` AND data_key = ${p(params.length)}`;
        }
        hits.push((await executor.execute(`UPDATE invoices SET ${set} WHERE ${where}`, params)) === 1);
      }
      return hits;
    },
  };
}

async function insert(id: number, tenant: string, memo: string): Promise<void> {
  const row = await envelope.encryptRow({ table: 'invoices', tenant, values: { memo } });
  await executor.execute(
    `INSERT INTO invoices (id, tenant_id, memo, data_key) VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)})`,
    [id, tenant, row.values.memo, row.dataKey],
  );
}

/**
 * Before each write to one of its rows, the writer reads it back: it must open, under its
 * tenant, to the last memo this writer committed (nobody else writes its rows; rotation only
 * re-wraps the key). A later write would hide a lost one from the parent's final check.
 */
async function check(id: number, tenant: string, expected: string): Promise<void> {
  const [row] = await executor.query<{ memo: unknown; data_key: unknown }>(
    `SELECT memo, data_key FROM invoices WHERE id = ${p(1)}`,
    [id],
  );
  let got: string;
  try {
    got = row
      ? String(
          (
            await envelope.decryptRow({
              table: 'invoices',
              tenant,
              values: { memo: row.memo },
              dataKey: row.data_key,
            })
          ).memo,
        )
      : 'missing';
  } catch (error) {
    got = (error as { code?: string }).code ?? 'error';
  }
  if (got !== expected) say(`lost ${id} ${expected} ${got}`);
}

const mine: number[] = [];
const last = new Map<number, string>();
for (let seq = 0; ; seq++) {
  // A small working set per writer, so its updates and replaces keep meeting the rotation.
  const fresh = mine.length < 8 || (seq % 10 === 0 && mine.length < 16);
  const id = fresh
    ? o.worker * 1_000_000 + mine.length
    : (mine[Math.floor(Math.random() * mine.length)] as number);
  const tenant = o.tenants[id % o.tenants.length] as string;
  const memo = `${tenant}/${id}/${seq}`;
  if (!fresh) await check(id, tenant, last.get(id) as string);
  say(`try ${id} ${memo}`);
  if (fresh) {
    await insert(id, tenant, memo);
    mine.push(id);
  } else if (seq % 2 === 0) {
    await envelope.writeToRows({ table: 'invoices', values: { memo }, port: port([id]), idOf: (x) => x });
  } else {
    // Encrypted before the transaction: the key store uses its own (SQLite has one connection).
    const row = await envelope.encryptRow({ table: 'invoices', tenant, values: { memo } });
    await executor.transaction(async (tx) => {
      await tx.execute(`DELETE FROM invoices WHERE id = ${p(1)}`, [id]);
      await tx.execute(
        `INSERT INTO invoices (id, tenant_id, memo, data_key) VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)})`,
        [id, tenant, row.values.memo, row.dataKey],
      );
    });
  }
  last.set(id, memo);
  say(`ok ${id}`);
  // Leaves the 2-core machine some room for the CLI runs the parent starts meanwhile.
  await sleep(3);
}
