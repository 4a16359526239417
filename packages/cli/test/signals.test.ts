import { BlindIndex, LocalKeyring } from '@fieldseal/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, insertCustomers, openDb, type TestDb } from './helpers/db.js';
import { encryptedCount, interruptAfterProgress } from './helpers/interrupt.js';
import { runCli } from './helpers/run-cli.js';

const ROWS = 5_000;
const keys = LocalKeyring.generateKeyText('k1');
const blindKey = await BlindIndex.generateKey(LocalKeyring.fromString(keys));
// A long lease: if Ctrl-C kept it, the rerun would sit idle for a minute.
const JOB = ['--model', 'Customer', '--batch', '10', '--chunk-rows', '1000', '--lease-seconds', '60'];

describe.each(DIALECTS)("Ctrl-C and other workers' leases, on %s", (dialect) => {
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

  it('SIGINT stops after the batch and gives its chunk back with its checkpoint', async () => {
    const run = await interruptAfterProgress(db, ['migrate', ...JOB], env, 'SIGINT', 10);
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(1);
    expect(run.stdout).toContain('stopped by signal: claimed chunks were given back with their checkpoints');
    const leases = await db.sql(
      `SELECT owner, cursor_key, rows_done FROM ${db.t('fieldseal_leases')} WHERE chunk >= 0 ORDER BY chunk`,
    );
    expect(leases.length).toBeGreaterThan(1);
    expect(leases.filter((lease) => lease.owner !== null)).toEqual([]);
    const checkpointed = leases.reduce((n, lease) => n + Number(lease.rows_done), 0);
    expect(checkpointed).toBeGreaterThan(0);
    expect(checkpointed).toBeLessThanOrEqual(await encryptedCount(db));
  });

  it('a rerun waiting on a live lease says so, then takes the chunk over when it expires', async () => {
    // Another worker (elsewhere) holds every chunk for 20 more seconds (the CLI takes seconds to start).
    const until = Date.now() + 20_000;
    await db.sql(
      `UPDATE ${db.t('fieldseal_leases')} SET owner = 'elsewhere:4242:abcdef:0', expires_at = ${until} WHERE chunk >= 0 AND done = 0`,
    );
    const run = await runCli(['migrate', ...JOB], env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr, run.stdout).toMatch(
      /migrate: Customer: waiting for chunk \d+, held by another live worker \(elsewhere:4242:abcdef:0\); it is taken over if that worker makes no progress for \d+ s/,
    );
    expect(await encryptedCount(db)).toBe(ROWS);
  });
});
