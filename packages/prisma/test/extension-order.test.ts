import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, openDatabase, type TestDatabase } from './helpers/databases.js';
import { encrypted } from './helpers/fixture.js';

// docs/prisma.md, "Other extensions": a query extension applied before fieldEncryption runs
// first and sees the app's plaintext; one applied after it runs inside it and sees what goes to
// the database (blind-index filters) and what comes back (ciphertext).
interface Seen {
  where?: unknown;
  email?: unknown;
}

/** A query extension that records the `findFirst` arguments and the email it returns. */
const recorder = (seen: Seen) => ({
  query: {
    user: {
      async findFirst({
        args,
        query,
      }: {
        args: { where?: unknown };
        query: (a: unknown) => Promise<unknown>;
      }) {
        seen.where = structuredClone(args.where);
        const row = (await query(args)) as { email?: unknown } | null;
        seen.email = row?.email;
        return row;
      },
    },
  },
});

describe.each(DIALECTS)('the order of query extensions on %s', (dialect) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await openDatabase(dialect);
    await encrypted(db.client()).user.create({ data: { email: 'ada@x.io' } });
  });
  afterAll(async () => db?.drop());

  it('applied before fieldEncryption: plaintext arguments and the decrypted result', async () => {
    const seen: Seen = {};
    const prisma = encrypted(db.client().$extends(recorder(seen)) as never);
    expect((await prisma.user.findFirst({ where: { email: 'ada@x.io' } }))?.email).toBe('ada@x.io');
    expect(seen).toEqual({ where: { email: 'ada@x.io' }, email: 'ada@x.io' });
  });

  it('applied after fieldEncryption: the blind-index filter and the ciphertext', async () => {
    const seen: Seen = {};
    const prisma = encrypted(db.client()).$extends(recorder(seen));
    expect((await prisma.user.findFirst({ where: { email: 'ada@x.io' } }))?.email).toBe('ada@x.io');
    expect(seen.where).toEqual({ emailIndex: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(seen.email).toMatch(/^fs2:/);
  });
});
