import {
  isDecryptionError,
  isKeyringError,
  isUnsupportedOperationError,
  type Keyring,
  LocalKeyring,
  parseDataKey,
  parseValue,
} from '@fieldseal/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storedTables } from '../src/index.js';
import { DIALECTS, openDatabase, type TestDatabase } from './helpers/databases.js';
import { type EncryptedClient, extendedClient, keyring, metadata } from './helpers/fixture.js';

// Tenant scope through the Prisma adapter (`/// @tenant`): every check is made at rest, with raw SQL.

const keyTexts = new Map(
  ['acme', 'globex', '7', '8'].map((tenant) => [tenant, LocalKeyring.generateKeyText(`key-${tenant}`)]),
);
const tenantKeyrings = new Map<string, Keyring>(
  [...keyTexts].map(([tenant, text]) => [tenant, LocalKeyring.fromString(text)]),
);
// One keyring holding every tenant's key: there, only the tenant in the context keeps rows apart.
const allKeys = LocalKeyring.fromString([...keyTexts.values()].join(','));

const keyIdOf = (dataKey: unknown) => parseDataKey(dataKey).keyId;
const flagsOf = (value: unknown) => parseValue(value as string).flags;
const failsTyped = (error: unknown) => isDecryptionError(error) || isKeyringError(error);

