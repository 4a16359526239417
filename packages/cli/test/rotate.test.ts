import { CreateAliasCommand, CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { AwsKmsKeyring } from '@fieldseal/aws-kms';
import { CachingKeyring } from '@fieldseal/cache';
import { BlindIndex, KEY_IDENTITY_LENGTH, LocalKeyring, parseDataKey, wrappedPartOf } from '@fieldseal/core';
import { startKmsServer } from '@fieldseal/kms-local';
import { fieldEncryption } from '@fieldseal/prisma';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate, rotate, status, verify } from '../src/index.js';
import {
  DIALECTS,
  expectedChecksum,
  insertCustomers,
  metadata,
  openDb,
  readChecksum,
  type TestDb,
} from './helpers/db.js';

const oldKey = LocalKeyring.generateKeyText('2025-01');
const newKey = LocalKeyring.generateKeyText('2026-11');
const ROWS = 1_200;

describe.each(DIALECTS)('rotate on %s', (dialect) => {
  let db: TestDb | undefined;
  afterEach(async () => {
    await db?.drop();
  });

  it('re-wraps every data key under the new local key; verify passes with only the new key', async () => {
    db = await openDb(dialect);
    await insertCustomers(db, ROWS);
    const before = LocalKeyring.fromString(oldKey);
    const blindIndexKey = await BlindIndex.generateKey(before);
    await migrate(db.config(before, { blindIndexKey }), { model: 'Customer', batch: 250 });
    const ciphertextBefore = await db.sql(`SELECT id, email, ssn FROM ${db.t('customers')} ORDER BY id`);
    const identity = async () =>
      (await db?.sql(`SELECT data_key FROM ${db?.t('customers')} ORDER BY id`))?.map((row) =>
        String(row.data_key).slice(0, KEY_IDENTITY_LENGTH),
      );
    const identitiesBefore = await identity();

    // Both keys (the old one to unwrap), the new one listed too so it can wrap.
    const both = LocalKeyring.fromString(`${oldKey}\n${newKey}`);
    const dry = await rotate(db.config(both, { blindIndexKey }), {
      to: '2026-11',
      model: 'Customer',
      dryRun: true,
    });
    expect(dry.tables[0]?.wouldWrite).toBe(ROWS);
    const report = await rotate(db.config(new CachingKeyring(both), { blindIndexKey }), {
      to: '2026-11',
      model: 'Customer',
      batch: 300,
      chunkRows: 500,
    });
    expect(report.ok).toBe(true);
    expect(report.totals.written).toBe(ROWS);
    // Field ciphertext is untouched: only data keys were re-wrapped.
    expect(await db.sql(`SELECT id, email, ssn FROM ${db.t('customers')} ORDER BY id`)).toEqual(
      ciphertextBefore,
    );
    // Each v2 row keeps its key identity `fsk2:<salt>.`: only the wrapped part was replaced.
    expect(identitiesBefore?.[0]).toMatch(/^fsk2:[A-Za-z0-9_-]{22}\.$/);
    expect(await identity()).toEqual(identitiesBefore);
    const keys = await db.sql(`SELECT data_key FROM ${db.t('customers')}`);
    expect(new Set(keys.map((row) => parseDataKey(row.data_key).keyId))).toEqual(new Set(['2026-11']));

    // Only the new key from here on (the blind-index key was wrapped by the old one: re-wrap it too).
    const onlyNew = LocalKeyring.fromString(newKey);
    expect(report.blindIndexKey).toMatch(/^fsk1:/);
    const newIndexKey = report.blindIndexKey as string;
    expect(parseDataKey(newIndexKey).keyId).toBe('2026-11');
    const config = db.config(onlyNew, { blindIndexKey: newIndexKey });
    const verified = await verify(config, { model: 'Customer' });
    expect(verified.ok).toBe(true);
    expect(verified.tables[0]).toMatchObject({ encrypted: ROWS, undecryptable: 0, indexMismatches: 0 });
    const app = db.client.$extends(
      fieldEncryption({ keyring: onlyNew, metadata, blindIndexKey: newIndexKey }),
    );
    expect(await readChecksum(app)).toEqual({ checksum: expectedChecksum(ROWS), rows: ROWS });
    expect((await status(config, { model: 'Customer' })).tables[0]?.keys).toEqual({ '2026-11': ROWS });

    // Idempotent: a second rotation finds every row under the target already.
    const again = await rotate(db.config(both, { blindIndexKey }), { to: '2026-11', model: 'Customer' });
    expect(again.totals.written).toBe(0);
    // And verify with only the OLD key now reports every row undecryptable, by id.
    const stale = await verify(db.config(LocalKeyring.fromString(oldKey)), { model: 'Customer' });
    expect(stale.ok).toBe(false);
    expect(stale.tables[0]?.undecryptable).toBe(ROWS);
    expect(stale.tables[0]?.problems[0]).toMatchObject({ rowId: '1', code: 'unknown-master-key' });
  });

  it('re-wraps through AWS KMS ReEncrypt (kms-local, real SDK); verify passes with only the new key', async () => {
    db = await openDb(dialect);
    const open = db;
    await insertCustomers(open, ROWS);
    const kms = await startKmsServer({ port: 0, warn: () => {} });
    const client = new KMSClient({ ...kms.clientConfig, maxAttempts: 1 });
    try {
      const first = (await client.send(new CreateKeyCommand({}))).KeyMetadata?.Arn as string;
      const second = (await client.send(new CreateKeyCommand({}))).KeyMetadata;
      await client.send(new CreateAliasCommand({ AliasName: 'alias/next', TargetKeyId: second?.KeyId }));
      const oldRing = new AwsKmsKeyring({ keyId: first, client });
      const blindIndexKey = await BlindIndex.generateKey(oldRing);
      await migrate(open.config(new CachingKeyring(oldRing), { blindIndexKey }), { model: 'Customer' });
      const rotating = new CachingKeyring(
        new AwsKmsKeyring({ keyId: first, client, decryptKeyIds: [first, second?.Arn as string] }),
      );
      kms.reset();
      const report = await rotate(open.config(rotating, { blindIndexKey }), {
        to: 'alias/next',
        model: 'Customer',
      });
      expect(report.totals.written).toBe(ROWS);
      // One ReEncrypt per distinct data key (the cache made rows share keys), not one per row;
      // plus the pre-flight probe and the blind-index key.
      const reEncrypts = kms.stats().requests.ReEncrypt ?? 0;
      // Rows sharing a data key share its wrapped part; their row salts differ.
      const distinct = new Set(
        (await open.sql(`SELECT data_key FROM ${open.t('customers')}`)).map((r) =>
          wrappedPartOf(String(r.data_key)),
        ),
      );
      expect(reEncrypts).toBe(distinct.size + 2);
      const onlyNew = new AwsKmsKeyring({ keyId: second?.Arn as string, client });
      const verified = await verify(open.config(onlyNew), { model: 'Customer' });
      expect(verified.ok).toBe(true);
      expect(verified.tables[0]).toMatchObject({ encrypted: ROWS, undecryptable: 0 });
      const byKey = (await status(open.config(onlyNew), { model: 'Customer' })).tables[0]?.keys;
      expect(byKey).toEqual({ [second?.Arn as string]: ROWS });
      // The old key alone can no longer open any row.
      const stale = await verify(open.config(new AwsKmsKeyring({ keyId: first, client })), {
        model: 'Customer',
      });
      expect(stale.tables[0]?.undecryptable).toBe(ROWS);
    } finally {
      client.destroy();
      await kms.close();
    }
  });
});
