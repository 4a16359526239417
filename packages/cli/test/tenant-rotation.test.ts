/**
 * Branch-key rotation under concurrent writers: 8 app processes insert, update (row-key
 * protocol) and replace (delete + insert under the same id, a fresh data key) rows of three
 * tenants through a BranchKeyKeyring, while the built binary runs `branch-key rotate --all` and
 * `rotate --to branch:active`. Writers are SIGKILLed mid-write and restarted, one rotate run is
 * SIGKILLed and resumed. At the end, raw SQL shows every acknowledged write present, opening to
 * exactly what was written, under its own tenant only; a rerun of rotate writes nothing.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { BranchKeyKeyring, BranchKeyStore } from '@fieldseal/branch-keys';
import { LocalKeyring, RowEnvelope } from '@fieldseal/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDb, type TestDb } from '../../branch-keys/test/helpers/databases.js';
import { masterKeyText } from '../../branch-keys/test/helpers/keyrings.js';
import { type CliRun, startCli } from './helpers/run-cli.js';

const WRITER = fileURLToPath(new URL('./helpers/tenant-writer.ts', import.meta.url));
const CONFIG = fileURLToPath(new URL('./fixtures/tenants.config.ts', import.meta.url));
const TENANTS = ['acme', 'globex', 'initech'];
const WRITERS = 8;
const ROTATE = ['--json', 'rotate', '--to', 'branch:active', '--model', 'Invoice', '--batch', '4'];
const JOB = ['--chunk-rows', '16', '--lease-seconds', '1'];

/** What the parent knows of one row: its last acknowledged memo, and a write that may be in flight. */
interface Expected {
  acked?: string | undefined;
  pending?: string | undefined;
}

