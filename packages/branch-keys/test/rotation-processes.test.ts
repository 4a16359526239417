/**
 * Branch-key rotation under 8 writer processes, some SIGKILLed mid-write and restarted, on the
 * three databases: every row a writer reported committed is in the table and decrypts (nothing
 * lost), and each tenant ends with contiguous versions and exactly one active.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseDataKey } from '@fieldseal/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, openDb, type TestDb } from './helpers/databases.js';
import { instance, masterKeyText } from './helpers/keyrings.js';

const WRITER = fileURLToPath(new URL('./helpers/writer.ts', import.meta.url));
const TENANTS = ['acme', 'globex', 'initech'];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(DIALECTS)('rotation under writer processes on %s', (dialect) => {
  let db: TestDb;
  let master: string;
  const children: ChildProcess[] = [];
  beforeEach(async () => {
    db = await openDb(dialect);
    master = masterKeyText();
    await db.raw(
      'CREATE TABLE app_rows (id VARCHAR(64) PRIMARY KEY, tenant VARCHAR(64) NOT NULL, memo TEXT, data_key TEXT)',
    );
    await instance(db.executor, master).store.ensureTable();
  });
  afterEach(async () => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
    await db.close();
  });

  it('8 writers, 3 rotations of every tenant (two rotators racing), 3 writers SIGKILLed and restarted: nothing lost', {
    timeout: 400_000,
  }, async () => {
    const committed = new Set<string>();
    let errors = '';
    const start = (worker: string) => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', WRITER, JSON.stringify({ ...db.location, master, worker, tenants: TENANTS })],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let buffer = '';
      child.stderr?.on('data', (chunk) => {
        errors += chunk;
      });
      child.stdout?.on('data', (chunk) => {
        buffer += chunk;
        const lines = buffer.split('\n');
        buffer = lines.pop() ?? '';
        for (const line of lines) committed.add(line);
      });
      children.push(child);
      return child;
    };
    const writers = Array.from({ length: 8 }, (_, i) => start(`w${i}`));
    const until = async (n: number) => {
      for (let waited = 0; committed.size < n; waited += 50) {
        if (waited > 120_000)
          throw new Error(`writers stalled at ${committed.size} rows: ${errors.slice(-2000)}`);
        await sleep(50);
      }
    };
    await until(40);
    const rotators = [instance(db.executor, master), instance(db.executor, master)];
    for (let round = 0; round < 3; round++) {
      // Two processes' worth of rotators race on every tenant: one wins each version, the other goes one higher.
      await Promise.all(TENANTS.flatMap((tenant) => rotators.map((r) => r.store.rotate(tenant))));
      const victim = writers[round] as ChildProcess;
      victim.kill('SIGKILL');
      await new Promise((resolve) => victim.once('close', resolve));
      writers[round] = start(`w${round}r`);
      await until(committed.size + 30);
    }
    for (const child of children) child.kill('SIGKILL');
    await Promise.all(
      children.map((c) =>
        c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once('close', r)) : null,
      ),
    );

    const rows = await db.raw('SELECT id, tenant, memo, data_key FROM app_rows');
    const ids = new Set(rows.map((r) => String(r.id)));
    for (const id of committed) expect(ids.has(id)).toBe(true);
    const reader = instance(db.executor, master);
    const out = await reader.envelope.decryptRows(
      rows.map((r) => ({
        table: 'app_rows',
        tenant: String(r.tenant),
        values: { memo: r.memo },
        dataKey: r.data_key,
      })),
    );
    expect(out.map((r) => r.memo)).toEqual(rows.map((r) => `memo ${r.id}`));
    const used = new Set(rows.map((r) => parseDataKey(r.data_key).keyId));
    expect(used.size).toBeGreaterThan(TENANTS.length); // rows landed on several versions
    for (const tenant of TENANTS) {
      const keys = await reader.store.list(tenant);
      expect(keys.map((k) => k.version)).toEqual([7, 6, 5, 4, 3, 2, 1]); // 1 + 3 rounds × 2 rotators
      expect(keys.filter((k) => k.status === 'active').map((k) => k.version)).toEqual([7]);
    }
  });
});
