import { BlindIndex, type Keyring, LocalKeyring } from '@fieldseal/core';
import { fieldEncryption } from '@fieldseal/prisma';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate, verify } from '../src/index.js';
import {
  customer,
  DIALECTS,
  expectedChecksum,
  insertCustomers,
  metadata,
  openDb,
  readChecksum,
  type TestDb,
} from './helpers/db.js';

const keyring = LocalKeyring.fromString(LocalKeyring.generateKeyText('k1'));
const blindIndexKey = await BlindIndex.generateKey(keyring);
const ROWS = 3_000;

describe.each(DIALECTS)('app writes during migrate on %s', (dialect) => {
  let db: TestDb | undefined;
  afterEach(async () => {
    await db?.drop();
  });

  it('are never overwritten: every row ends encrypted and holds the last value the app wrote', async () => {
    db = await openDb(dialect);
    const open = db;
    await insertCustomers(open, ROWS);
    // The new app (tolerant reads, encrypts its writes) and an old instance writing plaintext.
    const app = open.client.$extends(
      fieldEncryption({ keyring, metadata, blindIndexKey, readMode: 'tolerant' }),
    );
    const expected = new Map<number, { email: string; ssn: string | null }>();
    let done = false;
    let appWrites = 0;
    let plainWrites = 0;
    let n = 0;
    const ph = (i: number) => (open.dialect === 'postgres' ? `$${i}` : '?');
    const writer = (async () => {
      while (!done) {
        const id = 1 + Math.floor(Math.random() * ROWS);
        const email = `changed-${id}-${n++}@example.com`;
        try {
          if (n % 3 === 0) {
            await open.sql(`UPDATE ${open.t('customers')} SET email = ${ph(1)} WHERE id = ${ph(2)}`, [
              email,
              id,
            ]);
            plainWrites++;
          } else {
            await app.customer.update({ where: { id }, data: { email } });
            appWrites++;
          }
          expected.set(id, { email, ssn: customer(id).ssn });
        } catch {
          // A write conflict reported to the app (the row changed under it): the app retries.
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    // A keyring answering after a timer tick, as a remote KMS does: app writes land between the
    // migration's reads and its writes.
    const slow: Keyring = {
      name: keyring.name,
      generateDataKey: async (context) => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        return keyring.generateDataKey(context);
      },
      decryptDataKey: (key, context) => keyring.decryptDataKey(key, context),
      keyIdOf: (key) => keyring.keyIdOf(key),
    };
    const config = open.config(slow, { blindIndexKey });
    const first = await migrate(config, { model: 'Customer', batch: 50, chunkRows: 500, concurrency: 2 });
    done = true;
    await writer;
    expect(appWrites + plainWrites).toBeGreaterThan(20);
    // Rows written in plaintext by the old instance after the pass are picked up by the next one.
    const second = await migrate(config, { model: 'Customer', batch: 500 });
    expect(first.totals.problems + second.totals.problems).toBe(0);
    const result = await verify(config, { model: 'Customer' });
    expect(result.tables[0]).toMatchObject({
      rows: ROWS,
      encrypted: ROWS,
      plaintext: 0,
      undecryptable: 0,
      indexMismatches: 0,
    });
    const strict = open.client.$extends(fieldEncryption({ keyring, metadata, blindIndexKey }));
    expect(await readChecksum(strict)).toEqual({ checksum: expectedChecksum(ROWS, expected), rows: ROWS });
  });

  it('a row written between the read and the write of its batch is re-read, not clobbered', async () => {
    db = await openDb(dialect);
    const open = db;
    await insertCustomers(open, 200);
    const ph = (i: number) => (open.dialect === 'postgres' ? `$${i}` : '?');
    let calls = 0;
    // The 10th data key is asked for after rows 1..200 were read: row 150 changes right then.
    const racing: Keyring = {
      name: keyring.name,
      generateDataKey: async (context) => {
        if (++calls === 10)
          await open.sql(`UPDATE ${open.t('customers')} SET ssn = ${ph(1)} WHERE id = 150`, [
            'written-meanwhile',
          ]);
        return keyring.generateDataKey(context);
      },
      decryptDataKey: (key, context) => keyring.decryptDataKey(key, context),
      keyIdOf: (key) => keyring.keyIdOf(key),
    };
    const report = await migrate(open.config(racing, { blindIndexKey }), { model: 'Customer', batch: 200 });
    expect(report.ok).toBe(true);
    expect(report.totals.written).toBe(200);
    const strict = open.client.$extends(fieldEncryption({ keyring, metadata, blindIndexKey }));
    expect((await strict.customer.findUnique({ where: { id: 150 } }))?.ssn).toBe('written-meanwhile');
    expect((await strict.customer.findUnique({ where: { id: 149 } }))?.ssn).toBe(customer(149).ssn);
  });
});

describe.each(DIALECTS)('a worker that loses its lease on %s', (dialect) => {
  let db: TestDb | undefined;
  afterEach(async () => {
    await db?.drop();
  });

  it('rolls its batch back, leaves the chunk to its new owner and carries on: the run still ends done', async () => {
    db = await openDb(dialect);
    const open = db;
    await insertCustomers(open, 600);
    const ph = (i: number) => (open.dialect === 'postgres' ? `$${i}` : '?');
    let calls = 0;
    // Mid-batch, another worker takes the chunk over (as if this process had stalled past its
    // lease) and then dies without finishing it.
    const stalling: Keyring = {
      name: keyring.name,
      generateDataKey: async (context) => {
        if (++calls === 250)
          await open.sql(
            `UPDATE ${open.t('fieldseal_leases')} SET owner = ${ph(1)}, expires_at = ${ph(2)} WHERE chunk >= 0 AND done = 0 AND owner IS NOT NULL`,
            ['elsewhere:1:thief', Date.now() + 1_500],
          );
        return keyring.generateDataKey(context);
      },
      decryptDataKey: (key, context) => keyring.decryptDataKey(key, context),
      keyIdOf: (key) => keyring.keyIdOf(key),
    };
    const report = await migrate(open.config(stalling, { blindIndexKey }), {
      model: 'Customer',
      batch: 100,
      leaseSeconds: 1,
    });
    expect(report.ok).toBe(true);
    expect(report.tables[0]).toMatchObject({ leasesLost: 1, remaining: 0 });
    expect(report.tables[0]?.takenOver).toBeGreaterThanOrEqual(1);
    const result = await verify(open.config(keyring, { blindIndexKey }), { model: 'Customer' });
    expect(result.tables[0]).toMatchObject({ rows: 600, encrypted: 600, plaintext: 0, undecryptable: 0 });
    const app = open.client.$extends(fieldEncryption({ keyring, metadata, blindIndexKey }));
    expect(await readChecksum(app)).toEqual({ checksum: expectedChecksum(600), rows: 600 });
  });
});
