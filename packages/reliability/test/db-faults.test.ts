/**
 * Database errors in the middle of a batch, through the TypeORM adapter: a constraint violation
 * halfway through a multi-row save, insert and per-row-key update, and (PostgreSQL) the
 * connection killed with pg_terminate_backend while a batch is being written. Afterwards no row
 * may hold ciphertext from one data key with a data-key column from another: every row is
 * decrypted from raw SQL with its own data key, in strict mode.
 */
import { CachingKeyring } from '@fieldseal/cache';
import { LocalKeyring } from '@fieldseal/core';
import pg from 'pg';
import { In } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Customer } from './support/entities.js';
import { failure } from './support/failure.js';
import { cellsText, leaks } from './support/secrets.js';
import { SlowKeyring } from './support/slow-keyring.js';
import { auditRows, DIALECTS, openTypeormDb, PG_URL, type TypeormDb } from './support/typeorm-db.js';

const email = (tag: string) => `${tag}@mid-batch.example`;

describe.each(DIALECTS)('constraint violations mid-batch on %s', (dialect) => {
  let cache: CachingKeyring;
  let db: TypeormDb;
  beforeAll(async () => {
    // maxUses 3: a batch of 10 rows spans four data keys, so a half-applied batch would show.
    cache = new CachingKeyring(LocalKeyring.fromString(LocalKeyring.generateKeyText('db-faults')), {
      maxUses: 3,
    });
    db = await openTypeormDb(dialect, cache);
    const customers = db.dataSource.getRepository(Customer);
    await customers.save(customers.create({ handle: 'taken', email: email('taken'), ssn: 'taken-ssn' }));
  });
  afterAll(async () => {
    cache?.close();
    await db?.drop();
  });

  const customers = () => db.dataSource.getRepository(Customer);

  it('save() of 10 new rows with a duplicate at row 6: nothing written, objects restored to plaintext, retry succeeds', async () => {
    const batch = Array.from({ length: 10 }, (_, i) =>
      customers().create({
        handle: i === 5 ? 'taken' : `save-${i}`,
        email: email(`save-${i}`),
        ssn: `ssn-save-${i}`,
      }),
    );
    const error = await failure(customers().save(batch));
    expect(error.name).toBe('QueryFailedError');
    const rows = await db.rows('customer');
    expect(rows.length).toBe(1);
    expect(
      leaks(
        cellsText(rows),
        batch.map((c) => c.email),
      ),
    ).toEqual([]);
    expect(batch.map((c) => c.email)).toEqual(Array.from({ length: 10 }, (_, i) => email(`save-${i}`)));
    (batch[5] as Customer).handle = 'save-5';
    await customers().save(batch);
    const audit = await auditRows(db, 'customer');
    expect(audit).toMatchObject({ rows: 11, broken: [] });
    expect(new Set((await db.rows('customer')).map((r) => r.dataKey)).size).toBeGreaterThanOrEqual(4);
  });

  it('insert() of 10 rows with a duplicate: nothing written', async () => {
    const before = (await db.rows('customer')).length;
    const values = Array.from({ length: 10 }, (_, i) => ({
      handle: i === 7 ? 'taken' : `ins-${i}`,
      email: email(`ins-${i}`),
      ssn: null,
    }));
    const error = await failure(customers().insert(values));
    expect(error.name).toBe('QueryFailedError');
    expect((await db.rows('customer')).length).toBe(before);
    expect((await auditRows(db, 'customer')).broken).toEqual([]);
  });

  it('an encrypted update over rows of several data keys failing on a constraint: no row changed, all still open', async () => {
    const before = await auditRows(db, 'customer');
    const ids = [...before.plaintext.keys()] as number[];
    expect(new Set((await db.rows('customer')).map((r) => r.dataKey)).size).toBeGreaterThan(1);
    // Every matched row gets a new ssn and the same handle: the unique index fails on the second row.
    const error = await failure(
      customers().update({ id: In(ids) }, { ssn: 'bulk-new-ssn', handle: 'collide' }),
    );
    expect(error.name).toBe('QueryFailedError');
    const after = await auditRows(db, 'customer');
    expect(after.broken).toEqual([]);
    expect(after.plaintext).toEqual(before.plaintext);
  });

  it('a transaction doing an encrypted update, then a failing insert: the update is rolled back too', async () => {
    const before = await auditRows(db, 'customer');
    const error = await failure(
      db.dataSource.transaction(async (manager) => {
        await manager
          .getRepository(Customer)
          .update({ handle: In(['save-0', 'save-4', 'save-9']) }, { ssn: 'tx-ssn' });
        await manager.getRepository(Customer).insert({ handle: 'taken', email: email('tx'), ssn: null });
      }),
    );
    expect(error.name).toBe('QueryFailedError');
    const after = await auditRows(db, 'customer');
    expect(after.broken).toEqual([]);
    expect(after.plaintext).toEqual(before.plaintext);
  });
});

