import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { AwsKmsKeyring } from '@fieldseal/aws-kms';
import { BlindIndex, LocalKeyring } from '@fieldseal/core';
import { startKmsServer } from '@fieldseal/kms-local';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertCustomers, openDb, type TestDb } from './helpers/db.js';
import { runCli } from './helpers/run-cli.js';

const keys = LocalKeyring.generateKeyText('k1');
const keyring = LocalKeyring.fromString(keys);
const blindKey = await BlindIndex.generateKey(keyring);

/** Everything in the customers table, to prove a failed command changed nothing. */
async function snapshot(db: TestDb) {
  return db.sql(`SELECT * FROM ${db.t('customers')} ORDER BY id`);
}

async function leaseTableExists(db: TestDb): Promise<boolean> {
  const rows =
    db.dialect === 'sqlite'
      ? await db.sql("SELECT name FROM sqlite_master WHERE name = 'fieldseal_leases'")
      : await db.sql('SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2', [
          db.name,
          'fieldseal_leases',
        ]);
  return rows.length > 0;
}

describe('the fieldseal binary as a subprocess', () => {
  let db: TestDb;
  let env: Record<string, string>;
  const dir = mkdtempSync(join(tmpdir(), 'fs-cli-'));
  beforeAll(async () => {
    db = await openDb('sqlite');
    await insertCustomers(db, 300);
    env = { ...db.env, FS_TEST_KEYS: keys, FS_TEST_BLIND_KEY: blindKey };
  });
  afterAll(async () => {
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('migrate --json then verify --json: exit 0, machine-readable results', async () => {
    const migrated = await runCli(['--json', 'migrate', '--batch', '100'], env);
    expect(migrated.stderr).toBe('');
    expect(migrated.code).toBe(0);
    const report = JSON.parse(migrated.stdout);
    expect(report).toMatchObject({ command: 'migrate', ok: true, totals: { written: 300, problems: 0 } });
    const verified = await runCli(['--json', 'verify'], env);
    expect(verified.code).toBe(0);
    const result = JSON.parse(verified.stdout);
    expect(result.ok).toBe(true);
    expect(result.tables.find((t: { model: string }) => t.model === 'Customer')).toMatchObject({
      rows: 300,
      encrypted: 300,
      undecryptable: 0,
    });
    const status = await runCli(['status'], env);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('Customer (customers): 300 rows, 100% encrypted');
    expect(status.stdout).toContain('key k1: 300 rows');
  });

  it('verify exits 1 and names the row when a value does not decrypt', async () => {
    const [row] = await db.sql(`SELECT email FROM ${db.t('customers')} WHERE id = 42`);
    const email = String(row?.email);
    // Flip one character of the ciphertext body.
    const flipped = `${email.slice(0, -3)}${email.at(-3) === 'A' ? 'B' : 'A'}${email.slice(-2)}`;
    await db.sql(`UPDATE ${db.t('customers')} SET email = ? WHERE id = 42`, [flipped]);
    try {
      const verified = await runCli(['verify', '--model', 'Customer'], env);
      expect(verified.code).toBe(1);
      expect(verified.stdout).toContain('1 undecryptable');
      expect(verified.stdout).toMatch(/row 42 \(email\): (authentication-failed|malformed-value)/);
      expect(verified.stdout).not.toContain('user42@');
    } finally {
      await db.sql(`UPDATE ${db.t('customers')} SET email = ? WHERE id = 42`, [email]);
    }
  });

  it('an unknown model: exit 2, a clear message, nothing changed', async () => {
    await insertCustomers(db, 5, 301);
    const before = await snapshot(db);
    const run = await runCli(['migrate', '--model', 'Nope'], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Unknown model "Nope"; the config lists: Customer, Document, BenchRow');
    expect(await snapshot(db)).toEqual(before);
  });

  it('a config file that does not load, or exports the wrong thing: exit 2', async () => {
    const broken = join(dir, 'broken.config.mjs');
    writeFileSync(broken, 'export default {{ nope');
    const run = await runCli(['--config', broken, 'migrate'], env, false);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`Cannot load config file ${broken}`);
    const wrong = join(dir, 'wrong.config.js');
    writeFileSync(wrong, 'export default { tables: [] };');
    const second = await runCli(['--config', wrong, 'status'], env, false);
    expect(second.code).toBe(2);
    expect(second.stderr).toContain('"executor" must be an SqlExecutor');
    const missing = await runCli(['--config', join(dir, 'absent.ts'), 'status'], env, false);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('does not exist');
  });

  it('a KMS that is down: exit 3, a clear message, nothing changed (not even a lease table)', async () => {
    const fresh = await openDb('sqlite');
    try {
      await insertCustomers(fresh, 50);
      const kms = await startKmsServer({ port: 0, warn: () => {} });
      const client = new KMSClient({ ...kms.clientConfig, maxAttempts: 1 });
      try {
        const { KeyMetadata } = await client.send(new CreateKeyCommand({}));
        const arn = KeyMetadata?.Arn as string;
        const indexKey = await BlindIndex.generateKey(new AwsKmsKeyring({ keyId: arn, client }));
        kms.setFaults({ failNext: { count: 1_000 } });
        const before = await snapshot(fresh);
        const run = await runCli(['migrate', '--model', 'Customer'], {
          ...fresh.env,
          FS_TEST_KMS_ENDPOINT: kms.endpoint,
          FS_TEST_KMS_KEY: arn,
          FS_TEST_BLIND_KEY: indexKey,
        });
        expect(run.code).toBe(3);
        expect(run.stderr).toMatch(/The keyring cannot (make a data key|open the blind-index key): /);
        expect(run.stderr).not.toContain('(KMS)');
        expect(await snapshot(fresh)).toEqual(before);
        expect(await leaseTableExists(fresh)).toBe(false);
      } finally {
        client.destroy();
        await kms.close();
      }
    } finally {
      await fresh.drop();
    }
  });

  it('an unreachable database: exit 3, a clear message', async () => {
    const run = await runCli(['migrate'], {
      FS_TEST_DIALECT: 'postgres',
      FS_TEST_PG_SCHEMA: 'nowhere',
      FIELDSEAL_PG_URL: 'postgresql://postgres@127.0.0.1:1/test',
      FS_TEST_KEYS: keys,
      FS_TEST_BLIND_KEY: blindKey,
    });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('Cannot reach the database');
  });

  it('init writes a starter config and refuses to overwrite it; keygen prints a key LocalKeyring reads', async () => {
    const out = join(dir, 'fieldseal.config.ts');
    const init = await runCli(['init', '--orm', 'typeorm', '--out', out], {}, false);
    expect(init.code).toBe(0);
    expect(readFileSync(out, 'utf8')).toContain("from '@fieldseal/typeorm'");
    const again = await runCli(['init', '--out', out], {}, false);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('exists; pass --force');
    const keygen = await runCli(['keygen', '--id', 'ops-2027'], {}, false);
    expect(keygen.code).toBe(0);
    const generated = LocalKeyring.fromString(keygen.stdout.trim());
    expect(generated.primaryKeyId).toBe('ops-2027');
    const other = await runCli(['keygen', '--id', 'ops-2027'], {}, false);
    expect(other.stdout).not.toBe(keygen.stdout);
  });

  it('bench is mounted: a tiny real run prints its table and writes JSON; a bad setting exits non-zero', async () => {
    const out = join(dir, 'bench-out');
    const run = await runCli(
      [
        'bench',
        '--targets',
        'core',
        '--workloads',
        'encrypt',
        '--setting',
        'off',
        '--setting',
        'maxUses=100,maxAge=5m,capacity=10',
        '--rows',
        '200',
        '--duration',
        '400',
        '--latency',
        '1',
        '--jitter',
        '0',
        '--no-peers',
        '--out',
        out,
      ],
      {},
      false,
    );
    expect(run.stderr).not.toContain('fieldseal:');
    expect(run.code).toBe(0);
    const json = JSON.parse(readFileSync(join(out, 'bench.json'), 'utf8')) as {
      results: { setting: string }[];
    };
    expect(json.results.map((r) => r.setting).sort()).toEqual(['100 uses · 5m · cap 10', 'off'].sort());
    const bad = await runCli(['bench', '--setting', 'maxKeys=3'], {}, false);
    expect(bad.code).not.toBe(0);
  });

  it('kms-server is not shipped in the CLI: it names the @fieldseal/kms-local command with the same options', async () => {
    const run = await runCli(['kms-server', '--port', '0', '--latency-ms', '5'], {}, false);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('npx @fieldseal/kms-local --port 0 --latency-ms 5');
  });
});
