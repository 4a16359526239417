import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, openDatabase, type TestDatabase } from './helpers/databases.js';
import { type EncryptedClient, extendedClient } from './helpers/fixture.js';
import { expectRowInvariant } from './helpers/invariant.js';

describe.each(DIALECTS)('concurrent writers on %s', (dialect) => {
  let db: TestDatabase;
  let writers: EncryptedClient[];
  beforeAll(async () => {
    db = await openDatabase(dialect);
    // Separate clients (separate connection pools, as separate app instances have) on the servers.
    // SQLite takes one writer at a time: one client per file, whose transactions Prisma serializes.
    // Generous waits: twelve transactions queue on one row, on a machine shared with other jobs.
    const options = {
      readMode: 'tolerant',
      transactionOptions: { maxWait: 30_000, timeout: 30_000 },
    } as const;
    const shared = extendedClient(db, options);
    writers = Array.from({ length: 3 }, () => (dialect === 'sqlite' ? shared : extendedClient(db, options)));
  });
  afterAll(async () => db?.drop());

  it('partial updates of different encrypted columns of one row never break the per-row invariant', async () => {
    const [first] = writers as [EncryptedClient];
    const user = await first.user.create({ data: { email: 'race@x.io', ssn: 's0' } });
    await Promise.all(
      Array.from({ length: 12 }, (_, i) => {
        const client = writers[i % writers.length] as EncryptedClient;
        return i % 2 === 0
          ? client.user.update({ where: { id: user.id }, data: { ssn: `s${i}` } })
          : client.user.update({ where: { id: user.id }, data: { email: `race${i}@x.io` } });
      }),
    );
    const [row] = await expectRowInvariant(db, 'User');
    expect(String(row?.ssn)).toMatch(/^s\d+$/);
    expect(String(row?.email)).toMatch(/^race\d+@x\.io$/);
  });

  it('concurrent first writes to a legacy row agree on one data key', async () => {
    await db.execute(
      `INSERT INTO ${db.t('User')} (${db.q('email')}, ${db.q('name')}) VALUES ('legacy@x.io', 'legacy')`,
    );
    const legacy = (await db.rows('User')).find((row) => row.name === 'legacy');
    await Promise.all(
      writers.map((client, i) =>
        client.user.update({ where: { id: legacy?.id as number }, data: { ssn: `legacy-${i}` } }),
      ),
    );
    // The email stays legacy plaintext (tolerant mode) until it is rewritten; the ssn written
    // by every writer opens with the one data key the row ended up with.
    const [reader] = writers as [EncryptedClient];
    const row = await reader.user.findUniqueOrThrow({ where: { id: legacy?.id as number } });
    expect(row).toMatchObject({ email: 'legacy@x.io', ssn: expect.stringMatching(/^legacy-\d$/) });
    const raw = (await db.rows('User')).find((each) => each.id === legacy?.id);
    expect(raw?.dataKey).toMatch(/^fsk2:[A-Za-z0-9_-]{22}\./);
    expect(raw?.ssn).toMatch(/^fs2:/);
  });
});
