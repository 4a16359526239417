// End-to-end through the built binary with the TypeScript fixture config: loaded through tsx,
// it has its own copy of @fieldseal/core, so its errors are not this copy's classes.
import { BlindIndex, LocalKeyring } from '@fieldseal/core';
import { testDialects } from '@fieldseal/test-databases/dialects';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, insertCustomers, openDb, type TestDb } from './helpers/db.js';
import { runCli } from './helpers/run-cli.js';

const ROWS = 300;
const k1 = LocalKeyring.generateKeyText('k1');
const k2 = LocalKeyring.generateKeyText('k2');
const blindKey = await BlindIndex.generateKey(LocalKeyring.fromString(k1));

/** A message names its place once: `(table "customers", row 3)` never followed by itself. */
function expectNoRepeatedPlace(text: string): void {
  expect(text).not.toMatch(/(\([^()]*table "[^"]+"[^()]*\))\s*\1/);
  for (const line of text.split('\n')) expect(line.split('table "').length).toBeLessThanOrEqual(2);
}

describe.each(DIALECTS)('verify and key errors through the binary, on %s', (dialect) => {
  let db: TestDb;
  let env: Record<string, string>;
  beforeAll(async () => {
    db = await openDb(dialect);
    await insertCustomers(db, ROWS);
    env = { ...db.env, FS_TEST_KEYS: k1, FS_TEST_BLIND_KEY: blindKey };
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('verify fails on plaintext rows, naming how many and which, unless --allow-plaintext', async () => {
    const plain = await runCli(['verify', '--model', 'Customer'], env);
    expect(plain.code).toBe(1);
    expect(plain.stdout).toContain('verify: FAILED');
    expect(plain.stdout).toContain(`${ROWS} rows hold plaintext: ids 1, 2, 3,`);
    expect(plain.stdout).toContain(`… ${ROWS - 20} more`);
    const json = await runCli(['--json', 'verify', '--model', 'Customer'], env);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout);
    expect(report).toMatchObject({ ok: false, plaintext: ROWS, plaintextAllowed: false });
    expect(report.tables[0].plaintextIds.slice(0, 3)).toEqual(['1', '2', '3']);
    const allowed = await runCli(['verify', '--model', 'Customer', '--allow-plaintext'], env);
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toContain(`${ROWS} rows hold plaintext (allowed: --allow-plaintext)`);
  });

  it('verify with only a retired key: exit 1, every row listed as unknown-master-key', async () => {
    const migrated = await runCli(['migrate', '--model', 'Customer'], env);
    expect(migrated.code, migrated.stderr).toBe(0);
    const retired = { ...env, FS_TEST_KEYS: k2 };
    const text = await runCli(['verify', '--model', 'Customer'], retired);
    expect(text.code, text.stderr).toBe(1);
    expect(text.stdout).toContain(`${ROWS} undecryptable`);
    expect(text.stdout).toContain('row 1: unknown-master-key');
    expect(text.stdout).toContain(`row ${ROWS}: unknown-master-key`.replace(`${ROWS}`, '50'));
    expectNoRepeatedPlace(text.stdout + text.stderr);
    const json = await runCli(['--json', 'verify', '--model', 'Customer'], retired);
    const report = JSON.parse(json.stdout);
    expect(report.tables[0].problems).toHaveLength(ROWS);
    expect(new Set(report.tables[0].problems.map((p: { code: string }) => p.code))).toEqual(
      new Set(['unknown-master-key']),
    );
    for (const problem of report.tables[0].problems) expectNoRepeatedPlace(problem.message);
  });

  it("rotate with a keyring missing the rows' key: row errors keep their type, exit 1, no lease left held", async () => {
    const run = await runCli(['--json', 'rotate', '--to', 'k2', '--model', 'Customer'], {
      ...env,
      FS_TEST_KEYS: k2,
    });
    expect(run.code, run.stderr).toBe(1);
    const report = JSON.parse(run.stdout);
    expect(report.totals).toMatchObject({ written: 0, problems: ROWS, remaining: ROWS });
    expect(report.tables[0].problems[0]).toMatchObject({ rowId: '1', code: 'unknown-master-key' });
    const held = await db.sql(
      `SELECT COUNT(*) AS n FROM ${db.t('fieldseal_leases')} WHERE owner IS NOT NULL`,
    );
    expect(Number(held[0]?.n)).toBe(0);
    const rows = await db.sql(`SELECT COUNT(*) AS n FROM ${db.t('fieldseal_leases')}`);
    expect(Number(rows[0]?.n)).toBe(0);
  });

  it('a key error before any write keeps its code and names its place once (exit 3)', async () => {
    // The blind-index key is wrapped under k1; a keyring with only k2 cannot open it.
    const run = await runCli(['migrate', '--model', 'Customer'], { ...env, FS_TEST_KEYS: k2 });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('The keyring cannot open the blind-index key');
    expect(run.stderr).toContain('[unknown-master-key]');
    expectNoRepeatedPlace(run.stderr);
  });

  it('rotate --dry-run checks the target key: exit 3 when it cannot be used, a count when it can', async () => {
    const unusable = await runCli(['rotate', '--to', 'k9', '--dry-run', '--model', 'Customer'], env);
    expect(unusable.code).toBe(3);
    expect(unusable.stderr).toContain('cannot use master key "k9"');
    expect(unusable.stdout).not.toContain('would be re-wrapped');
    const usable = await runCli(['rotate', '--to', 'k2', '--dry-run', '--model', 'Customer'], {
      ...env,
      FS_TEST_KEYS: `${k1}\n${k2}`,
    });
    expect(usable.code, usable.stderr).toBe(0);
    expect(usable.stdout).toContain(`${ROWS} rows would be re-wrapped`);
  });
});

// A live PostgreSQL server answers "does not exist" (FIELDSEAL_SKIP_DB=1 runs leave it out, counted).
describe.each(testDialects(['postgres'] as const, []))(
  'database errors keep their detail (%s)',
  (dialect) => {
    it('a database that does not exist is named, not an empty message', async () => {
      const run = await runCli(['status'], {
        FS_TEST_DIALECT: dialect,
        FS_TEST_PG_SCHEMA: 'public',
        FIELDSEAL_PG_URL: 'postgresql://postgres@127.0.0.1:5432/fs_no_such_database',
        FS_TEST_KEYS: k1,
      });
      expect(run.code).toBe(3);
      expect(run.stderr).toContain('Cannot reach the database: ');
      expect(run.stderr).toContain('database "fs_no_such_database" does not exist');
    });
  },
);
