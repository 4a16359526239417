/**
 * KMS faults through the TypeORM adapter, the real AWS SDK and kms-local: the server stopped
 * (KMS unreachable) during writes and reads, the cache's grace period both ways, throttling and
 * latency spikes. After each fault: what is stored is checked with raw SQL.
 */
import { CachingKeyring } from '@fieldseal/cache';
import { KeyringError, RowEnvelope } from '@fieldseal/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Customer, Note } from './support/entities.js';
import { failure } from './support/failure.js';
import { type KmsRig, startKms } from './support/kms.js';
import { cellsText, errorText, leaks } from './support/secrets.js';
import { auditRows, DIALECTS, openTypeormDb, type TypeormDb } from './support/typeorm-db.js';

const secretEmail = (i: number) => `kms-fault-${i}@secret.example`;
const secretSsn = (i: number) => `SSN-CONFIDENTIAL-${1000 + i}`;

describe.each(DIALECTS)('KMS unreachable during writes and reads on %s', (dialect) => {
  let kms: KmsRig;
  let cache: CachingKeyring;
  let db: TypeormDb;
  beforeAll(async () => {
    kms = await startKms({ maxAttempts: 2 });
    cache = new CachingKeyring(kms.keyring, { maxAge: 120_000 });
    db = await openTypeormDb(dialect, cache);
  });
  afterAll(async () => {
    cache?.close();
    await db?.drop();
    await kms?.close();
  });

  it('a write needing a new data key fails with KeyringError "unavailable", the transaction rolls back, nothing is half-written', async () => {
    const customers = db.dataSource.getRepository(Customer);
    // Before the outage: some rows, and a cached data key for the note table only.
    await customers.save(
      [0, 1, 2].map((i) =>
        customers.create({ handle: `before-${i}`, email: secretEmail(i), ssn: secretSsn(i) }),
      ),
    );
    await db.dataSource.getRepository(Note).save({ body: 'note before the outage' });
    const before = { customers: (await db.rows('customer')).length, notes: (await db.rows('note')).length };
    // A new table partition would need GenerateDataKey: evict the customer key so the next write must call KMS.
    cache.clear();
    await db.dataSource.getRepository(Note).save({ body: 'warm note key again' });
    const notesBefore = (await db.rows('note')).length;

    await kms.stop();
    const batch = [10, 11, 12, 13, 14].map((i) => ({
      handle: `during-${i}`,
      email: secretEmail(i),
      ssn: secretSsn(i),
    }));
    const error = await failure(
      db.dataSource.transaction(async (manager) => {
        // The note table's key is cached: this insert succeeds inside the transaction...
        await manager.save(Note, { body: 'note inside the failed transaction' });
        // ...and the customer insert needs KMS, which is down.
        await manager.save(
          Customer,
          batch.map((c) => manager.create(Customer, c)),
        );
      }),
    );
    expect(error).toBeInstanceOf(KeyringError);
    expect((error as KeyringError).code).toBe('unavailable');
    expect((error as KeyringError).message).toMatch(/unreachable|ECONNREFUSED|Retry later/);
    expect((error as KeyringError).message).toContain('entity Customer');
    expect(
      leaks(
        errorText(error),
        batch.flatMap((c) => [c.email, c.ssn]),
      ),
    ).toEqual([]);

    // A bulk save outside an explicit transaction: none of its rows either.
    const bulk = await failure(
      customers.save(batch.map((c) => customers.create({ ...c, handle: `${c.handle}-b` }))),
    );
    expect(bulk).toBeInstanceOf(KeyringError);

    const customerRows = await db.rows('customer');
    const noteRows = await db.rows('note');
    expect(customerRows.length).toBe(before.customers);
    expect(noteRows.length).toBe(notesBefore); // the note inside the transaction was rolled back
    expect(before.notes + 1).toBe(notesBefore);
    expect(
      leaks(
        cellsText(customerRows),
        batch.flatMap((c) => [c.email, c.ssn]),
      ),
    ).toEqual([]);
    expect(
      customerRows.every((r) => String(r.email).startsWith('fs2:') && String(r.dataKey).startsWith('fsk2:')),
    ).toBe(true);
    await kms.start();
    const audit = await auditRows(db, 'customer');
    expect(audit.broken).toEqual([]);
  });

  it('reads whose data keys are cached keep working while KMS is down (within maxAge); others fail with a typed error', async () => {
    const customers = db.dataSource.getRepository(Customer);
    const saved = await customers.save(
      [20, 21, 22].map((i) => customers.create({ handle: `cached-${i}`, email: secretEmail(i), ssn: null })),
    );
    await kms.stop();
    const read = await customers.findBy(saved.map((c) => ({ id: c.id })));
    expect(read.map((c) => c.email).sort()).toEqual([20, 21, 22].map(secretEmail).sort());

    // A process with a cold cache cannot unwrap anything while KMS is down: typed error naming
    // the table and row, no plaintext.
    const coldCache = new CachingKeyring(kms.keyring);
    try {
      const row = (await db.rows('customer')).find((r) => r.id === saved[0]?.id) as Record<string, unknown>;
      const error = await failure(
        new RowEnvelope({ keyring: coldCache }).decryptRow({
          table: 'customer',
          values: { email: row.email },
          dataKey: row.dataKey,
          rowId: row.id as number,
        }),
      );
      expect(error).toBeInstanceOf(KeyringError);
      expect((error as KeyringError).code).toBe('unavailable');
      expect((error as KeyringError).location).toMatchObject({ table: 'customer', rowId: saved[0]?.id });
      expect(leaks(errorText(error), [secretEmail(20)])).toEqual([]);
    } finally {
      coldCache.close();
      await kms.start();
    }
  });

  it('after KMS is back, writes succeed and every row opens with its own data key', async () => {
    const customers = db.dataSource.getRepository(Customer);
    await customers.save(
      [30, 31].map((i) =>
        customers.create({ handle: `after-${i}`, email: secretEmail(i), ssn: secretSsn(i) }),
      ),
    );
    const audit = await auditRows(db, 'customer');
    expect(audit.broken).toEqual([]);
    expect(audit.rows).toBe(3 + 3 + 2);
    expect(
      leaks(
        cellsText(await db.rows('customer')),
        [30, 31].flatMap((i) => [secretEmail(i), secretSsn(i)]),
      ),
    ).toEqual([]);
  });
});