// On the three databases.
describe.each(['sqlite', 'postgres', 'mysql'] as const)(
  'branch-key rotation under 8 writer processes on %s',
  (dialect) => {
    let db: TestDb;
    let master: string;
    const children: ChildProcess[] = [];
    beforeEach(async () => {
      db = await openDb(dialect);
      master = masterKeyText();
      await db.raw(
        'CREATE TABLE invoices (id INTEGER PRIMARY KEY, tenant_id VARCHAR(64) NOT NULL, memo TEXT, data_key TEXT)',
      );
    });
    afterEach(async () => {
      for (const child of children.splice(0)) child.kill('SIGKILL');
      await db.close();
    });

    it('rotations and rotate runs (one SIGKILLed) beside writers (three SIGKILLed): every acknowledged write intact, each row under its own tenant, a rerun writes 0', {
      timeout: 180_000,
    }, async () => {
      const env = {
        FS_TEST_DIALECT: db.location.dialect,
        FS_TEST_TARGET: db.location.target,
        FS_TEST_MASTER: master,
        FS_TEST_READ_DELAY_MS: '25',
      };
      const cli = (args: string[]) => startCli(['--config', CONFIG, ...args], env, false);
      const json = async (args: string[]) => {
        const run = await cli(['--json', ...args]).done;
        expect(run.code, `${args.join(' ')}: ${run.stderr}`).toBe(0);
        return JSON.parse(run.stdout);
      };
      expect((await cli(['branch-key', 'create']).done).code).toBe(0); // the key store and a global key

      const rows = new Map<number, Expected>();
      let acks = 0;
      let errors = '';
      const trace: string[] = [];
      const lost: string[] = [];
      const killed = new Set<ChildProcess>();
      const start = (worker: number) => {
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
          for (const line of lines) {
            const [kind, id, memo] = line.split(' ');
            const row = rows.get(Number(id)) ?? {};
            trace.push(`w${worker} ${line}`);
            if (kind === 'lost') lost.push(line);
            if (kind === 'try') row.pending = memo;
            else if (kind === 'ok') {
              row.acked = row.pending;
              delete row.pending;
              acks++;
            }
            rows.set(Number(id), row);
          }
        });
        child.on('exit', (code, signal) => trace.push(`w${worker} exit ${code} ${signal}`));
        children.push(child);
        return child;
      };
      const until = async (n: number) => {
        for (let waited = 0; acks < n; waited += 50) {
          if (waited > 60_000) throw new Error(`writers stalled at ${acks} writes: ${errors.slice(-2000)}`);
          await sleep(50);
        }
      };
      const kill = async (child: ChildProcess) => {
        if (child.exitCode === null && child.signalCode === null) {
          killed.add(child);
          child.kill('SIGKILL');
          await new Promise((resolve) => child.once('close', resolve));
        }
      };

      const writers = Array.from({ length: WRITERS }, (_, i) => start(i + 1));
      const replace = async (i: number) => {
        await kill(writers[i] as ChildProcess);
        writers[i] = start(WRITERS + i + 1);
      };
      const reports: { totals: { written: number }; tables: { guardMisses: number }[] }[] = [];
      // Beside writers a run may end "incomplete" (exit 1): long-TTL writers keep adding rows under
      // the previous version. Never with a conflict or a row it could not open.
      const rotate = async () => {
        const run = await cli([...ROTATE, ...JOB]).done;
        expect([0, 1], run.stderr + run.stdout).toContain(run.code);
        const report = JSON.parse(run.stdout);
        expect(report.totals).toMatchObject({ conflicts: 0, problems: 0 });
        reports.push(report);
      };
      await until(150);
      for (let round = 0; round < 2; round++) {
        const rotated = await json(['branch-key', 'rotate', '--all']);
        expect(rotated.rotated.map((k: { scope: string }) => k.scope).sort()).toEqual(['', ...TENANTS]);
        if (round === 0) {
          // Killed once it has re-wrapped some rows (two writers killed meanwhile); the next run
          // takes its chunks over.
          const doomed = cli([...ROTATE, ...JOB]);
          await Promise.all([replace(0), replace(1)]);
          for (let waited = 0; waited < 30_000; waited += 20) {
            const [lease] = await db
              .raw('SELECT COUNT(*) AS n FROM fieldseal_leases WHERE rows_done > 0 AND done = 0')
              .catch(() => [{ n: 0 }]);
            if (Number(lease?.n) > 0) break;
            await sleep(20);
          }
          doomed.child.kill('SIGKILL');
          expect((await doomed.done).signal).toBe('SIGKILL');
          await rotate();
        } else {
          await Promise.all([rotate(), sleep(500).then(() => replace(2))]);
        }
      }
      await until(acks + 100);
      for (const child of writers) await kill(child);
      // No writer died of its own (an error) and none found a committed write of its own gone.
      expect(
        children.filter((c) => !killed.has(c)).map((c) => c.exitCode),
        errors,
      ).toEqual([]);
      expect(lost).toEqual([]);

      // With the writers gone, one run finishes every row; a second has nothing left to write.
      const final: CliRun = await cli([...ROTATE, ...JOB]).done;
      expect(final.code, final.stderr).toBe(0);
      const again = JSON.parse((await cli([...ROTATE, ...JOB]).done).stdout);
      expect(again.totals.written).toBe(0);
      const status = await json(['status']);
      expect(Object.keys(status.tables[0].keys).sort()).toEqual(TENANTS.map((t) => `branch:3:${t}`));

      // Raw SQL: every acknowledged write is there and opens, under its own tenant, to what was
      // written (or to the one write that was in flight when its writer was killed).
      const stored = await db.raw('SELECT id, tenant_id, memo, data_key FROM invoices ORDER BY id');
      const byId = new Map(stored.map((r) => [Number(r.id), r]));
      const store = new BranchKeyStore({ executor: db.executor, keyring: LocalKeyring.fromString(master) });
      const envelope = new RowEnvelope({ keyring: new BranchKeyKeyring({ store }) });
      const read = (r: Record<string, unknown>, tenant: string) =>
        envelope.decryptRow({ table: 'invoices', tenant, values: { memo: r.memo }, dataKey: r.data_key });
      let checked = 0;
      for (const [id, expected] of rows) {
        const row = byId.get(id);
        if (expected.acked === undefined) {
          if (row) expect(String((await read(row, String(row.tenant_id))).memo)).toBe(expected.pending);
          continue;
        }
        expect(row, `acknowledged row ${id} is missing`).toBeDefined();
        const tenant = String(row?.tenant_id);
        const memo = String((await read(row as Record<string, unknown>, tenant)).memo);
        expect(
          [expected.acked, expected.pending],
          `row ${id}; writer errors: ${errors.slice(-3000)}; trace: ${trace
            .filter((t) => t.includes(` ${id} `) || t.includes('exit'))
            .slice(-30)
            .join('; ')}`,
        ).toContain(memo);
        expect(memo.startsWith(`${tenant}/${id}/`)).toBe(true);
        const other = TENANTS.find((t) => t !== tenant) as string;
        await expect(read(row as Record<string, unknown>, other)).rejects.toThrow();
        checked++;
      }
      for (const id of byId.keys()) expect(rows.has(id), `row ${id} was never written`).toBe(true);
      expect(checked).toBeGreaterThan(100);
      // The runs beside the writers did re-wrap rows, and some of their writes met a row its writer
      // had just replaced: the guard sent them back to re-read instead of overwriting the new key.
      const written = reports.reduce((n, r) => n + r.totals.written, 0);
      const misses = reports.reduce((n, r) => n + (r.tables[0]?.guardMisses ?? 0), 0);
      expect(written).toBeGreaterThan(0);
      expect(misses).toBeGreaterThan(0);
      console.info(
        `[tenant-rotation] ${dialect}: ${acks} acknowledged writes on ${rows.size} rows; rotate wrote ${written}, ${misses} guard misses re-read`,
      );
    });
  },
);
