import 'reflect-metadata';
import {
  isConfigError,
  isDecryptionError,
  isKeyringError,
  isUnsupportedOperationError,
  type Keyring,
  LocalKeyring,
  parseDataKey,
  parseValue,
} from '@fieldseal/core';
import { DataSource, In } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fieldEncryption, storedTables } from '../src/index.js';
import { createDatabase, DIALECTS, type TestDatabase } from './support/databases.js';
import { rawRows, testKeyring } from './support/setup.js';
import { DateTenant, EncryptedTenant, Invoice, InvoiceLine, TwoTenants } from './support/tenant-entities.js';

// Tenant scope through the TypeORM adapter (`@Tenant()`): every check is made at rest, with raw SQL.

const keyTexts = new Map(
  ['acme', 'globex', '7', '8'].map((t) => [t, LocalKeyring.generateKeyText(`key-${t}`)]),
);
const tenantKeyrings = new Map<string, Keyring>(
  [...keyTexts].map(([t, text]) => [t, LocalKeyring.fromString(text)]),
);
// One keyring holding every tenant's key: there, only the tenant in the context keeps rows apart.
const allKeys = LocalKeyring.fromString([...keyTexts.values()].join(','));
const keyIdOf = (dataKey: unknown) => parseDataKey(dataKey).keyId;
const flagsOf = (value: unknown) => parseValue(value as string).flags;
const failsTyped = (error: unknown) => isDecryptionError(error) || isKeyringError(error);

