import type { DMMF } from '@prisma/generator-helper';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metadataFromDmmf, sqlExecutor, storedTables } from '../src/index.js';
import { openDatabase, type TestDatabase } from './helpers/databases.js';
import { metadata } from './helpers/fixture.js';

describe('storedTables(metadata)', () => {
  it('lists each model with encrypted fields under the names the extension binds', () => {
    const tables = storedTables(metadata);
    expect(tables.map((t) => t.model)).toEqual([
      'User',
      'Post',
      'Comment',
      'Profile',
      'BenchRow',
      'Invoice',
      'InvoiceLine',
      'Doc',
    ]);
    expect(tables[0]).toEqual({
      model: 'User',
      table: 'User',
      primaryKey: ['id'],
      dataKeyColumn: 'dataKey',
      columns: [
        {
          field: 'email',
          column: 'email',
          output: 'text',
          blindIndex: { field: 'emailIndex', column: 'emailIndex', normalize: expect.any(Function) },
        },
        { field: 'ssn', column: 'ssn', output: 'text' },
      ],
    });
    expect(tables[0]?.columns[0]?.blindIndex?.normalize?.('  Ada@Example.COM ')).toBe('ada@example.com');
    expect(tables.find((t) => t.model === 'Profile')?.columns.map((c) => c.output)).toEqual([
      'text',
      'binary',
    ]);
    expect(storedTables(metadata, { schema: 'app' })[0]?.schema).toBe('app');
  });

  it('uses the renamed (@map) columns of the id, data-key and blind-index fields', () => {
    const field = (name: string, extra: Partial<DMMF.Field> = {}) =>
      ({
        name,
        kind: 'scalar',
        type: 'String',
        isList: false,
        isId: false,
        isUnique: false,
        dbName: null,
        ...extra,
      }) as DMMF.Field;
    const datamodel = {
      enums: [],
      types: [],
      indexes: [],
      models: [
        {
          name: 'Customer',
          dbName: 'customers',
          primaryKey: null,
          uniqueFields: [],
          uniqueIndexes: [],
          fields: [
            field('id', { type: 'Int', isId: true, dbName: 'customer_id' }),
            field('email', { documentation: '@encrypted', dbName: 'email_enc' }),
            field('emailHash', { documentation: '@blindIndex(email)', dbName: 'email_hash' }),
            field('dataKey', { documentation: '@dataKey', dbName: 'data_key' }),
          ],
        },
      ],
    } as unknown as DMMF.Datamodel;
    const generated = metadataFromDmmf(datamodel);
    expect(generated.models.Customer?.columns).toEqual({
      id: 'customer_id',
      dataKey: 'data_key',
      emailHash: 'email_hash',
    });
    expect(storedTables(generated)).toEqual([
      {
        model: 'Customer',
        table: 'customers',
        primaryKey: ['customer_id'],
        dataKeyColumn: 'data_key',
        columns: [
          {
            field: 'email',
            column: 'email_enc',
            output: 'text',
            blindIndex: { field: 'emailHash', column: 'email_hash' },
          },
        ],
      },
    ]);
  });
});

describe('sqlExecutor(client) on SQLite', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await openDatabase('sqlite');
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('tells the dialect from the client, runs queries and reports affected rows', async () => {
    const executor = sqlExecutor(db.raw);
    expect(executor.dialect).toBe('sqlite');
    expect(await executor.execute('INSERT INTO "Audit" (action) VALUES (?), (?)', ['a', 'b'])).toBe(2);
    expect(await executor.query('SELECT action FROM "Audit" ORDER BY id')).toEqual([
      { action: 'a' },
      { action: 'b' },
    ]);
    expect(await executor.execute('UPDATE "Audit" SET action = ? WHERE action = ?', ['c', 'nope'])).toBe(0);
  });

  it('commits a transaction that resolves and rolls back one that throws', async () => {
    const executor = sqlExecutor(db.raw, { dialect: 'sqlite' });
    await executor.transaction(async (tx) => {
      await tx.execute('INSERT INTO "Audit" (action) VALUES (?)', ['kept']);
    });
    await expect(
      executor.transaction(async (tx) => {
        await tx.execute('INSERT INTO "Audit" (action) VALUES (?)', ['dropped']);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const rows = await executor.query<{ action: string }>(
      'SELECT action FROM "Audit" WHERE action IN (?, ?)',
      ['kept', 'dropped'],
    );
    expect(rows).toEqual([{ action: 'kept' }]);
  });

  it('rejects what is not a Prisma Client', () => {
    expect(() => sqlExecutor({} as never)).toThrow(/expected a Prisma Client/);
  });
});
