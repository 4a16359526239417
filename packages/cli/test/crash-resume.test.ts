import { BlindIndex, LocalKeyring } from '@fieldseal/core';
import { fieldEncryption } from '@fieldseal/prisma';
import { afterAll, describe, expect, it } from 'vitest';
import { verify } from '../src/index.js';
import { installWriteLog, killAndResume, writeCounts } from './helpers/crash.js';
import {
  expectedChecksum,
  insertCustomers,
  JOB_DIALECTS,
  metadata,
  openDb,
  readChecksum,
  type TestDb,
} from './helpers/db.js';

// CI: 5 kills over 20,000 rows. `pnpm test:soak`: 20 kills over 100,000 rows.
const SOAK = process.env.FIELDSEAL_SOAK === '1';
const ROWS = SOAK ? 100_000 : 20_000;
const KILLS = SOAK ? 20 : 5;
const TIMEOUT = SOAK ? 1_800_000 : 120_000;
const oldKey = LocalKeyring.generateKeyText('old-1');
const newKey = LocalKeyring.generateKeyText('new-2');
const blindIndexKey = await BlindIndex.generateKey(LocalKeyring.fromString(oldKey));
const JOB_ARGS = [
  '--model',
  'Customer',
  '--batch',
  SOAK ? '1000' : '250',
  '--chunk-rows',
  SOAK ? '10000' : '2000',
  '--lease-seconds',
  '1',
];

describe.each(JOB_DIALECTS)('SIGKILL and resume on %s', (dialect) => {
  let db: TestDb;
  afterAll(async () => {
    await db?.drop();
  });

  it(
    `migrate killed ${KILLS} times over ${ROWS} rows: every row encrypted exactly once, plaintext intact`,
    async () => {
      db = await openDb(dialect);
      await insertCustomers(db, ROWS);
      await installWriteLog(db);
      const env = { ...db.env, FS_TEST_KEYS: oldKey, FS_TEST_BLIND_KEY: blindIndexKey };
      const began = Date.now();
      const { killed, final } = await killAndResume(db, ['migrate', ...JOB_ARGS], env, 'migrate', KILLS);
      const seconds = (Date.now() - began) / 1000;
      expect(final.code, final.stderr).toBe(0);
      expect(killed).toBeGreaterThanOrEqual(Math.min(2, KILLS));
      const report = JSON.parse(final.stdout);
      // The last run continued from the checkpoints instead of rescanning the table.
      expect(report.totals.scanned).toBeLessThan(ROWS);
      expect(await writeCounts(db, 'migrate')).toEqual({ rows: ROWS, twice: 0 });
      const keyring = LocalKeyring.fromString(oldKey);
      const result = await verify(db.config(keyring, { blindIndexKey }), { model: 'Customer' });
      expect(result.tables[0]).toMatchObject({
        rows: ROWS,
        encrypted: ROWS,
        plaintext: 0,
        undecryptable: 0,
        indexMismatches: 0,
      });
      const app = db.client.$extends(fieldEncryption({ keyring, metadata, blindIndexKey }));
      expect(await readChecksum(app)).toEqual({ checksum: expectedChecksum(ROWS), rows: ROWS });
      const leases = await db.sql(`SELECT COUNT(*) AS n FROM ${db.t('fieldseal_leases')}`);
      expect(Number(leases[0]?.n)).toBe(0); // a finished job is forgotten
      console.info(
        `[crash] ${dialect} migrate: ${ROWS} rows, ${killed} kills, ${seconds.toFixed(1)} s in all`,
      );
    },
    TIMEOUT,
  );

  it(
    `rotate killed ${KILLS} times: every data key re-wrapped exactly once; only the new key is needed`,
    async () => {
      const env = { ...db.env, FS_TEST_KEYS: `${oldKey}\n${newKey}`, FS_TEST_BLIND_KEY: blindIndexKey };
      const began = Date.now();
      const { killed, final } = await killAndResume(
        db,
        ['rotate', '--to', 'new-2', ...JOB_ARGS],
        env,
        'rotate',
        KILLS,
        40,
      );
      const seconds = (Date.now() - began) / 1000;
      expect(final.code, final.stderr).toBe(0);
      expect(killed).toBeGreaterThanOrEqual(Math.min(2, KILLS));
      expect(await writeCounts(db, 'rotate')).toEqual({ rows: ROWS, twice: 0 });
      const onlyNew = LocalKeyring.fromString(newKey);
      const result = await verify(db.config(onlyNew), { model: 'Customer' });
      expect(result.tables[0]).toMatchObject({ rows: ROWS, encrypted: ROWS, undecryptable: 0 });
      const app = db.client.$extends(
        fieldEncryption({
          keyring: onlyNew,
          metadata,
          readMode: 'strict',
          blindIndexKey: JSON.parse(final.stdout).blindIndexKey,
        }),
      );
      expect(await readChecksum(app)).toEqual({ checksum: expectedChecksum(ROWS), rows: ROWS });
      console.info(
        `[crash] ${dialect} rotate: ${ROWS} rows, ${killed} kills, ${seconds.toFixed(1)} s in all`,
      );
    },
    TIMEOUT,
  );
});
