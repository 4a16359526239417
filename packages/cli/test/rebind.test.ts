import { dirname, join } from 'node:path';
import { BlindIndex, type Keyring, LocalKeyring, RowEnvelope, type StoredTable } from '@fieldseal/core';
import { fieldEncryption } from '@fieldseal/prisma';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FieldsealConfig, migrate, rebind, validateConfig, verify } from '../src/index.js';
import { customer, insertCustomers, JOB_DIALECTS, metadata, openDb, type TestDb } from './helpers/db.js';
import { FIXTURE_CONFIG, runCli } from './helpers/run-cli.js';

const keyring = LocalKeyring.fromString(LocalKeyring.generateKeyText('k1'));
const blindIndexKey = await BlindIndex.generateKey(keyring);
const ROWS = 60;

/** The config after Customer's table was renamed to `table` (bound to `binding`, if given). */
function renamed(db: TestDb, table: string, binding?: string, ring: Keyring = keyring): FieldsealConfig {
  const config = db.config(ring, { blindIndexKey });
  return {
    ...config,
    tables: config.tables.map(
      (t): StoredTable => (t.model === 'Customer' ? { ...t, table, ...(binding ? { binding } : {}) } : t),
    ),
  };
}

const customerOf = async (config: FieldsealConfig) => (await verify(config, { model: 'Customer' })).tables[0];

