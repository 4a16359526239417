/**
 * The key hierarchy on SQLite, PostgreSQL and MariaDB: branch keys in `fieldseal_branch_keys`,
 * data keys wrapped locally, one KMS call per branch key per process, tenant isolation,
 * rotation, shredding, and a key-store row altered in SQL.
 */
import { isDecryptionError, isKeyringError, parseDataKey } from '@fieldseal/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BRANCH_KEY_TABLE } from '../src/index.js';
import { DIALECTS, openDb, type TestDb } from './helpers/databases.js';
import { instance, masterKeyText } from './helpers/keyrings.js';

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (isKeyringError(error) || isDecryptionError(error)) return error.code;
    throw error;
  }
  throw new Error('expected a rejection');
}

const table = 'Invoice';

describe.each(DIALECTS)('branch keys on %s', (dialect) => {
  let db: TestDb;
  let master: string;
  beforeEach(async () => {
    db = await openDb(dialect);
    master = masterKeyText();
    await instance(db.executor, master).store.ensureTable();
  });
  afterEach(async () => {
    await db.close();
  });

  /** Writes `n` rows per tenant through `app`; returns them as stored. */
  async function writeRows(app: ReturnType<typeof instance>, tenants: readonly string[], n: number) {
    const rows = [];
    for (const tenant of tenants)
      for (let i = 0; i < n; i++) {
        const row = await app.envelope.encryptRow({ table, tenant, values: { memo: `${tenant}-${i}` } });
        rows.push({ table, tenant, values: row.values, dataKey: row.dataKey, rowId: `${tenant}-${i}` });
      }
    return rows;
  }

  it('one KMS call per branch key per process serves every row and tenant (writer and reader)', async () => {
    const tenants = Array.from({ length: 10 }, (_, i) => `t${i}`);
    const writer = instance(db.executor, master);
    const rows = await writeRows(writer, tenants, 30);
    expect(writer.kms.calls).toBe(10); // one GenerateDataKey per new tenant branch key, none per row
    const reader = instance(db.executor, master); // another process: its own cache
    const out = await reader.envelope.decryptRows(rows);
    expect(out.map((r) => r.memo)).toEqual(rows.map((r) => r.rowId));
    expect(reader.kms.calls).toBe(10); // one Decrypt per branch key
    await reader.envelope.decryptRows(rows);
    expect(reader.kms.calls).toBe(10);
    expect(parseDataKey(rows[0]?.dataKey).keyId).toBe('branch:1:t0');
  });

  it('tenant isolation: a data key or a whole row moved to another tenant fails; nothing decrypts as the other tenant', async () => {
    const app = instance(db.executor, master);
    const [a, b] = await writeRows(app, ['acme', 'globex'], 1);
    if (!a || !b) throw new Error('rows missing');
    // The whole row (values + data key) now claims tenant globex.
    expect(await codeOf(app.envelope.decryptRow({ ...a, tenant: 'globex' }))).toBe('unwrap-failed');
    // globex's row given acme's data key.
    expect(await codeOf(app.envelope.decryptRow({ ...b, dataKey: a.dataKey }))).toBe('unwrap-failed');
    // acme's value planted in globex's row (with globex's key).
    expect(await codeOf(app.envelope.decryptRow({ ...b, values: a.values }))).toBe('wrong-data-key');
    // Read without a tenant (a query that forgot the tenant column): the global scope cannot open it.
    expect(await codeOf(app.envelope.decryptRow({ ...a, tenant: undefined }))).toBe('unwrap-failed');
  });

  it('rotation: the new version becomes active, old versions stay readable, rows move with rotate --to branch:active', async () => {
    const app = instance(db.executor, master);
    const before = await writeRows(app, ['acme'], 3);
    const v2 = await app.store.rotate('acme');
    expect(v2).toMatchObject({ scope: 'acme', version: 2, status: 'active' });
    const list = await app.store.list('acme');
    expect(list.map((k) => [k.version, k.status])).toEqual([
      [2, 'active'],
      [1, 'retired'],
    ]);
    const after = await writeRows(app, ['acme'], 1);
    expect(parseDataKey(after[0]?.dataKey).keyId).toBe('branch:2:acme');
    const other = instance(db.executor, master);
    expect((await other.envelope.decryptRows([...before, ...after])).map((r) => r.memo)).toEqual([
      'acme-0',
      'acme-1',
      'acme-2',
      'acme-0',
    ]);
    // Re-wrap an old row's data key onto the active version (what `fieldseal rotate` does per row).
    const stored = parseDataKey(before[0]?.dataKey);
    const context = other.envelope.contextFor(table, 'acme');
    const moved = await other.keyring.reEncryptDataKey(stored.encryptedKey, context, {
      destinationKeyId: 'branch:active',
    });
    expect(moved.keyId).toBe('branch:2:acme');
    expect(await other.keyring.decryptDataKey(moved.encryptedKey, context)).toEqual(
      await other.keyring.decryptDataKey(stored.encryptedKey, context),
    );
  });

  it('shredding one tenant: its rows are gone (key-shredded), every other tenant reads and writes on', async () => {
    const app = instance(db.executor, master);
    const rows = await writeRows(app, ['acme', 'globex', 'initech'], 4);
    await app.store.rotate('acme'); // two versions to destroy
    const destroyed = await app.store.shred('acme');
    expect(destroyed.map((k) => k.version).sort()).toEqual([1, 2]);
    const stored = await db.raw(
      `SELECT version, status, wrapped_key, mac FROM ${BRANCH_KEY_TABLE} WHERE scope = 'acme'`,
    );
    expect(stored).toHaveLength(2);
    for (const row of stored) expect(row).toMatchObject({ status: 'shredded', wrapped_key: null, mac: null });
    expect((await app.store.check()).map((k) => `${k.scope}:${k.version}:${k.state}`)).toEqual([
      'acme:2:shredded',
      'acme:1:shredded',
      'globex:1:ok',
      'initech:1:ok',
    ]);
    for (const reader of [app, instance(db.executor, master)]) {
      for (const row of rows) {
        if (row.tenant === 'acme') expect(await codeOf(reader.envelope.decryptRow(row))).toBe('key-shredded');
        else expect((await reader.envelope.decryptRow(row)).memo).toBe(row.rowId);
      }
      // No new keys for a shredded tenant, not even through createMissing.
      expect(await codeOf(reader.envelope.encryptRow({ table, tenant: 'acme', values: { memo: 'x' } }))).toBe(
        'key-shredded',
      );
      expect(await codeOf(reader.store.rotate('acme'))).toBe('key-shredded');
    }
    await writeRows(app, ['globex'], 1);
  });

  it.each([
    [
      'created_at changed',
      `UPDATE ${BRANCH_KEY_TABLE} SET created_at = '2020-01-01T00:00:00.000Z' WHERE version = 1`,
    ],
    ['key_id relabelled', `UPDATE ${BRANCH_KEY_TABLE} SET key_id = 'other' WHERE version = 1`],
    ['wrapped key of version 2 copied onto version 1', 'swap'],
    ['MAC replaced by another row’s', 'swap-mac'],
    ['row deleted', `DELETE FROM ${BRANCH_KEY_TABLE} WHERE version = 1`],
    [
      'wrapped key truncated',
      `UPDATE ${BRANCH_KEY_TABLE} SET wrapped_key = substr(wrapped_key, 1, 40) WHERE version = 1`,
    ],
  ])(
    'a key-store row tampered in SQL is detected (key-store-damaged, not shredded): %s',
    async (_what, sql) => {
      const app = instance(db.executor, master);
      const rows = await writeRows(app, ['acme'], 1);
      await app.store.rotate('acme');
      const t = BRANCH_KEY_TABLE;
      if (sql === 'swap' || sql === 'swap-mac') {
        const column = sql === 'swap' ? 'wrapped_key' : 'mac';
        const [v2] = await db.raw(`SELECT ${column} AS v FROM ${t} WHERE version = 2`);
        await db.raw(`UPDATE ${t} SET ${column} = ${dialect === 'postgres' ? '$1' : '?'} WHERE version = 1`, [
          v2?.v,
        ]);
      } else await db.raw(sql);
      const fresh = instance(db.executor, master); // nothing cached
      expect(await codeOf(fresh.envelope.decryptRow(rows[0] as never))).toBe('key-store-damaged');
      // check() (`branch-key list --verify`) reports the damage, never as "shredded".
      const states = (await fresh.store.check('acme')).map((k) => `${k.version}:${k.state}`);
      if (sql.startsWith('DELETE')) expect(states).toEqual(['2:ok']);
      else expect(states).toEqual(['2:ok', '1:damaged']);
    },
  );

  it('rotation under concurrent writers loses nothing: every row written during three rotations reads back', async () => {
    const writers = Array.from({ length: 8 }, () => instance(db.executor, master, { cacheTtlMs: 5 }));
    const tenants = ['acme', 'globex', 'initech'];
    const written: Awaited<ReturnType<typeof writeRows>> = [];
    let rotating = true;
    const writing = writers.map(async (writer, w) => {
      for (let i = 0; rotating || i < 5; i++) {
        const tenant = tenants[(w + i) % tenants.length] as string;
        const row = await writer.envelope.encryptRow({ table, tenant, values: { memo: `${w}-${i}` } });
        written.push({ table, tenant, values: row.values, dataKey: row.dataKey, rowId: `${w}-${i}` });
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    });
    const rotator = instance(db.executor, master);
    await new Promise((resolve) => setTimeout(resolve, 30));
    for (let round = 0; round < 3; round++) {
      await Promise.all(
        tenants.map((tenant) => rotator.store.rotate(tenant).catch(() => rotator.store.rotate(tenant))),
      );
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    rotating = false;
    await Promise.all(writing);
    const reader = instance(db.executor, master);
    const out = await reader.envelope.decryptRows(written);
    expect(out.map((r) => r.memo)).toEqual(written.map((r) => r.rowId));
    const versions = new Set(written.map((r) => parseDataKey(r.dataKey).keyId));
    expect(versions.size).toBeGreaterThan(tenants.length); // rows landed on several versions
    for (const tenant of tenants) {
      const keys = await reader.store.list(tenant);
      expect(keys.filter((k) => k.status === 'active')).toHaveLength(1);
      expect(keys.map((k) => k.version)).toEqual(keys.map((_, i) => keys.length - i));
    }
  });
});
