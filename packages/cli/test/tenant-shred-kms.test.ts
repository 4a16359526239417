/**
 * `fieldseal shred --tenant X` with branch keys wrapped by AWS KMS (kms-local, real SDK): the
 * tenant's own KMS key is scheduled for deletion (and then refuses Decrypt), a key shared with
 * another tenant or the default keyring's key is never touched, `--no-schedule-key-deletion`
 * skips it, `--pending-window-days` sets the window, and a refused prompt schedules nothing.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CreateKeyCommand, DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { AwsKmsKeyring } from '@fieldseal/aws-kms';
import { BranchKeyKeyring, BranchKeyStore } from '@fieldseal/branch-keys';
import { RowEnvelope } from '@fieldseal/core';
import { type KmsServer, startKmsServer } from '@fieldseal/kms-local';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDb, type TestDb } from '../../branch-keys/test/helpers/databases.js';
import { BIN } from './helpers/run-cli.js';

const CONFIG = fileURLToPath(new URL('./fixtures/tenants-kms.config.ts', import.meta.url));
const DAY = 86_400_000;

describe('shred schedules deletion of a tenant’s own KMS key (kms-local, real SDK) on sqlite', () => {
  let db: TestDb;
  let kms: KmsServer;
  let client: KMSClient;
  beforeEach(async () => {
    db = await openDb('sqlite');
    kms = await startKmsServer({ port: 0, warn: () => {} });
    client = new KMSClient({ ...kms.clientConfig, maxAttempts: 1 });
    await db.raw(
      'CREATE TABLE invoices (id INTEGER PRIMARY KEY, tenant_id VARCHAR(64) NOT NULL, memo TEXT, data_key TEXT)',
    );
  });
  afterEach(async () => {
    client.destroy();
    await kms.close();
    await db.close();
  });

  it('schedules only the tenant’s own key; shared and default keys are kept and say why; --no-schedule-key-deletion and --pending-window-days work; a refused prompt schedules nothing', async () => {
    const newKey = async () => (await client.send(new CreateKeyCommand({}))).KeyMetadata?.Arn as string;
    const state = async (keyId: string) =>
      (await client.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata;
    const byDefault = await newKey();
    const own = { acme: await newKey(), globex: await newKey(), stark: await newKey() };
    const shared = await newKey(); // initech and umbrella bring the same key
    const tenants: Record<string, string> = { ...own, initech: shared, umbrella: shared };
    const env = {
      ...process.env,
      FS_TEST_DIALECT: db.location.dialect,
      FS_TEST_TARGET: db.location.target,
      FS_TEST_KMS: JSON.stringify(kms.clientConfig),
      FS_TEST_KMS_DEFAULT: byDefault,
      FS_TEST_KMS_TENANTS: JSON.stringify(tenants),
    };
    const cli = (args: string[], stdin = '') =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [BIN, '--config', CONFIG, ...args], { env });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (c) => {
          stdout += c;
        });
        child.stderr.on('data', (c) => {
          stderr += c;
        });
        child.stdin.end(stdin);
        child.on('close', (code) => resolve({ code, stdout, stderr }));
      });
    const json = async (args: string[]) => {
      const run = await cli(['--json', ...args]);
      expect(run.code, run.stderr).toBe(0);
      return JSON.parse(run.stdout);
    };

    // The app: two rows per tenant through branch keys, each tenant's wrapped by its own KMS key
    // or the default one (hooli brings none).
    const fallback = new AwsKmsKeyring({ keyId: byDefault, client });
    const store = new BranchKeyStore({
      executor: db.executor,
      keyring: fallback,
      keyringFor: (t) => (tenants[t] ? new AwsKmsKeyring({ keyId: tenants[t] as string, client }) : fallback),
    });
    await store.ensureTable();
    const envelope = new RowEnvelope({ keyring: new BranchKeyKeyring({ store }) });
    let id = 1;
    for (const tenant of ['acme', 'globex', 'stark', 'initech', 'umbrella', 'hooli'])
      for (let i = 0; i < 2; i++) {
        const row = await envelope.encryptRow({
          table: 'invoices',
          tenant,
          values: { memo: `${tenant} ${i}` },
        });
        await db.raw('INSERT INTO invoices (id, tenant_id, memo, data_key) VALUES (?, ?, ?, ?)', [
          id++,
          tenant,
          row.values.memo,
          row.dataKey,
        ]);
      }
    // A data key wrapped directly by acme's KMS key: it must stop opening once the key is scheduled.
    const acmeKms = new AwsKmsKeyring({ keyId: own.acme, client });
    const probe = await acmeKms.generateDataKey({ purpose: 'probe' });

    // A wrong answer destroys nothing and schedules nothing; the prompt names what would happen.
    const refused = await cli(['shred', '--tenant', 'acme'], 'nope\n');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`schedules deletion of its own KMS key ${own.acme} in 30 days`);
    expect((await state(own.acme))?.KeyState).toBe('Enabled');

    const before = Date.now();
    const done = await cli(['shred', '--tenant', 'acme'], 'acme\n');
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toContain(`scheduled deletion of tenant acme's own KMS key ${own.acme}`);
    const acmeKey = await state(own.acme);
    expect(acmeKey?.KeyState).toBe('PendingDeletion');
    expect(acmeKey?.DeletionDate?.getTime()).toBeGreaterThanOrEqual(before + 30 * DAY - 1_000);
    expect(acmeKey?.DeletionDate?.getTime()).toBeLessThanOrEqual(Date.now() + 30 * DAY + 1_000);
    await expect(acmeKms.decryptDataKey(probe.encryptedKey, { purpose: 'probe' })).rejects.toMatchObject({
      code: 'key-pending-deletion',
    });

    // initech shares its key with umbrella: kept, and the output says why.
    const initech = await json(['shred', '--tenant', 'initech', '--yes']);
    expect(initech.destroyed).toHaveLength(1);
    expect(initech.masterKeys).toEqual([
      { keyId: shared, action: 'kept', reason: expect.stringMatching(/shared, never deleted: .*umbrella/) },
    ]);
    expect((await state(shared))?.KeyState).toBe('Enabled');

    // hooli's keys are wrapped by the default key, which every tenant without its own uses.
    const hooli = await json(['shred', '--tenant', 'hooli', '--yes']);
    expect(hooli.masterKeys).toEqual([
      { keyId: byDefault, action: 'kept', reason: expect.stringMatching(/default keyring/) },
    ]);
    expect((await state(byDefault))?.KeyState).toBe('Enabled');

    // globex opts out of the deletion; umbrella, now the only user of the shared key, schedules it in 7 days.
    const globex = await json(['shred', '--tenant', 'globex', '--yes', '--no-schedule-key-deletion']);
    expect(globex.masterKeys).toEqual([
      { keyId: own.globex, action: 'skipped', reason: expect.stringMatching(/no-schedule-key-deletion/) },
    ]);
    expect((await state(own.globex))?.KeyState).toBe('Enabled');
    const umbrella = await json(['shred', '--tenant', 'umbrella', '--yes', '--pending-window-days', '7']);
    expect(umbrella.masterKeys).toMatchObject([
      { keyId: shared, action: 'scheduled', pendingWindowInDays: 7 },
    ]);
    expect((await state(shared))?.KeyState).toBe('PendingDeletion');
    expect((await cli(['shred', '--tenant', 'stark', '--yes', '--pending-window-days', '3'])).code).toBe(2);

    // stark, never shredded, still reads through its own key; the rest count as shredded, not damaged.
    expect((await state(own.stark))?.KeyState).toBe('Enabled');
    const verify = await json(['verify']);
    expect(verify.tables[0]).toMatchObject({ rows: 12, encrypted: 2, shredded: 10, undecryptable: 0 });
  });
});
