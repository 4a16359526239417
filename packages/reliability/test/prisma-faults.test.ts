/**
 * The Prisma-specific cases: KMS unreachable during create / createMany / an interactive
 * transaction (AWS SDK, kms-local), a unique violation in the middle of createMany, and stored
 * rows tampered with and read through the extension. Checked with raw SQL.
 */
import { CachingKeyring } from '@fieldseal/cache';
import { BlindIndex, DecryptionError, FieldsealError, KeyringError, RowEnvelope } from '@fieldseal/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failure } from './support/failure.js';
import { type KmsRig, startKms } from './support/kms.js';
import {
  type EncryptedClient,
  encryptedClient,
  openPrismaDb,
  PRISMA_DIALECTS,
  type PrismaDb,
} from './support/prisma-db.js';
import { cellsText, errorText, leaks } from './support/secrets.js';

const SECRET = (i: number) => `prisma-secret-${i}@fault.example`;

describe.each(PRISMA_DIALECTS)('Prisma faults on %s', (dialect) => {
  let kms: KmsRig;
  let cache: CachingKeyring;
  let db: PrismaDb;
  let prisma: EncryptedClient;
  beforeAll(async () => {
    kms = await startKms({ maxAttempts: 2 });
    cache = new CachingKeyring(kms.keyring, { maxUses: 2 });
    db = await openPrismaDb(dialect);
    prisma = encryptedClient(db.client(), cache, await BlindIndex.generateKey(kms.keyring));
  });
  afterAll(async () => {
    cache?.close();
    await db?.drop();
    await kms?.close();
  });

  /** Every row opens with its own data key (strict), read from raw SQL. */
  async function broken(): Promise<number[]> {
    const envelope = new RowEnvelope({ keyring: kms.keyring });
    const out: number[] = [];
    for (const row of await db.rows()) {
      await envelope
        .decryptRow({
          table: 'Member',
          values: { email: row.email, ssn: row.ssn, photo: row.photo },
          dataKey: row.dataKey,
          rowId: row.id as number,
        })
        .catch(() => out.push(row.id as number));
    }
    return out;
  }

  it('KMS unreachable: create, createMany and an interactive transaction fail with KeyringError, nothing written', async () => {
    await prisma.member.create({ data: { email: SECRET(0), ssn: 'before' } });
    const before = (await db.rows()).length;
    await kms.stop();
    cache.clear();
    try {
      const errors = [
        await failure(prisma.member.create({ data: { email: SECRET(1), ssn: 'during' } })),
        await failure(prisma.member.createMany({ data: [2, 3, 4].map((i) => ({ email: SECRET(i) })) })),
        await failure(
          prisma.$transaction(async (tx) => {
            await tx.member.update({ where: { id: 1 }, data: { team: 'changed-in-tx' } }); // plain column: no key needed
            await tx.member.create({ data: { email: SECRET(5) } });
          }),
        ),
      ];
      for (const error of errors) {
        expect(error).toBeInstanceOf(KeyringError);
        expect((error as KeyringError).code).toBe('unavailable');
        expect(leaks(errorText(error), [1, 2, 3, 4, 5].map(SECRET))).toEqual([]);
      }
    } finally {
      await kms.start();
    }
    const rows = await db.rows();
    expect(rows.length).toBe(before);
    expect(rows[0]?.team).toBeNull(); // the transaction's plain update was rolled back
    expect(leaks(cellsText(rows), [1, 2, 3, 4, 5].map(SECRET))).toEqual([]);
    expect(await broken()).toEqual([]);
  });

  it('createMany with a duplicate blind index in the middle: nothing written, every row still opens', async () => {
    const before = (await db.rows()).length;
    const error = await failure(
      prisma.member.createMany({
        data: [10, 11, 0, 12, 13].map((i) => ({ email: SECRET(i), ssn: `ssn-${i}` })),
      }),
    );
    expect((error as Error).name).toMatch(/PrismaClient/);
    expect((await db.rows()).length).toBe(before);
    await prisma.member.createMany({
      data: [10, 11, 12, 13].map((i) => ({ email: SECRET(i), ssn: `ssn-${i}` })),
    });
    expect((await db.rows()).length).toBe(before + 4);
    expect(await broken()).toEqual([]);
  });

  it('tampered rows read through the extension: typed errors with codes, never other plaintext', async () => {
    const rows = await db.rows();
    // maxUses 2: rows share data keys in pairs; c is a row under another key than a.
    const [a, b] = rows as [Record<string, unknown>, Record<string, unknown>];
    const c = rows.find((r) => r.dataKey !== a.dataKey) as Record<string, unknown>;
    expect(c).toBeDefined();
    const cases: Array<[string, string, unknown[], string, string]> = [
      [
        'data key of another row',
        `UPDATE ${db.table} SET "dataKey" = ${p(dialect, 1)} WHERE "id" = ${p(dialect, 2)}`,
        [c.dataKey, a.id],
        'DecryptionError',
        'wrong-data-key',
      ],
      [
        'value moved to another column',
        `UPDATE ${db.table} SET "ssn" = "email" WHERE "id" = ${p(dialect, 1)}`,
        [b.id],
        'DecryptionError',
        'authentication-failed',
      ],
      [
        'unknown version',
        `UPDATE ${db.table} SET "email" = ${p(dialect, 1)} WHERE "id" = ${p(dialect, 2)}`,
        [`fs3:${String(c.email).slice(4)}`, c.id],
        'DecryptionError',
        'unsupported-version',
      ],
    ];
    for (const [what, sql, params, name, code] of cases) {
      await db.execute(sql, ...params);
      cache.clear();
      const id = params.at(-1) as number;
      const error = await failure(prisma.member.findUniqueOrThrow({ where: { id } }));
      expect(error, what).toBeInstanceOf(FieldsealError);
      expect([(error as FieldsealError).name, (error as FieldsealError).code], what).toEqual([name, code]);
      expect(error).toBeInstanceOf(DecryptionError);
    }
  });
});

function p(dialect: string, n: number): string {
  return dialect === 'postgresql' ? `$${n}` : '?';
}