describe.each(JOB_DIALECTS)('rebind on %s', (dialect) => {
  let db: TestDb;
  let checksum: string | undefined;
  beforeAll(async () => {
    db = await openDb(dialect);
    await insertCustomers(db, ROWS);
    await db.sql(
      `INSERT INTO ${db.t('Document')} (id, title, body) VALUES ('d1', 't', ?)`.replace(
        '?',
        db.dialect === 'postgres' ? '$1' : '?',
      ),
      [Buffer.from([0, 1, 2, 255])],
    );
    const config = db.config(keyring, { blindIndexKey });
    expect((await migrate(config, {})).ok).toBe(true);
    checksum = (await customerOf(config))?.checksum;
    const rename =
      db.dialect === 'mysql'
        ? 'RENAME TABLE customers TO clients'
        : 'ALTER TABLE customers RENAME TO clients';
    await db.sql(rename);
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('after a rename every row fails; pinning the old name as the encryption name reads them unchanged', async () => {
    const broken = await customerOf(renamed(db, 'clients'));
    expect(broken).toMatchObject({ rows: ROWS, undecryptable: ROWS, encrypted: 0 });
    const pinned = await customerOf(renamed(db, 'clients', 'customers'));
    expect(pinned).toMatchObject({ rows: ROWS, encrypted: ROWS, undecryptable: 0, indexMismatches: 0 });
    expect(pinned?.checksum).toBe(checksum);
  });

  it('moves every row to the new name; a stopped run resumes; values, keys and blind indexes change at rest', async () => {
    const before = await db.sql(`SELECT id, email, email_hash, data_key FROM ${db.t('clients')} ORDER BY id`);
    let batches = 0;
    const first = await rebind(renamed(db, 'clients'), {
      model: 'Customer',
      from: 'customers',
      batch: 16,
      shouldStop: () => batches === 2,
      onBatch: () => {
        batches++;
      },
    });
    expect(first).toMatchObject({ to: 'clients', stopped: true, ok: false, rebound: 32, scanned: 32 });
    expect(await customerOf(renamed(db, 'clients'))).toMatchObject({
      encrypted: 32,
      undecryptable: ROWS - 32,
    });

    const second = await rebind(renamed(db, 'clients'), { model: 'Customer', from: 'customers', batch: 16 });
    expect(second).toMatchObject({
      ok: true,
      rebound: ROWS - 32,
      already: 32,
      undecryptable: 0,
      conflicts: [],
    });
    const after = await customerOf(renamed(db, 'clients'));
    expect(after).toMatchObject({ encrypted: ROWS, undecryptable: 0, indexMismatches: 0 });
    expect(after?.checksum).toBe(checksum);
    // Under the old name, nothing opens any more.
    expect(await customerOf(renamed(db, 'clients', 'customers'))).toMatchObject({ undecryptable: ROWS });

    const rows = await db.sql(`SELECT id, email, email_hash, data_key FROM ${db.t('clients')} ORDER BY id`);
    const index = await BlindIndex.open({ keyring, wrappedKey: blindIndexKey });
    rows.forEach((row, i) => {
      const old = before[i] as Record<string, unknown>;
      expect(row.data_key).toMatch(/^fsk2:/);
      expect(row.data_key).not.toBe(old.data_key);
      expect(row.email).toMatch(/^fs2:/);
      expect(row.email).not.toBe(old.email);
      expect(row.email_hash).toBe(index.compute('clients', 'email', customer(Number(row.id)).email));
    });
    const third = await rebind(renamed(db, 'clients'), { model: 'Customer', from: 'customers' });
    expect(third).toMatchObject({ ok: true, rebound: 0, already: ROWS });
    // Usage errors before anything is read: no model, the same name twice.
    await expect(rebind(renamed(db, 'clients'), { model: '', from: 'customers' })).rejects.toThrow(/--model/);
    await expect(rebind(renamed(db, 'clients'), { model: 'Customer', from: 'clients' })).rejects.toThrow(
      /both "clients"/,
    );
  });

  it('a value written by the app while a batch is planned is moved too, never overwritten', async () => {
    const envelope = new RowEnvelope({ keyring });
    let planted = false;
    // The adversary: an app still on the old name writes row 1 between rebind's read and write.
    const racing: Keyring = {
      name: keyring.name,
      generateDataKey: async (context, hint) => {
        if (!planted && context['fieldseal:table'] === 'customers_v2') {
          planted = true;
          const [row] = await db.sql(`SELECT data_key FROM ${db.t('clients')} WHERE id = 1`);
          const write = await envelope.encryptForRow({
            table: 'clients',
            values: { email: 'changed@example.com' },
            dataKey: row?.data_key,
            rowId: 1,
          });
          const p = db.dialect === 'postgres' ? ['$1', '$2'] : ['?', '?'];
          await db.sql(`UPDATE ${db.t('clients')} SET email = ${p[0]} WHERE id = ${p[1]}`, [
            write.values.email,
            1,
          ]);
        }
        return (keyring as Keyring).generateDataKey(context, hint);
      },
      decryptDataKey: (key, context) => keyring.decryptDataKey(key, context),
    };
    const report = await rebind(renamed(db, 'clients', undefined, racing), {
      model: 'Customer',
      from: 'clients',
      to: 'customers_v2',
    });
    expect(planted).toBe(true);
    expect(report).toMatchObject({ ok: true, rebound: ROWS, conflicts: [] });
    const [row] = await db.sql(`SELECT id, email, ssn, data_key FROM ${db.t('clients')} WHERE id = 1`);
    const plain = await envelope.decryptRow({
      table: 'customers_v2',
      values: { email: row?.email, ssn: row?.ssn },
      dataKey: row?.data_key,
      rowId: 1,
    });
    expect(plain.email).toBe('changed@example.com');
    const moved = await customerOf(renamed(db, 'clients', 'customers_v2'));
    // Row 1's blind index is recomputed from the value the app wrote.
    expect(moved).toMatchObject({ encrypted: ROWS, undecryptable: 0, indexMismatches: 0 });
  });

  it('reports a row that opens under neither name by id, writes nothing to it, and moves binary values', async () => {
    const envelope = new RowEnvelope({ keyring });
    const stray = await envelope.encryptRow({ table: 'elsewhere', values: { email: 'stray@example.com' } });
    const p = db.dialect === 'postgres' ? ['$1', '$2', '$3'] : ['?', '?', '?'];
    await db.sql(`UPDATE ${db.t('clients')} SET email = ${p[0]}, data_key = ${p[1]} WHERE id = ${p[2]}`, [
      stray.values.email,
      stray.dataKey,
      2,
    ]);
    const report = await rebind(renamed(db, 'clients', 'customers_v2'), {
      model: 'Customer',
      from: 'customers_v2',
      to: 'customers_v3',
    });
    expect(report).toMatchObject({ ok: false, rebound: ROWS - 1, undecryptable: 1 });
    expect(report.problems).toEqual([expect.objectContaining({ rowId: '2', code: 'unwrap-failed' })]);
    expect(JSON.stringify(report)).not.toContain('stray@example.com');
    const [row] = await db.sql(`SELECT email, data_key FROM ${db.t('clients')} WHERE id = 2`);
    expect(row).toMatchObject({ email: stray.values.email, data_key: stray.dataKey });

    const docs = await rebind(db.config(keyring), { model: 'Document', from: 'Document', to: 'documents' });
    expect(docs).toMatchObject({ ok: true, rebound: 1 });
    const [doc] = await db.sql(
      `SELECT id, title, body, ${db.dialect === 'mysql' ? 'dataKey' : '"dataKey"'} AS k FROM ${db.t('Document')}`,
    );
    const plain = await envelope.decryptRow({
      table: 'documents',
      values: { title: doc?.title, body: doc?.body },
      dataKey: doc?.k,
      rowId: 'd1',
    });
    expect(Buffer.from(plain.body as Uint8Array)).toEqual(Buffer.from([0, 1, 2, 255]));
    expect(plain.title).toBe('t');
  });

  it('the Prisma app reads moved rows through encryptionNames, and what it writes the CLI reads under the same name', async () => {
    // Document's rows were moved to "documents" above; the app's table is still "Document".
    const named = db.client.$extends(
      fieldEncryption({
        keyring,
        metadata,
        blindIndexKey,
        encryptionNames: { Document: 'documents' },
        readMode: 'strict',
      }),
    );
    const doc = await named.document.findUnique({ where: { id: 'd1' } });
    expect(Buffer.from(doc?.body as Uint8Array)).toEqual(Buffer.from([0, 1, 2, 255]));
    const unnamed = db.client.$extends(
      fieldEncryption({ keyring, metadata, blindIndexKey, readMode: 'strict' }),
    );
    await expect(unnamed.document.findUnique({ where: { id: 'd1' } })).rejects.toThrow();
    await named.document.create({ data: { id: 'd2', title: 'second', body: Uint8Array.of(9) } });
    const checked = validateConfig(
      { ...db.config(keyring), encryptionNames: { Document: 'documents' } },
      'test',
    );
    expect(checked.tables.find((t) => t.model === 'Document')?.binding).toBe('documents');
    const report = await verify(checked, { model: 'Document' });
    expect(report.tables[0]).toMatchObject({ rows: 2, encrypted: 2, undecryptable: 0 });
  });
});

describe('fieldseal rebind (the built binary)', () => {
  let db: TestDb;
  let env: Record<string, string>;
  const keys = LocalKeyring.generateKeyText('k1');
  const ring = LocalKeyring.fromString(keys);
  const config = join(dirname(FIXTURE_CONFIG), 'rebind.config.ts');
  const cli = (args: string[], extra: Record<string, string> = {}) =>
    runCli(['--config', config, ...args], { ...env, ...extra }, false);
  beforeAll(async () => {
    db = await openDb('sqlite');
    await insertCustomers(db, 20);
    env = { ...db.env, FS_TEST_KEYS: keys, FS_TEST_BLIND_KEY: await BlindIndex.generateKey(ring) };
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('dry run, rebind, verify after a rename; usage errors exit 2 and write nothing', async () => {
    const migrated = await migrate(db.config(ring, { blindIndexKey: env.FS_TEST_BLIND_KEY }), {
      model: 'Customer',
    });
    expect(migrated.ok).toBe(true);
    await db.sql('ALTER TABLE customers RENAME TO clients');
    const moved = { FS_TEST_CUSTOMER_TABLE: 'clients' };
    // In-process verify: the binary's verify loads the config twice, and LocalKeyring.fromEnv clears FS_TEST_KEYS.
    const check = async () =>
      customerOf({
        ...renamed(db, 'clients', undefined, ring),
        blindIndexKey: env.FS_TEST_BLIND_KEY as string,
      });
    expect(await check()).toMatchObject({ undecryptable: 20 });
    const before = await db.sql('SELECT * FROM clients ORDER BY id');

    const same = await cli(['rebind', '--model', 'Customer', '--from', 'clients'], moved);
    expect(same.code).toBe(2);
    expect(same.stderr).toContain('--from and --to are both "clients"');
    expect((await cli(['rebind', '--model', 'Customer'], moved)).code).toBe(2);
    const dry = await cli(
      ['--json', 'rebind', '--model', 'Customer', '--from', 'customers', '--dry-run'],
      moved,
    );
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, rebound: 20, to: 'clients' });
    expect(await db.sql('SELECT * FROM clients ORDER BY id')).toEqual(before);

    const run = await cli(
      ['--json', 'rebind', '--model', 'Customer', '--from', 'customers', '-b', '7'],
      moved,
    );
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: true, rebound: 20, already: 0, scanned: 20 });
    expect(await check()).toMatchObject({ encrypted: 20, undecryptable: 0, indexMismatches: 0 });
    const text = await cli(['rebind', '--model', 'Customer', '--from', 'customers'], moved);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('0 rows moved, 20 already under "clients"');
  });
});
