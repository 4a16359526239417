// End-to-end through the built binary with the TypeScript fixture config (loaded through tsx).
import { BlindIndex, LocalKeyring } from '@fieldseal/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, insertCustomers, openDb, type TestDb } from './helpers/db.js';
import { encryptedCount, interruptAfterProgress } from './helpers/interrupt.js';
import { runCli } from './helpers/run-cli.js';

const ROWS = 2_000;
// Six to eight CLI processes per test, each loading the TypeScript config: seconds apiece on a
// loaded CI machine.
const TIMEOUT = 300_000;
const keys = LocalKeyring.generateKeyText('k1');
const blindKey = await BlindIndex.generateKey(LocalKeyring.fromString(keys));
const JOB = ['--model', 'Customer', '--batch', '50', '--chunk-rows', '1000', '--lease-seconds', '60'];

/** What the lease expiring looks like (instead of waiting the 60 s the killed worker claimed). */
async function expireLeases(db: TestDb): Promise<void> {
  await db.sql(`UPDATE ${db.t('fieldseal_leases')} SET expires_at = 0`);
}

async function plaintextCount(db: TestDb): Promise<number> {
  const [row] = await db.sql(
    `SELECT COUNT(*) AS n FROM ${db.t('customers')} WHERE data_key IS NULL OR email NOT LIKE 'fs2:%'`,
  );
  return Number(row?.n ?? 0);
}

describe.each(DIALECTS)('checkpoints belong to one job, on %s', (dialect) => {
  let db: TestDb;
  let env: Record<string, string>;
  beforeAll(async () => {
    db = await openDb(dialect);
    await insertCustomers(db, ROWS);
    env = { ...db.env, FS_TEST_KEYS: keys, FS_TEST_BLIND_KEY: blindKey };
  });
  afterAll(async () => {
    await db?.drop();
  });

  it(
    'migrate killed, migrate --decrypt, migrate: the last run encrypts every row, not only unchecked ones',
    async () => {
      const killed = await interruptAfterProgress(db, ['migrate', ...JOB], env, 'SIGKILL', 200);
      expect(killed.signal).toBe('SIGKILL');
      const written = await encryptedCount(db);
      expect(written).toBeGreaterThan(0);
      expect(written).toBeLessThan(ROWS);

      // The killed worker's lease is live for 60 s: another job refuses to start meanwhile.
      const early = await runCli(['migrate', '--decrypt', ...JOB], env);
      expect(early.code).toBe(3);
      expect(early.stderr).toMatch(/Another job \("migrate key=k1 format=v\d"\) is running on /);
      await expireLeases(db);
      const back = await runCli(['--json', 'migrate', '--decrypt', ...JOB], env);
      expect(back.code, back.stderr).toBe(0);
      expect(await encryptedCount(db)).toBe(0);

      const again = await runCli(['--json', 'migrate', ...JOB], env);
      expect(again.code, again.stderr).toBe(0);
      expect(JSON.parse(again.stdout)).toMatchObject({ ok: true, totals: { written: ROWS, remaining: 0 } });
      expect(await plaintextCount(db)).toBe(0);
      const verified = await runCli(['verify', '--model', 'Customer'], env);
      expect(verified.code, verified.stdout).toBe(0);
      expect(verified.stdout).toContain(`${ROWS} encrypted, 0 plaintext`);
    },
    TIMEOUT,
  );

  it(
    '"done" is checked: when checkpoints claim more than was done, migrate exits 1 naming the rows',
    async () => {
      await runCli(['migrate', '--decrypt', ...JOB], env);
      const killed = await interruptAfterProgress(db, ['migrate', ...JOB], env, 'SIGKILL', 200);
      expect(killed.signal).toBe('SIGKILL');
      await expireLeases(db);
      const left = ROWS - (await encryptedCount(db));
      expect(left).toBeGreaterThan(0);
      // Checkpoints that lie (a restored lease table, a bug): every chunk marked done.
      await db.sql(`UPDATE ${db.t('fieldseal_leases')} SET done = 1, owner = NULL WHERE chunk >= 0`);
      const run = await runCli(['migrate', ...JOB], env);
      expect(run.code).toBe(1);
      expect(run.stdout).toContain(`NOT DONE: ${left} rows still hold plaintext after the run (ids `);
      const json = await runCli(['--json', 'migrate', ...JOB], env);
      const report = JSON.parse(json.stdout);
      // The lying job was finished and forgotten by the run above; this one does the work.
      expect(json.code, json.stderr).toBe(0);
      expect(report.totals).toMatchObject({ written: left, remaining: 0 });
      expect(await plaintextCount(db)).toBe(0);
    },
    TIMEOUT,
  );
});
