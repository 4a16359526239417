/**
 * `fieldseal branch-key`, `shred`, `status` and `verify` on tenant-scoped rows, through the built
 * binary on SQLite, PostgreSQL and MariaDB: rows per tenant and branch-key version, a shred that
 * asks first and leaves the other tenants readable, and verify telling shredded from damaged.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BranchKeyKeyring, BranchKeyStore } from '@fieldseal/branch-keys';
import { LocalKeyring, RowEnvelope } from '@fieldseal/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, openDb, type TestDb } from '../../branch-keys/test/helpers/databases.js';
import { masterKeyText } from '../../branch-keys/test/helpers/keyrings.js';

const here = dirname(fileURLToPath(import.meta.url));
const BIN = join(here, '..', 'bin', 'fieldseal.js');
const CONFIG = join(here, 'fixtures', 'tenants.config.ts');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe.each(DIALECTS)('tenants through the CLI on %s', (dialect) => {
  let db: TestDb;
  let master: string;
  const cli = (args: string[], stdin = ''): Promise<Run> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [BIN, '--config', CONFIG, ...args], {
        env: {
          ...process.env,
          FS_TEST_DIALECT: db.location.dialect,
          FS_TEST_TARGET: db.location.target,
          FS_TEST_MASTER: master,
        },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c) => {
        stdout += c;
      });
      child.stderr.on('data', (c) => {
        stderr += c;
      });
      child.stdin.end(stdin);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  const json = async (args: string[]) => {
    const run = await cli(['--json', ...args]);
    try {
      return { code: run.code, body: JSON.parse(run.stdout) };
    } catch {
      throw new Error(`not JSON (exit ${run.code}): ${run.stdout} ${run.stderr}`);
    }
  };
  const p = (n: number) => (dialect === 'postgres' ? `$${n}` : '?');

  beforeEach(async () => {
    db = await openDb(dialect);
    master = masterKeyText();
    await db.raw(
      `CREATE TABLE invoices (id INTEGER PRIMARY KEY, tenant_id VARCHAR(64) NOT NULL, memo TEXT, data_key TEXT)`,
    );
  });
  afterEach(async () => {
    await db.close();
  });

  /** The app: writes 5 rows per tenant through a BranchKeyKeyring over the same database and master key. */
  async function appWrites(tenants: string[]): Promise<void> {
    const store = new BranchKeyStore({ executor: db.executor, keyring: LocalKeyring.fromString(master) });
    await store.ensureTable();
    const envelope = new RowEnvelope({ keyring: new BranchKeyKeyring({ store }) });
    let id = 1;
    for (const tenant of tenants)
      for (let i = 0; i < 5; i++) {
        const row = await envelope.encryptRow({
          table: 'invoices',
          tenant,
          values: { memo: `${tenant} ${i}` },
        });
        await db.raw(
          `INSERT INTO invoices (id, tenant_id, memo, data_key) VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)})`,
          [id++, tenant, row.values.memo, row.dataKey],
        );
      }
  }

  it('branch-key create, rotate and list; status shows rows per tenant and branch-key version', async () => {
    expect((await cli(['branch-key', 'create', '--tenant', 'acme'])).code).toBe(0);
    const again = await cli(['branch-key', 'create', '--tenant', 'acme']);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/exists/);
    await appWrites(['acme', 'globex']); // globex gets its key on first write
    const rotated = await json(['branch-key', 'rotate', '--tenant', 'acme']);
    expect(rotated.body.rotated[0]).toMatchObject({ scope: 'acme', version: 2, status: 'active' });
    const listed = await json(['branch-key', 'list', '--verify']);
    expect(listed.code).toBe(0);
    expect(
      listed.body.keys.map(
        (k: { scope: string; version: number; status: string; state: string }) =>
          `${k.scope}:${k.version}:${k.status}:${k.state}`,
      ),
    ).toEqual(['acme:2:active:ok', 'acme:1:retired:ok', 'globex:1:active:ok']);
    const status = await json(['status']);
    expect(status.body.tables[0].keys).toEqual({ 'branch:1:acme': 5, 'branch:1:globex': 5 });
    const verify = await json(['verify']);
    expect(verify.body.ok).toBe(true);
    expect(verify.body.tables[0]).toMatchObject({ rows: 10, encrypted: 10, undecryptable: 0, shredded: 0 });
  });

  it('rotate --to branch:active moves rows onto the newest branch version of their own tenant; a rerun has nothing left', async () => {
    expect((await cli(['branch-key', 'create', '--tenant', 'acme'])).code).toBe(0);
    await appWrites(['acme', 'globex']);
    expect((await json(['branch-key', 'rotate', '--tenant', 'acme'])).code).toBe(0);
    const keys = async () =>
      ((await db.raw('SELECT id, data_key FROM invoices ORDER BY id')) as { data_key: string }[]).map((r) =>
        String(r.data_key),
      );
    const before = await keys();
    const rotated = await json(['rotate', '--to', 'branch:active', '--model', 'Invoice']);
    expect(rotated.code, JSON.stringify(rotated.body)).toBe(0);
    expect(rotated.body.ok).toBe(true);
    const status = await json(['status']);
    expect(status.body.tables[0].keys).toEqual({ 'branch:2:acme': 5, 'branch:1:globex': 5 });
    // Each row keeps its key identity (salt) and so every value opens as before; only the wrapping moved.
    const after = await keys();
    expect(after.map((k) => k.slice(0, 28))).toEqual(before.map((k) => k.slice(0, 28)));
    expect(after.filter((k, i) => k !== before[i])).toHaveLength(5); // acme's five re-wrapped
    const verify = await json(['verify']);
    expect(verify.body.tables[0]).toMatchObject({ rows: 10, encrypted: 10, undecryptable: 0, shredded: 0 });
    const again = await json(['rotate', '--to', 'branch:active', '--model', 'Invoice']);
    expect(again.code).toBe(0);
    expect(again.body.totals.written).toBe(0);
  });

  it('migrate encrypts a plaintext tenant table with each row bound to its tenant; verify and status see it', async () => {
    for (let id = 1; id <= 6; id++)
      await db.raw(`INSERT INTO invoices (id, tenant_id, memo) VALUES (${p(1)}, ${p(2)}, ${p(3)})`, [
        id,
        id % 2 ? 'acme' : 'globex',
        `memo ${id}`,
      ]);
    expect((await cli(['branch-key', 'create'])).code).toBe(0); // the key store (and a global key)
    const migrated = await json(['migrate']);
    expect(migrated.code).toBe(0);
    const status = await json(['status']);
    expect(status.body.tables[0].keys).toEqual({ 'branch:1:acme': 3, 'branch:1:globex': 3 });
    expect((await json(['branch-key', 'list'])).body.keys.map((k: { scope: string }) => k.scope)).toEqual([
      '',
      'acme',
      'globex',
    ]);
    expect((await json(['verify'])).body.tables[0]).toMatchObject({
      rows: 6,
      encrypted: 6,
      undecryptable: 0,
    });
    // At rest: ciphertext bound to the tenant; read as another tenant it fails.
    const store = new BranchKeyStore({ executor: db.executor, keyring: LocalKeyring.fromString(master) });
    const envelope = new RowEnvelope({ keyring: new BranchKeyKeyring({ store }) });
    const [row] = await db.raw('SELECT id, tenant_id, memo, data_key FROM invoices WHERE id = 1');
    expect(String(row?.memo)).toMatch(/^fs2:/);
    const read = { table: 'invoices', values: { memo: row?.memo }, dataKey: row?.data_key, rowId: 1 };
    expect((await envelope.decryptRow({ ...read, tenant: 'acme' })).memo).toBe('memo 1');
    await expect(envelope.decryptRow({ ...read, tenant: 'globex' })).rejects.toMatchObject({
      code: 'unwrap-failed',
    });
  });

  it('shred asks first (a wrong answer destroys nothing), then erases one tenant; verify counts it as shredded, not damaged', async () => {
    await appWrites(['acme', 'globex']);
    const refused = await cli(['shred', '--tenant', 'acme'], 'globex\n');
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/nothing was destroyed/);
    expect((await json(['verify'])).body.tables[0]).toMatchObject({ encrypted: 10, shredded: 0 });

    const done = await cli(['shred', '--tenant', 'acme'], 'acme\n');
    expect(done.code).toBe(0);
    expect(done.stderr).toMatch(/acme\s+v1/);
    expect(done.stdout).toMatch(/destroyed 1 branch key/);
    const rows = await db.raw(`SELECT status, wrapped_key FROM fieldseal_branch_keys WHERE scope = 'acme'`);
    expect(rows).toEqual([{ status: 'shredded', wrapped_key: null }]);

    const verify = await json(['verify']);
    expect(verify.body.ok).toBe(true);
    expect(verify.body.tables[0]).toMatchObject({ rows: 10, encrypted: 5, shredded: 5, undecryptable: 0 });
    expect(new Set(verify.body.tables[0].problems.map((x: { code: string }) => x.code))).toEqual(
      new Set(['key-shredded']),
    );
    const scripted = await json(['shred', '--tenant', 'acme', '--yes']);
    expect(scripted.body.destroyed).toEqual([]);

    // A tampered key-store row is damage, reported as such by verify and by branch-key list --verify.
    await db.raw(`UPDATE fieldseal_branch_keys SET created_at = 'x' WHERE scope = 'globex'`);
    const damaged = await json(['verify']);
    expect(damaged.body.ok).toBe(false);
    expect(damaged.body.tables[0]).toMatchObject({ shredded: 5, undecryptable: 5 });
    const listed = await json(['branch-key', 'list', '--verify']);
    expect(listed.code).toBe(1);
    expect(listed.body.keys.map((k: { scope: string; state: string }) => `${k.scope}:${k.state}`)).toEqual([
      'acme:shredded',
      'globex:damaged',
    ]);
  });
});
