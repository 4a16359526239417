import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { afterEach, describe, expect, it } from 'vitest';
import { sqlExecutor, storedTables } from '../src/index.js';
import { createDatabase, DIALECTS, type TestDatabase } from './support/databases.js';
import { ENTITIES } from './support/entities.js';

describe.each(DIALECTS)('storedTables / sqlExecutor on %s', (dialect) => {
  let db: TestDatabase | undefined;
  afterEach(async () => {
    await db?.drop();
    db = undefined;
  });

  it('describes each encrypted entity as the adapter stores it, with the blind index normalize', async () => {
    db = await createDatabase(dialect, ENTITIES);
    await db.dataSource.initialize();
    const tables = storedTables(db.dataSource);
    const user = tables.find((t) => t.model === 'User');
    expect(user).toMatchObject({
      table: 'user',
      primaryKey: ['id'],
      dataKeyColumn: 'dataKey',
      columns: [
        {
          field: 'email',
          column: 'email',
          output: 'text',
          blindIndex: { field: 'emailIndex', column: 'emailIndex' },
        },
        { field: 'ssn', column: 'ssn', output: 'text' },
      ],
    });
    expect(user?.columns[0]?.blindIndex?.normalize?.('  Ada@Example.COM ')).toBe('ada@example.com');
    expect(user?.schema === undefined).toBe(dialect !== 'postgres');
    expect(tables.every((t) => t.columns.length > 0)).toBe(true);
  });

  it('runs queries, counts affected rows, commits and rolls back transactions', async () => {
    db = await createDatabase(dialect, ENTITIES);
    await db.dataSource.initialize();
    const executor = sqlExecutor(db.dataSource);
    expect(executor.dialect).toBe(dialect === 'mariadb' ? 'mysql' : dialect);
    const p = (i: number) => (dialect === 'postgres' ? `$${i}` : '?');
    const tag = db.t('tag');
    const insert = `INSERT INTO ${tag} (${db.q('label')}) VALUES (${p(1)})`;
    expect(await executor.execute(insert, ['a'])).toBe(1);
    await executor.transaction(async (tx) => {
      await tx.execute(insert, ['kept']);
    });
    await expect(
      executor.transaction(async (tx) => {
        await tx.execute(insert, ['dropped']);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const rows = await executor.query<{ name: string }>(
      `SELECT ${db.q('label')} AS name FROM ${tag} ORDER BY ${db.q('id')}`,
    );
    expect(rows.map((r) => r.name)).toEqual(['a', 'kept']);
    expect(
      await executor.execute(
        `UPDATE ${tag} SET ${db.q('label')} = ${p(1)} WHERE ${db.q('label')} = ${p(2)}`,
        ['b', 'a'],
      ),
    ).toBe(1);
  });

  it('needs an initialized data source', () => {
    const uninitialized = new DataSource({
      type: 'better-sqlite3',
      database: ':memory:',
      entities: ENTITIES,
    });
    expect(() => storedTables(uninitialized)).toThrow(/initialize the data source/);
    expect(() => sqlExecutor(uninitialized)).toThrow(/initialize the data source/);
  });
});
