import { BlindIndex, LocalKeyring } from '@fieldseal/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guardStatus, migrate } from '../src/index.js';
import { insertCustomers, JOB_DIALECTS, openDb, type TestDb } from './helpers/db.js';
import { runCli, runCliOnTerminal } from './helpers/run-cli.js';

const keys = LocalKeyring.generateKeyText('k1');
const keyring = LocalKeyring.fromString(keys);
const blindIndexKey = await BlindIndex.generateKey(keyring);

/** Applies a printed DDL script statement by statement with the test's own driver (as a migration tool would). */
async function apply(db: TestDb, script: string): Promise<void> {
  const statements = script
    .split('\n')
    .filter((line) => !line.startsWith('--'))
    .join('\n')
    .split(/;\s*(?:--[^\n]*)?\n/)
    .map((s) => s.trim())
    .filter(Boolean);
  for (const statement of statements) await db.sql(statement);
}

/** One table's guard status through the library (no subprocess). */
async function tableStatus(db: TestDb) {
  return (await guardStatus(db.config(keyring, { blindIndexKey }), { model: 'Customer' })).tables[0];
}

// Every subprocess loads the TypeScript config through tsx (seconds each on a busy machine): the
// command flow runs on SQLite; the DDL each dialect prints is applied on all three.
describe('fieldseal guard, migrate and verify (subprocess, SQLite)', () => {
  let db: TestDb;
  let env: Record<string, string>;
  beforeAll(async () => {
    db = await openDb('sqlite');
    await insertCustomers(db, 50);
    env = { ...db.env, FS_TEST_KEYS: keys, FS_TEST_BLIND_KEY: blindIndexKey };
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('install refuses a table holding plaintext, and status reports it: exit 1, counts and ids, never a value', async () => {
    const run = await runCli(['guard', 'install', '--model', 'Customer'], env);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      '50 rows break fieldseal_guard_customers_email (value column email); first ids: 1, 2, 3',
    );
    expect(run.stdout).toContain('run `fieldseal migrate`');
    expect(run.stdout).not.toMatch(/example\.com|ssn-/);
    expect((await tableStatus(db))?.installed).toEqual([]);
    // status exits 1 while guards are missing or broken, and names no value either.
    const status = await runCli(['guard', 'status', '--model', 'Customer'], env);
    expect(status.code).toBe(1);
    expect(status.stdout).toContain('Customer (customers): no guards installed (4 expected)');
    expect(status.stdout).toContain('50 rows break fieldseal_guard_customers_email');
    expect(status.stdout).not.toMatch(/example\.com|ssn-/);
  });

  it('migrate hints at the guards; verify warns while they are missing', async () => {
    const migrated = await runCli(['migrate', '--model', 'Customer'], env);
    expect(migrated.code, migrated.stderr + migrated.stdout).toBe(0);
    expect(migrated.stderr).toContain('hint: Customer is 100% encrypted; `fieldseal guard install`');
    const verified = await runCli(['verify', '--model', 'Customer'], env);
    expect(verified.code).toBe(0);
    expect(verified.stderr).toContain('warning: Customer (customers) lacks 4 of 4 database guards');
  });

  it('migrate --install-guards installs them; guard status --json exits 0; migrate --decrypt removes them first', async () => {
    const migrated = await runCli(['migrate', '--install-guards', '--model', 'Customer'], env);
    expect(migrated.code, migrated.stderr + migrated.stdout).toBe(0);
    expect(migrated.stderr).toContain('guard install:');
    const status = await runCli(['--json', 'guard', 'status', '--model', 'Customer'], env);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout).tables[0]).toMatchObject({ missing: [], violations: [] });
    const decrypted = await runCli(['migrate', '--decrypt', '--model', 'Customer'], env);
    expect(decrypted.code, decrypted.stderr).toBe(0);
    expect((await tableStatus(db))?.installed).toEqual([]);
    const [row] = await db.sql(`SELECT email FROM ${db.t('customers')} WHERE id = 7`);
    expect(row?.email).toBe('user7@example.com');
  });
});

describe('fieldseal migrate on a terminal (SQLite)', () => {
  let db: TestDb;
  let env: Record<string, string>;
  beforeAll(async () => {
    db = await openDb('sqlite');
    await insertCustomers(db, 30);
    env = { ...db.env, FS_TEST_KEYS: keys, FS_TEST_BLIND_KEY: blindIndexKey };
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('asks to install guards once a table is 100% encrypted: "n" leaves them out with the hint, "y" installs them', async () => {
    const declined = await runCliOnTerminal(['migrate', '--model', 'Customer'], env, 'n\n');
    expect(declined.code, declined.output).toBe(0);
    expect(declined.output).toContain('Customer: 100% encrypted. Install database guards now? [y/N]');
    expect(declined.output).toContain('hint: Customer is 100% encrypted');
    expect((await tableStatus(db))?.installed).toEqual([]);
    // Nothing left to encrypt; the table still lacks guards, so a rerun asks again.
    const accepted = await runCliOnTerminal(['migrate', '--model', 'Customer'], env, 'y\n');
    expect(accepted.code, accepted.output).toBe(0);
    expect(accepted.output).toContain('guard install:');
    expect(await tableStatus(db)).toMatchObject({ missing: [], violations: [] });
    await expect(db.sql(`UPDATE ${db.t('customers')} SET ssn = 'plain' WHERE id = 1`)).rejects.toThrow(
      /fieldseal_guard_customers_ssn/,
    );
  });
});

describe.each(JOB_DIALECTS)('fieldseal guard sql on %s', (dialect) => {
  let db: TestDb;
  beforeAll(async () => {
    db = await openDb(dialect);
    await insertCustomers(db, 20);
    expect((await migrate(db.config(keyring, { blindIndexKey }), { model: 'Customer' })).ok).toBe(true);
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('prints DDL that installs, and removes, the same guards when another tool applies it', async () => {
    const env = { ...db.env, FS_TEST_KEYS: keys, FS_TEST_BLIND_KEY: blindIndexKey };
    const sql = await runCli(['guard', 'sql', '--model', 'Customer'], env);
    expect(sql.code).toBe(0);
    if (dialect === 'postgres') expect(sql.stdout).toMatch(/NOT VALID;\n[\s\S]*VALIDATE CONSTRAINT/);
    if (dialect === 'sqlite') expect(sql.stdout).toContain('PRAGMA foreign_keys = OFF;\nBEGIN;');
    await apply(db, sql.stdout);
    expect(await tableStatus(db)).toMatchObject({ missing: [], violations: [] });
    await expect(db.sql(`UPDATE ${db.t('customers')} SET ssn = 'plain' WHERE id = 1`)).rejects.toThrow(
      /fieldseal_guard_customers_ssn/,
    );
    const removal = await runCli(['guard', 'sql', '--remove', '--model', 'Customer'], env);
    await apply(db, removal.stdout);
    expect((await tableStatus(db))?.installed).toEqual([]);
  });
});
