import { setTimeout as sleep } from 'node:timers/promises';
import { BlindIndex, LocalKeyring } from '@fieldseal/core';
import { fieldEncryption } from '@fieldseal/prisma';
import { afterAll, describe, expect, it } from 'vitest';
import { verify } from '../src/index.js';
import { installWriteLog, writeCounts } from './helpers/crash.js';
import {
  expectedChecksum,
  insertCustomers,
  JOB_DIALECTS,
  metadata,
  openDb,
  readChecksum,
  type TestDb,
} from './helpers/db.js';
import { startCli } from './helpers/run-cli.js';

const ROWS = 20_000;
const keys = LocalKeyring.generateKeyText('k1');
const keyring = LocalKeyring.fromString(keys);
const blindIndexKey = await BlindIndex.generateKey(keyring);

describe.each(JOB_DIALECTS)('4 concurrent migrate processes on %s, one SIGKILLed mid-run', (dialect) => {
  let db: TestDb;
  afterAll(async () => {
    await db?.drop();
  });

  it('split the work through the lease table: no row twice, none missed, the dead one taken over', async () => {
    db = await openDb(dialect);
    await insertCustomers(db, ROWS);
    await installWriteLog(db);
    const env = { ...db.env, FS_TEST_KEYS: keys, FS_TEST_BLIND_KEY: blindIndexKey };
    const args = [
      '--json',
      'migrate',
      '--model',
      'Customer',
      '--batch',
      '200',
      '--chunk-rows',
      '1000',
      '--lease-seconds',
      '2',
    ];
    const runs = Array.from({ length: 4 }, () => startCli(args, env));
    // Kill the first once it has committed some work of its own (its lease rows name its pid)
    // and holds a chunk.
    const pid = runs[0]?.child.pid as number;
    const leases = `${db.t('fieldseal_leases')}`;
    for (;;) {
      const [mine] = await db
        .sql(
          `SELECT COUNT(*) AS n FROM ${leases} WHERE owner LIKE ${dialect === 'postgres' ? '$1' : '?'} AND rows_done > 0 AND done = 0`,
          [`%:${pid}:%`],
        )
        .catch(() => [{ n: 0 }]);
      if (Number(mine?.n) > 0) break;
      await sleep(10);
    }
    await sleep(Math.floor(Math.random() * 100));
    runs[0]?.child.kill('SIGKILL');
    const results = await Promise.all(runs.map((run) => run.done));
    expect(results[0]?.signal).toBe('SIGKILL');
    const survivors = results.slice(1).map((run) => {
      expect(run.code, `${run.stderr}\n${run.stdout}`).toBe(0);
      return JSON.parse(run.stdout);
    });
    // Each survivor did part of the work; no survivor's write ever lost a race with another's.
    for (const report of survivors) {
      expect(report.tables[0].written).toBeGreaterThan(0);
      expect(report.tables[0].guardMisses).toBe(0);
    }
    expect(survivors.reduce((n, r) => n + r.tables[0].written, 0)).toBeLessThan(ROWS);
    // The chunk the killed worker held was taken over once its lease expired.
    expect(survivors.reduce((n, r) => n + r.tables[0].takenOver, 0)).toBeGreaterThanOrEqual(1);
    expect(await writeCounts(db, 'migrate')).toEqual({ rows: ROWS, twice: 0 });
    const result = await verify(db.config(keyring, { blindIndexKey }), { model: 'Customer' });
    expect(result.tables[0]).toMatchObject({ rows: ROWS, encrypted: ROWS, plaintext: 0, undecryptable: 0 });
    const app = db.client.$extends(fieldEncryption({ keyring, metadata, blindIndexKey }));
    expect(await readChecksum(app)).toEqual({ checksum: expectedChecksum(ROWS), rows: ROWS });
  });
});