describe('decryptGracePeriod end to end (TypeORM, AWS SDK, kms-local stopped)', () => {
  let kms: KmsRig;
  beforeAll(async () => {
    kms = await startKms({ maxAttempts: 1 });
  });
  afterAll(async () => kms?.close());

  /** Writes rows with KMS up, stops KMS, moves the cache's clock past decryptMaxAge, returns a reader. */
  async function outageAfterMaxAge(grace: number) {
    let now = 1_000_000;
    const cache = new CachingKeyring(kms.keyring, {
      maxAge: 60_000,
      decryptGracePeriod: grace,
      now: () => now,
    });
    const db = await openTypeormDb('sqlite', cache);
    const customers = db.dataSource.getRepository(Customer);
    const saved = await customers.save(
      [1, 2, 3].map((i) =>
        customers.create({ handle: `g-${grace}-${i}`, email: secretEmail(i), ssn: secretSsn(i) }),
      ),
    );
    await kms.stop();
    const read = () => customers.findBy(saved.map((c) => ({ id: c.id })));
    const advance = (ms: number) => {
      now += ms;
    };
    const done = async () => {
      cache.close();
      await db.drop();
      await kms.start();
    };
    return { cache, read, advance, done };
  }

  it('off (default): reads fail once the cached key is past decryptMaxAge and KMS is down', async () => {
    const { cache, read, advance, done } = await outageAfterMaxAge(0);
    try {
      expect(await read()).toHaveLength(3); // within maxAge: served from the cache
      advance(60_000);
      const error = await failure(read());
      expect(error).toBeInstanceOf(KeyringError);
      expect((error as KeyringError).code).toBe('unavailable');
      expect(cache.stats().staleServed).toBe(0);
    } finally {
      await done();
    }
  });

  it('on: reads succeed within the grace period (stale keys counted), and fail after it', async () => {
    const { cache, read, advance, done } = await outageAfterMaxAge(300_000);
    try {
      advance(60_000);
      const rows = await read();
      expect(rows.map((c) => c.ssn).sort()).toEqual([1, 2, 3].map(secretSsn).sort());
      expect(cache.stats().staleServed).toBeGreaterThan(0);
      advance(299_999); // 299,999 ms past maxAge
      expect(await read()).toHaveLength(3);
      advance(1); // 300,000 ms past maxAge: grace over
      const error = await failure(read());
      expect(error).toBeInstanceOf(KeyringError);
      expect((error as KeyringError).code).toBe('unavailable');
    } finally {
      await done();
    }
  });

  it('on: writes still fail while KMS is down once the encrypt-side key is past maxAge', async () => {
    const { read, advance, done } = await outageAfterMaxAge(300_000);
    try {
      advance(60_000);
      expect(await read()).toHaveLength(3);
    } finally {
      await done();
    }
    // Separate check of the write side with the server down.
    let now = 0;
    const cache = new CachingKeyring(kms.keyring, {
      maxAge: 1_000,
      decryptGracePeriod: 300_000,
      now: () => now,
    });
    const db = await openTypeormDb('sqlite', cache);
    try {
      await db.dataSource.getRepository(Note).save({ body: 'first' });
      await kms.stop();
      now += 1_000;
      const error = await failure(db.dataSource.getRepository(Note).save({ body: 'second' }));
      expect((error as KeyringError).code).toBe('unavailable');
      expect((await db.rows('note')).length).toBe(1);
    } finally {
      cache.close();
      await db.drop();
      await kms.start();
    }
  });
});