describe('connection killed mid-batch on postgres (pg_terminate_backend)', () => {
  let cache: CachingKeyring;
  let db: TypeormDb;
  const application = `fs-rel-victim-${process.pid}`;
  beforeAll(async () => {
    // 5 ms per keyring call, like a remote KMS: a 400-row batch spends ~300 ms in its transaction.
    const slow = new SlowKeyring(LocalKeyring.fromString(LocalKeyring.generateKeyText('kill')), 5);
    cache = new CachingKeyring(slow, { maxUses: 7 });
    db = await openTypeormDb('postgres', cache, { extra: { applicationName: application } as never });
    admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
  });
  afterAll(async () => {
    cache?.close();
    await admin?.end();
    await db?.drop();
  });
  let admin: pg.Client;

  /** Terminates the backend of this test's data source that is inside a transaction, once one is. */
  async function killInTransaction(): Promise<number> {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const { rows } = await admin.query<{ pid: number }>(
        "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND xact_start IS NOT NULL AND state <> 'idle'",
        [application],
      );
      if (rows.length > 0) {
        await new Promise((resolve) => setTimeout(resolve, 40)); // let some of the batch through first
        const killed = await admin.query<{ ok: boolean }>('SELECT pg_terminate_backend($1) AS ok', [
          rows[0]?.pid,
        ]);
        return killed.rows.filter((r) => r.ok).length;
      }
    }
    return 0;
  }

  it('save() of 400 rows killed partway: no row of the batch is committed, every stored row opens with its own key', async () => {
    const customers = db.dataSource.getRepository(Customer);
    await customers.save(customers.create({ handle: 'survivor', email: email('survivor'), ssn: 'kept' }));
    const batch = Array.from({ length: 400 }, (_, i) =>
      customers.create({ handle: `kill-${i}`, email: email(`kill-${i}`), ssn: `ssn-kill-${i}` }),
    );
    const [outcome, killed] = await Promise.all([
      customers.save(batch).then(
        () => 'committed',
        (error: Error) => error,
      ),
      killInTransaction(),
    ]);
    expect(killed).toBe(1);
    expect(outcome).toBeInstanceOf(Error);
    expect((outcome as Error).message).toMatch(/terminat|connection|released/i);
    const audit = await auditRows(db, 'customer');
    expect(audit).toMatchObject({ rows: 1, broken: [] });
    expect([...audit.plaintext.values()]).toEqual([{ email: email('survivor'), ssn: 'kept', photo: null }]);
    // The pool recovers: the same batch, retried, is written whole.
    await customers.save(
      batch.map((c) => customers.create({ handle: c.handle, email: c.email, ssn: c.ssn })),
    );
    const retried = await auditRows(db, 'customer');
    expect(retried).toMatchObject({ rows: 401, broken: [] });
    expect(new Set((await db.rows('customer')).map((r) => r.dataKey)).size).toBeGreaterThanOrEqual(400 / 7);
  });

  it('an encrypted bulk update over ~58 data-key groups killed partway: no row changed, every row under its own key', async () => {
    const customers = db.dataSource.getRepository(Customer);
    const before = await auditRows(db, 'customer');
    cache.clear(); // every group's data key is unwrapped again, through the slow keyring, inside the transaction
    const [outcome, killed] = await Promise.all([
      customers
        .update(
          { handle: In([...before.plaintext.keys()].map((_, i) => `kill-${i}`)) },
          { ssn: 'after-kill' },
        )
        .then(
          () => 'committed',
          (error: Error) => error,
        ),
      killInTransaction(),
    ]);
    const after = await auditRows(db, 'customer');
    expect(after.broken).toEqual([]);
    expect(after.rows).toBe(401);
    expect(killed).toBe(1);
    expect(outcome).toBeInstanceOf(Error);
    // One transaction: nothing of it is committed; each row holds its old value, under its own key.
    expect(after.plaintext).toEqual(before.plaintext);
  });
});