describe.each(DIALECTS)('tenant scope (@Tenant()) on %s', (dialect) => {
  let db: TestDatabase;
  const asked: string[] = [];
  const invoices = () => db.dataSource.getRepository(Invoice);
  beforeAll(async () => {
    db = await createDatabase(dialect, [Invoice, InvoiceLine]);
    await fieldEncryption(db.dataSource, {
      keyring: testKeyring(),
      keyringFor: (tenant) => {
        asked.push(tenant);
        return tenantKeyrings.get(tenant) ?? allKeys;
      },
    });
  });
  afterAll(async () => {
    await db?.drop();
  });

  const row = async (table: string, id: number) =>
    (await rawRows(db, table)).find((r) => Number(r.id) === id) as Record<string, unknown>;
  const exec = (sql: string) => db.dataSource.query(sql);
  const copy = (columns: string[], from: number, to: number) =>
    exec(
      `UPDATE ${db.t('invoice')} SET ${columns
        .map(
          (c) =>
            `${db.q(c)} = (SELECT ${db.q(c)} FROM (SELECT * FROM ${db.t('invoice')}) src WHERE src.${db.q('id')} = ${from})`,
        )
        .join(', ')} WHERE ${db.q('id')} = ${to}`,
    );

  it('keyringFor picks each row’s keyring; values carry flag 0x04; a mixed-tenant find decrypts every row', async () => {
    asked.length = 0;
    await invoices().save([
      invoices().create({ tenantId: 'acme', memo: 'acme memo', note: 'n1' }),
      invoices().create({ tenantId: 'globex', memo: 'globex memo', note: null }),
    ]);
    await invoices().insert({ tenantId: 'acme', memo: 'm3' });
    expect(asked).toEqual(expect.arrayContaining(['acme', 'globex']));
    for (const r of await rawRows(db, 'invoice')) {
      expect(keyIdOf(r.dataKey)).toBe(`key-${r.tenantId}`);
      expect(flagsOf(r.memo) & 0x04).toBe(0x04);
    }
    const found = await invoices().find({ order: { id: 'ASC' } });
    expect(found.map((i) => [i.tenantId, i.memo, i.note])).toEqual([
      ['acme', 'acme memo', 'n1'],
      ['globex', 'globex memo', null],
      ['acme', 'm3', null],
    ]);
    // The tenant is read for decryption even when the select leaves it out, and not put on the entity.
    const partial = await invoices().find({ select: { id: true, memo: true }, order: { id: 'ASC' } });
    expect(partial.map((i) => [i.memo, i.tenantId])).toEqual([
      ['acme memo', undefined],
      ['globex memo', undefined],
      ['m3', undefined],
    ]);
  });

  it('a value copied to another tenant’s row fails with a typed error, naming the row', async () => {
    const [a, b] = await invoices().save([
      invoices().create({ tenantId: 'acme', memo: 'secret of acme' }),
      invoices().create({ tenantId: 'globex', memo: 'globex' }),
    ]);
    await copy(['memo'], (a as Invoice).id, (b as Invoice).id);
    const error = await invoices()
      .findOneBy({ id: (b as Invoice).id })
      .catch((e: unknown) => e);
    expect(failsTyped(error)).toBe(true);
    expect((error as Error).message).toContain(String((b as Invoice).id));
    expect((error as Error).message).not.toContain('secret of acme');
  });

  it('a data key and values copied to another tenant’s row fail, even when one keyring holds every key', async () => {
    const [a, b] = await invoices().save([
      invoices().create({ tenantId: 'acme', memo: 'acme only' }),
      invoices().create({ tenantId: 'zeta', memo: 'zeta' }), // zeta's keyring is allKeys
    ]);
    const acme = (a as Invoice).id;
    const zeta = (b as Invoice).id;
    await copy(['memo', 'dataKey'], acme, zeta);
    const error = await invoices()
      .findBy({ id: In([zeta]) })
      .catch((e: unknown) => e);
    expect(failsTyped(error)).toBe(true);
    expect((await invoices().findOneByOrFail({ id: acme })).memo).toBe('acme only');
  });

  it('a tenant column changed in SQL makes the row unreadable, not readable as the other tenant', async () => {
    const a = await invoices().save(invoices().create({ tenantId: 'zeta', memo: 'moved' }));
    await exec(`UPDATE ${db.t('invoice')} SET ${db.q('tenantId')} = 'omega' WHERE ${db.q('id')} = ${a.id}`);
    const error = await invoices()
      .findOneBy({ id: a.id })
      .catch((e: unknown) => e);
    expect(failsTyped(error)).toBe(true);
  });

  it('save(), update() and QueryBuilder updates across tenants keep each row bound to its tenant', async () => {
    const a = await invoices().save(invoices().create({ tenantId: 'acme', memo: 'a0' }));
    const b = await invoices().save(invoices().create({ tenantId: 'globex', memo: 'b0' }));
    const before = await rawRows(db, 'invoice');
    const loaded = await invoices().findOneByOrFail({ id: a.id });
    loaded.memo = 'a1';
    await invoices().save(loaded);
    await invoices().update({ id: a.id }, { tenantId: 'acme', note: 'same tenant' });
    await invoices().update({ id: In([a.id, b.id]) }, { note: 'both' });
    await db.dataSource
      .createQueryBuilder()
      .update(Invoice)
      .set({ memo: 'b2' })
      .where('id = :id', { id: b.id })
      .execute();
    for (const id of [a.id, b.id]) {
      const r = await row('invoice', id);
      expect(keyIdOf(r.dataKey)).toBe(`key-${r.tenantId}`);
      expect(flagsOf(r.memo) & flagsOf(r.note) & 0x04).toBe(0x04);
      expect(r.dataKey).toBe(before.find((old) => Number(old.id) === id)?.dataKey);
    }
    const read = await invoices().find({ where: { id: In([a.id, b.id]) }, order: { id: 'ASC' } });
    expect(read.map((i) => [i.memo, i.note])).toEqual([
      ['a1', 'both'],
      ['b2', 'both'],
    ]);
  });

  it('moving a row with encrypted values to another tenant, or inserting one without a tenant, is refused', async () => {
    const a = await invoices().save(invoices().create({ tenantId: 'acme', memo: 'stay' }));
    const attempts: (() => Promise<unknown>)[] = [
      async () => {
        const loaded = await invoices().findOneByOrFail({ id: a.id });
        loaded.tenantId = 'globex';
        return invoices().save(loaded);
      },
      () => invoices().update({ id: a.id }, { tenantId: 'globex', memo: 'x' }),
      () => invoices().update({ id: a.id }, { tenantId: () => "'globex'" }),
      () =>
        db.dataSource
          .createQueryBuilder()
          .update(Invoice)
          .set({ tenantId: 'globex' })
          .where('id = :id', { id: a.id })
          .execute(),
      () => invoices().insert({ memo: 'no tenant' } as never),
      () => invoices().save(invoices().create({ tenantId: '', memo: 'empty tenant' })),
    ];
    for (const attempt of attempts) {
      const error = await attempt().catch((e: unknown) => e);
      expect(isUnsupportedOperationError(error)).toBe(true);
      expect((error as Error).message).toMatch(/Invoice|tenantId/);
    }
    expect((await row('invoice', a.id)).tenantId).toBe('acme');
    expect((await invoices().findOneByOrFail({ id: a.id })).memo).toBe('stay');
  });

  it('cascaded children are bound to their own integer tenant, on insert and update', async () => {
    asked.length = 0;
    const lines = db.dataSource.getRepository(InvoiceLine);
    const invoice = await invoices().save(
      invoices().create({
        tenantId: 'acme',
        memo: 'parent',
        lines: [lines.create({ shard: 7, text: 'line 7' }), lines.create({ shard: 8, text: 'line 8' })],
      }),
    );
    expect(asked).toEqual(expect.arrayContaining(['acme', '7', '8']));
    const loaded = await invoices().findOneOrFail({ where: { id: invoice.id }, relations: { lines: true } });
    for (const line of loaded.lines) line.text = `${line.text} v2`;
    await invoices().save(loaded);
    for (const r of await rawRows(db, 'invoice_line')) {
      expect(keyIdOf(r.dataKey)).toBe(`key-${r.shard}`);
      expect(flagsOf(r.text) & 0x04).toBe(0x04);
    }
    const read = await lines.find({ order: { id: 'ASC' } });
    expect(read.map((l) => [l.shard, l.text])).toEqual([
      [7, 'line 7 v2'],
      [8, 'line 8 v2'],
    ]);
  });

  it('upsert() and a QueryBuilder select without the tenant column keep each row bound to its tenant', async () => {
    const a = await invoices().save(invoices().create({ tenantId: 'globex', memo: 'u0' }));
    const result = await invoices().upsert(
      [
        { id: a.id, tenantId: 'globex', memo: 'u1' },
        { id: 900_001, tenantId: 'acme', memo: 'u-new' },
      ],
      ['id'],
    );
    // A generated id is not taken from the entity: the new row gets the next one.
    const fresh = Number(result.identifiers[1]?.id);
    for (const id of [a.id, fresh]) {
      const r = await row('invoice', id);
      expect(keyIdOf(r.dataKey)).toBe(`key-${r.tenantId}`);
      expect(flagsOf(r.memo) & 0x04).toBe(0x04);
    }
    const moved = await invoices()
      .upsert([{ id: a.id, tenantId: 'acme', memo: 'u2' }], ['id'])
      .catch((e: unknown) => e);
    expect(isUnsupportedOperationError(moved)).toBe(true);
    const read = await invoices()
      .createQueryBuilder('i')
      .select(['i.id', 'i.memo'])
      .where('i.id IN (:...ids)', { ids: [a.id, fresh] })
      .orderBy('i.id')
      .getMany();
    expect(read.map((i) => i.memo)).toEqual(['u1', 'u-new']);
  });

  it('storedTables names the tenant column, for the CLI', () => {
    const tables = storedTables(db.dataSource);
    expect(tables.find((t) => t.model === 'Invoice')?.tenantColumn).toBe('tenantId');
    expect(tables.find((t) => t.model === 'InvoiceLine')?.tenantColumn).toBe('shard');
  });
});

describe('@Tenant() rules', () => {
  it.each([
    [TwoTenants, 'one @Tenant() property per entity'],
    [EncryptedTenant, 'must be a plain column'],
    [DateTenant, 'must be a string or integer column'],
  ])('%o is refused at registration, naming entity and property', async (entity, message) => {
    const source = new DataSource({
      type: 'better-sqlite3',
      database: ':memory:',
      entities: [entity],
      synchronize: true,
    });
    const error = await fieldEncryption(source, { keyring: testKeyring() }).catch((e: unknown) => e);
    expect(isConfigError(error)).toBe(true);
    expect((error as Error).message).toContain(message);
    expect((error as Error).message).toContain(`entity ${(entity as { name: string }).name}`);
    if (source.isInitialized) await source.destroy();
  });
});