describe.each(DIALECTS)('tenant scope (/// @tenant) on %s', (dialect) => {
  let db: TestDatabase;
  let prisma: EncryptedClient;
  let single: EncryptedClient;
  const asked: string[] = [];
  beforeAll(async () => {
    db = await openDatabase(dialect);
    prisma = extendedClient(db, {
      keyringFor: (tenant: string) => {
        asked.push(tenant);
        return tenantKeyrings.get(tenant) ?? keyring;
      },
    });
    single = extendedClient(db, { keyringFor: () => allKeys });
  });
  afterAll(async () => db?.drop());

  const raw = async (table: string, id: number) =>
    (await db.rows(table)).find((row) => row.id === id) as Record<string, unknown>;
  const copy = (table: string, columns: string[], from: number, to: number) =>
    db.execute(
      `UPDATE ${db.t(table)} SET ${columns
        .map(
          (c) =>
            `${db.q(c)} = (SELECT ${db.q(c)} FROM (SELECT * FROM ${db.t(table)}) src WHERE src.${db.q('id')} = ${from})`,
        )
        .join(', ')} WHERE ${db.q('id')} = ${to}`,
    );

  it('keyringFor picks each row’s keyring; values carry flag 0x04; a mixed-tenant findMany decrypts every row', async () => {
    asked.length = 0;
    const a = await prisma.invoice.create({ data: { tenantId: 'acme', memo: 'acme memo', note: 'n1' } });
    const b = await prisma.invoice.create({ data: { tenantId: 'globex', memo: 'globex memo' } });
    await prisma.invoice.createMany({
      data: [
        { tenantId: 'acme', memo: 'm3' },
        { tenantId: 'globex', memo: 'm4' },
      ],
    });
    expect(asked).toEqual(expect.arrayContaining(['acme', 'globex']));
    const rows = await db.rows('Invoice');
    for (const row of rows) {
      expect(keyIdOf(row.dataKey)).toBe(`key-${row.tenantId}`);
      expect(flagsOf(row.memo) & 0x04).toBe(0x04);
    }
    expect(flagsOf((await raw('Invoice', a.id)).note) & 0x04).toBe(0x04);
    const found = await prisma.invoice.findMany({ orderBy: { id: 'asc' } });
    expect(found.map((row) => [row.tenantId, row.memo])).toEqual([
      ['acme', 'acme memo'],
      ['globex', 'globex memo'],
      ['acme', 'm3'],
      ['globex', 'm4'],
    ]);
    // The tenant is read for decryption even when the app does not select it, and removed again.
    const selected = await prisma.invoice.findMany({ select: { memo: true }, orderBy: { id: 'asc' } });
    expect(selected).toEqual([
      { memo: 'acme memo' },
      { memo: 'globex memo' },
      { memo: 'm3' },
      { memo: 'm4' },
    ]);
    expect(await single.invoice.findUniqueOrThrow({ where: { id: b.id } })).toMatchObject({
      memo: 'globex memo',
    });
  });

  it('a value copied to another tenant’s row fails with a typed error, naming the row', async () => {
    const a = await prisma.invoice.create({ data: { tenantId: 'acme', memo: 'secret of acme' } });
    const b = await prisma.invoice.create({ data: { tenantId: 'globex', memo: 'globex' } });
    await copy('Invoice', ['memo'], a.id, b.id);
    const error = await single.invoice.findUnique({ where: { id: b.id } }).catch((e: unknown) => e);
    expect(failsTyped(error)).toBe(true);
    expect(String((error as Error).message)).toContain(String(b.id));
    expect(String((error as Error).message)).not.toContain('secret of acme');
  });

  it('a data key and values copied to another tenant’s row fail, even under one keyring holding every key', async () => {
    const a = await prisma.invoice.create({ data: { tenantId: 'acme', memo: 'acme only' } });
    const b = await prisma.invoice.create({ data: { tenantId: 'globex', memo: 'globex' } });
    await copy('Invoice', ['memo', 'dataKey'], a.id, b.id);
    for (const client of [prisma, single]) {
      const error = await client.invoice.findMany({ where: { id: b.id } }).catch((e: unknown) => e);
      expect(failsTyped(error)).toBe(true);
    }
    expect((await single.invoice.findUniqueOrThrow({ where: { id: a.id } })).memo).toBe('acme only');
  });

  it('a tenant column changed in SQL makes the row unreadable, not readable as the other tenant', async () => {
    const a = await prisma.invoice.create({ data: { tenantId: 'acme', memo: 'moved' } });
    await db.execute(
      `UPDATE ${db.t('Invoice')} SET ${db.q('tenantId')} = 'globex' WHERE ${db.q('id')} = ${a.id}`,
    );
    for (const client of [prisma, single]) {
      const error = await client.invoice.findUnique({ where: { id: a.id } }).catch((e: unknown) => e);
      expect(failsTyped(error)).toBe(true);
    }
  });

  it('updates, updateMany across tenants and upserts keep each row bound to its tenant', async () => {
    const a = await prisma.invoice.create({ data: { tenantId: 'acme', memo: 'a0' } });
    const b = await prisma.invoice.create({ data: { tenantId: 'globex', memo: 'b0' } });
    const before = await db.rows('Invoice');
    expect((await prisma.invoice.update({ where: { id: a.id }, data: { memo: 'a1' } })).memo).toBe('a1');
    // Writing the tenant it already has is no change.
    await prisma.invoice.update({ where: { id: a.id }, data: { tenantId: 'acme', note: 'same tenant' } });
    expect(
      await prisma.invoice.updateMany({ where: { id: { in: [a.id, b.id] } }, data: { note: 'both' } }),
    ).toEqual({
      count: 2,
    });
    await prisma.invoice.upsert({
      where: { id: b.id },
      create: { tenantId: 'globex', memo: 'x' },
      update: { memo: 'b2' },
    });
    const created = await prisma.invoice.upsert({
      where: { id: 1_000_000 },
      create: { tenantId: 'globex', memo: 'fresh' },
      update: { memo: 'never' },
    });
    for (const id of [a.id, b.id, created.id]) {
      const row = await raw('Invoice', id);
      expect(keyIdOf(row.dataKey)).toBe(`key-${row.tenantId}`);
      expect(flagsOf(row.memo) & flagsOf(row.note ?? row.memo) & 0x04).toBe(0x04);
      const old = before.find((each) => each.id === id);
      if (old) expect(row.dataKey).toBe(old.dataKey); // the row keeps its key
    }
    const read = await single.invoice.findMany({
      where: { id: { in: [a.id, b.id, created.id] } },
      orderBy: { id: 'asc' },
    });
    expect(read.map((row) => [row.memo, row.note])).toEqual([
      ['a1', 'both'],
      ['b2', 'both'],
      ['fresh', null],
    ]);
  });

  it('moving a row with encrypted values to another tenant, or creating one without a tenant, is refused', async () => {
    const a = await prisma.invoice.create({ data: { tenantId: 'acme', memo: 'stay' } });
    const attempts: (() => Promise<unknown>)[] = [
      () => prisma.invoice.update({ where: { id: a.id }, data: { tenantId: 'globex' } }),
      () => prisma.invoice.update({ where: { id: a.id }, data: { tenantId: { set: 'globex' }, memo: 'x' } }),
      () => prisma.invoice.updateMany({ where: { id: a.id }, data: { tenantId: 'globex' } }),
      () =>
        prisma.invoice.upsert({
          where: { id: a.id },
          create: { tenantId: 'acme', memo: 'c' },
          update: { tenantId: 'globex' },
        }),
      () => prisma.invoice.create({ data: { memo: 'no tenant' } as never }),
      () => prisma.invoice.createMany({ data: [{ tenantId: '', memo: 'empty tenant' }] }),
    ];
    for (const attempt of attempts) {
      const error = await attempt().catch((e: unknown) => e);
      expect(isUnsupportedOperationError(error)).toBe(true);
      expect((error as Error).message).toContain('Invoice.tenantId');
    }
    const row = await raw('Invoice', a.id);
    expect(row.tenantId).toBe('acme');
    expect((await prisma.invoice.findUniqueOrThrow({ where: { id: a.id } })).memo).toBe('stay');
  });

  it('nested writes (create, update, updateMany, upsert) bind each child row to its own Int tenant', async () => {
    asked.length = 0;
    const invoice = await prisma.invoice.create({
      data: {
        tenantId: 'acme',
        memo: 'parent',
        lines: {
          create: [
            { shard: 7, text: 'line 7' },
            { shard: 8, text: 'line 8' },
          ],
        },
      },
      include: { lines: { orderBy: { id: 'asc' } } },
    });
    expect(invoice.lines.map((line) => line.text)).toEqual(['line 7', 'line 8']);
    expect(asked).toEqual(expect.arrayContaining(['acme', '7', '8']));
    const [l7, l8] = invoice.lines as unknown as [{ id: number }, { id: number }];
    await prisma.invoice.update({
      where: { id: invoice.id },
      data: {
        lines: {
          update: { where: { id: l7.id }, data: { text: 'line 7 v2' } },
          updateMany: { where: { id: l8.id }, data: { text: 'line 8 v2' } },
          upsert: {
            where: { id: 1_000_001 },
            create: { shard: 8, text: 'line 8b' },
            update: { text: 'never' },
          },
        },
      },
    });
    const lines = await db.rows('InvoiceLine');
    for (const line of lines) {
      expect(keyIdOf(line.dataKey)).toBe(`key-${line.shard}`);
      expect(flagsOf(line.text) & 0x04).toBe(0x04);
    }
    const read = await single.invoiceLine.findMany({
      where: { invoiceId: invoice.id },
      orderBy: { id: 'asc' },
    });
    expect(read.map((line) => [line.shard, line.text])).toEqual([
      [7, 'line 7 v2'],
      [8, 'line 8 v2'],
      [8, 'line 8b'],
    ]);
    const moved = await prisma.invoice
      .update({
        where: { id: invoice.id },
        data: { lines: { update: { where: { id: l7.id }, data: { shard: 8 } } } },
      })
      .catch((e: unknown) => e);
    expect(isUnsupportedOperationError(moved)).toBe(true);
    expect((await raw('InvoiceLine', l7.id)).shard).toBe(7);
  });

  it('a tenant that is a relation’s foreign key: set directly it works; through the relation it is refused', async () => {
    await prisma.org.createMany({ data: [{ id: 'acme' }, { id: 'globex' }] });
    const doc = await prisma.doc.create({ data: { orgId: 'acme', secret: 'plans' } });
    expect(keyIdOf((await raw('Doc', doc.id)).dataKey)).toBe('key-acme');
    const refused: (() => Promise<unknown>)[] = [
      // Through the relation, fieldseal cannot see the tenant the row will get.
      () => prisma.doc.create({ data: { org: { connect: { id: 'acme' } }, secret: 's' } }),
      () => prisma.org.update({ where: { id: 'acme' }, data: { docs: { create: { secret: 's' } } } }),
      () => prisma.doc.update({ where: { id: doc.id }, data: { org: { connect: { id: 'globex' } } } }),
      () => prisma.doc.update({ where: { id: doc.id }, data: { orgId: 'globex' } }),
    ];
    for (const attempt of refused) {
      const error = await attempt().catch((e: unknown) => e);
      expect(isUnsupportedOperationError(error)).toBe(true);
      expect((error as Error).message).toContain('Doc.orgId');
    }
    expect(await db.rows('Doc')).toHaveLength(1);
    expect((await raw('Doc', doc.id)).orgId).toBe('acme');
    const read = await prisma.org.findUniqueOrThrow({
      where: { id: 'acme' },
      include: { docs: { select: { secret: true } } },
    });
    expect(read.docs).toEqual([{ secret: 'plans' }]);
  });

  it('omit of the tenant and an interactive transaction still bind and open each row by its tenant', async () => {
    const a = await prisma.invoice.create({ data: { tenantId: 'globex', memo: 'omit me' } });
    expect(
      await prisma.invoice.findUniqueOrThrow({
        where: { id: a.id },
        omit: { tenantId: true, dataKey: true },
      }),
    ).toEqual({
      id: a.id,
      memo: 'omit me',
      note: null,
    });
    const b = await prisma.$transaction(async (tx) => {
      const created = await tx.invoice.create({ data: { tenantId: 'acme', memo: 'in tx' } });
      await tx.invoice.update({ where: { id: a.id }, data: { note: 'tx note' } });
      return created;
    });
    expect(keyIdOf((await raw('Invoice', b.id)).dataKey)).toBe('key-acme');
    expect(keyIdOf((await raw('Invoice', a.id)).dataKey)).toBe('key-globex');
    expect((await single.invoice.findUniqueOrThrow({ where: { id: a.id } })).note).toBe('tx note');
  });

  it('fluent relation reads, delete and the …AndReturn operations open each row by its own tenant', async () => {
    const invoice = await prisma.invoice.create({
      data: {
        tenantId: 'globex',
        memo: 'fluent',
        lines: {
          create: [
            { shard: 7, text: 'f7' },
            { shard: 8, text: 'f8' },
          ],
        },
      },
    });
    const lines = await prisma.invoice
      .findUniqueOrThrow({ where: { id: invoice.id } })
      .lines({ orderBy: { id: 'asc' } });
    expect(lines.map((line) => line.text)).toEqual(['f7', 'f8']);
    if (dialect !== 'mysql') {
      // Prisma has no createManyAndReturn / updateManyAndReturn on MySQL.
      const made = await prisma.invoice.createManyAndReturn({
        data: [
          { tenantId: 'acme', memo: 'r1' },
          { tenantId: 'globex', memo: 'r2' },
        ],
        select: { id: true, memo: true },
      });
      expect(made.map((row) => row.memo)).toEqual(['r1', 'r2']);
      const changed = await prisma.invoice.updateManyAndReturn({
        where: { id: { in: made.map((row) => row.id) } },
        data: { note: 'returned' },
        select: { memo: true, note: true },
      });
      expect(changed.map((row) => [row.memo, row.note]).sort()).toEqual([
        ['r1', 'returned'],
        ['r2', 'returned'],
      ]);
      for (const row of made) {
        const stored = await raw('Invoice', row.id);
        expect(keyIdOf(stored.dataKey)).toBe(`key-${stored.tenantId}`);
      }
    }
    await prisma.invoiceLine.deleteMany({ where: { invoiceId: invoice.id } });
    expect(await prisma.invoice.delete({ where: { id: invoice.id }, select: { memo: true } })).toEqual({
      memo: 'fluent',
    });
  });

  it('storedTables names the tenant column, for the CLI', () => {
    const tables = storedTables(metadata);
    expect(tables.find((table) => table.model === 'Invoice')?.tenantColumn).toBe('tenantId');
    expect(tables.find((table) => table.model === 'InvoiceLine')?.tenantColumn).toBe('shard');
    expect(tables.find((table) => table.model === 'User')?.tenantColumn).toBeUndefined();
  });
});