describe('KMS throttling and latency spikes: the SDK retries with backoff, then succeeds', () => {
  it('injected ThrottlingExceptions on GenerateDataKey and Decrypt: retried, one row each, none lost or doubled', async () => {
    const kms = await startKms({ maxAttempts: 4 });
    const cache = new CachingKeyring(kms.keyring, { maxUses: 1 });
    const db = await openTypeormDb('sqlite', cache);
    try {
      const customers = db.dataSource.getRepository(Customer);
      kms.server.setFaults({
        failNext: { count: 2, errorType: 'ThrottlingException', operations: ['GenerateDataKey'] },
      });
      const saved = await customers.save(
        customers.create({ handle: 'throttled', email: secretEmail(1), ssn: null }),
      );
      expect(kms.server.stats().injectedFailures).toEqual({ GenerateDataKey: 2 });
      expect(kms.server.stats().requests.GenerateDataKey).toBe(3);
      cache.clear(); // force an unwrap on the read
      kms.server.setFaults({
        failNext: { count: 1, errorType: 'ThrottlingException', operations: ['Decrypt'] },
      });
      expect((await customers.findOneByOrFail({ id: saved.id })).email).toBe(secretEmail(1));
      expect(kms.server.stats().injectedFailures).toEqual({ GenerateDataKey: 2, Decrypt: 1 });
      expect(kms.server.stats().requests.Decrypt).toBe(2);
      expect((await db.rows('customer')).length).toBe(1);
    } finally {
      cache.close();
      await db.drop();
      await kms.close();
    }
  });

  it('a real rate limit (10 requests/s) under 40 inserts each needing a data key: throttled, retried, exactly 40 rows', async () => {
    const kms = await startKms({ maxAttempts: 10 });
    const cache = new CachingKeyring(kms.keyring, { maxUses: 1 });
    const db = await openTypeormDb('sqlite', cache);
    try {
      kms.server.setFaults({ rateLimit: 10 });
      const customers = db.dataSource.getRepository(Customer);
      // Four concurrent writers, ten inserts each (insert(): one statement per row, no shared transaction).
      await Promise.all(
        [0, 1, 2, 3].map(async (w) => {
          for (let i = 0; i < 10; i++) {
            await customers.insert({
              handle: `rl-${w}-${i}`,
              email: secretEmail(w * 10 + i),
              ssn: secretSsn(i),
            });
          }
        }),
      );
      const stats = kms.server.stats();
      expect(stats.throttled.GenerateDataKey ?? 0).toBeGreaterThan(0);
      console.info(
        `[reliability figures] rate-limit ${JSON.stringify({ rows: 40, generateDataKey: stats.requests.GenerateDataKey, throttled: stats.throttled.GenerateDataKey })}`,
      );
      const audit = await auditRows(db, 'customer');
      expect(audit.rows).toBe(40);
      expect(audit.broken).toEqual([]);
      const handles = (await db.rows('customer')).map((r) => r.handle);
      expect(new Set(handles).size).toBe(40);
      const emails = [...audit.plaintext.values()].map((p) => p.email).sort();
      expect(emails).toEqual(Array.from({ length: 40 }, (_, i) => secretEmail(i)).sort());
    } finally {
      cache.close();
      await db.drop();
      await kms.close();
    }
  });

  it('a latency spike longer than the request timeout: the attempt times out, the retry succeeds, one row', async () => {
    const kms = await startKms({
      maxAttempts: 5,
      requestHandler: { requestTimeout: 150, throwOnRequestTimeout: true },
    });
    const cache = new CachingKeyring(kms.keyring);
    const db = await openTypeormDb('sqlite', cache);
    try {
      kms.server.setFaults({ latencyMs: 600 });
      const calm = setTimeout(() => kms.server.setFaults({ latencyMs: 0 }), 100);
      const started = performance.now();
      await db.dataSource.getRepository(Note).save({ body: 'written through a latency spike' });
      clearTimeout(calm);
      const elapsed = performance.now() - started;
      // Timed out at 150 ms and retried, rather than waiting out the 600 ms answer.
      expect(elapsed).toBeGreaterThanOrEqual(145);
      expect(elapsed).toBeLessThan(600);
      // The abandoned attempt is still answered by the server later: KMS made two keys, one row holds one.
      await new Promise((resolve) => setTimeout(resolve, 700));
      expect(kms.server.stats().requests.GenerateDataKey).toBe(2);
      const audit = await auditRows(db, 'note');
      expect(audit.rows).toBe(1);
      expect(audit.broken).toEqual([]);
    } finally {
      cache.close();
      await db.drop();
      await kms.close();
    }
  });

  it('steady latency with jitter (30 ± 20 ms per call): 20 rows written, each once', async () => {
    const kms = await startKms();
    const cache = new CachingKeyring(kms.keyring, { maxUses: 2 });
    const db = await openTypeormDb('sqlite', cache);
    try {
      kms.server.setFaults({ latencyMs: 30, jitterMs: 20 });
      const customers = db.dataSource.getRepository(Customer);
      await customers.save(
        Array.from({ length: 20 }, (_, i) =>
          customers.create({ handle: `lat-${i}`, email: secretEmail(i), ssn: null }),
        ),
      );
      const audit = await auditRows(db, 'customer');
      expect(audit.rows).toBe(20);
      expect(audit.broken).toEqual([]);
      expect(kms.server.stats().requests.GenerateDataKey).toBe(10);
    } finally {
      cache.close();
      await db.drop();
      await kms.close();
    }
  });
});
