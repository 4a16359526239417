import { PassThrough } from 'node:stream';
import { LocalKeyring, type SqlExecutor, type StoredTable } from '@fieldseal/core';
import { describe, expect, it } from 'vitest';
import { CliError, defineConfig, EXIT, exitCodeOf, selectTables, validateConfig } from '../src/index.js';
import { createProgress } from '../src/progress.js';
import { batchedGuardedUpdate } from '../src/sql-dialect.js';
import { TableAccess } from '../src/table-access.js';

const executor: SqlExecutor = {
  dialect: 'sqlite',
  query: async () => [],
  execute: async () => 0,
  transaction: (fn) => fn(executor),
};
const table: StoredTable = {
  model: 'User',
  table: 'users',
  primaryKey: ['id'],
  dataKeyColumn: 'data_key',
  columns: [{ field: 'email', column: 'email', output: 'text' }],
};
const keyring = LocalKeyring.fromString(LocalKeyring.generateKeyText('k'));

describe('config validation', () => {
  it('accepts a complete config and returns it unchanged from defineConfig', () => {
    const config = defineConfig({ executor, tables: [table], keyring });
    expect(validateConfig(config, 'x.ts')).toBe(config);
  });

  it('names the option at fault, with exit code 2', () => {
    const attempt = (config: unknown) => {
      try {
        validateConfig(config, 'cfg.ts');
      } catch (error) {
        expect(error).toBeInstanceOf(CliError);
        expect(exitCodeOf(error)).toBe(EXIT.config);
        return (error as Error).message;
      }
      throw new Error('accepted');
    };
    expect(attempt(undefined)).toContain('"default export"');
    expect(attempt({ tables: [table], keyring })).toContain('"executor"');
    expect(attempt({ executor: { ...executor, dialect: 'oracle' }, tables: [table], keyring })).toContain(
      '"executor.dialect"',
    );
    expect(attempt({ executor, tables: [table] })).toContain('"keyring"');
    expect(attempt({ executor, tables: [table, table], keyring })).toContain('model User is listed twice');
    expect(
      attempt({
        executor,
        tables: [{ ...table, columns: [{ field: 'e', column: 'data_key', output: 'text' }] }],
        keyring,
      }),
    ).toContain('column data_key of model User is used twice');
    expect(attempt({ executor, tables: [table], keyring, leaseTable: 'x; DROP' })).toContain('"leaseTable"');
  });

  it('selects a model by model or table name, and rejects unknown ones', () => {
    const config = defineConfig({ executor, tables: [table], keyring });
    expect(selectTables(config, 'User')).toEqual([table]);
    expect(selectTables(config, 'users')).toEqual([table]);
    expect(() => selectTables(config, 'Nope')).toThrow('Unknown model "Nope"; the config lists: User');
  });

  it('refuses composite primary keys with a typed error', () => {
    expect(() => new TableAccess(executor, { ...table, primaryKey: ['a', 'b'] })).toThrow(
      /composite primary key \(a, b\)/,
    );
  });
});

describe('batched guarded UPDATE', () => {
  const shape = { table: '"t"', keyColumn: 'id', setColumns: ['a'], guardColumns: ['dk', 'a'] };
  const writes = [
    { key: 1, set: ['x'], guard: [null, 'p'] },
    { key: 2, set: ['y'], guard: ['k', 'q'] },
  ];

  it('PostgreSQL binds one array per column and guards with IS NOT DISTINCT FROM', () => {
    const { sql, params } = batchedGuardedUpdate(
      'postgres',
      { ...shape, pgTypes: new Map([['id', 'integer']]) },
      writes,
    );
    expect(sql).toBe(
      'UPDATE "t" AS t SET "a" = v.s0 FROM unnest($1::integer[], $2::text[], $3::text[], $4::text[]) AS v(k, s0, g0, g1) WHERE t."id" = v.k AND t."dk" IS NOT DISTINCT FROM v.g0 AND t."a" IS NOT DISTINCT FROM v.g1',
    );
    expect(params).toEqual([
      [1, 2],
      ['x', 'y'],
      [null, 'k'],
      ['p', 'q'],
    ]);
  });

  it('SQLite uses a VALUES CTE and IS; MySQL a derived table and <=>', () => {
    const sqlite = batchedGuardedUpdate('sqlite', shape, writes);
    expect(sqlite.sql).toBe(
      'WITH v(k, s0, g0, g1) AS (VALUES (?, ?, ?, ?), (?, ?, ?, ?)) UPDATE "t" AS t SET "a" = v.s0 FROM v WHERE t."id" = v.k AND t."dk" IS v.g0 AND t."a" IS v.g1',
    );
    expect(sqlite.params).toEqual([1, 'x', null, 'p', 2, 'y', 'k', 'q']);
    const mysql = batchedGuardedUpdate('mysql', { ...shape, table: '`t`' }, writes);
    expect(mysql.sql).toBe(
      'UPDATE `t` AS t JOIN (SELECT ? AS k, ? AS s0, ? AS g0, ? AS g1 UNION ALL SELECT ?, ?, ?, ?) AS v ON t.`id` = v.k SET t.`a` = v.s0 WHERE t.`dk` <=> v.g0 AND t.`a` <=> v.g1',
    );
  });
});

describe('progress output', () => {
  it('writes plain lines with rows/s and ETA when not on a terminal, none when quiet', () => {
    const stream = new PassThrough() as unknown as NodeJS.WriteStream;
    let text = '';
    (stream as unknown as PassThrough).on('data', (chunk) => {
      text += chunk;
    });
    const progress = createProgress({ label: 'migrate', quiet: false, stream, intervalMs: 0 });
    progress.expect(1_000, 0);
    progress.add(250);
    progress.stop();
    const lines = text.split('\n').filter(Boolean);
    expect(lines[0]).toContain('rows counted when each table starts');
    expect(lines[1]).toMatch(/^migrate: 250\/1000 rows \(25\.0%\), \d+ rows\/s(, ETA \d+s)?$/);
    const quiet = createProgress({ label: 'x', quiet: true, stream });
    quiet.expect(1, 0);
    quiet.add(1);
    quiet.stop();
    expect(text.split('\n').filter(Boolean)).toHaveLength(3);
  });

  it('never shows more than 100%: rows inserted after the count are named as such', () => {
    const stream = new PassThrough() as unknown as NodeJS.WriteStream;
    let text = '';
    (stream as unknown as PassThrough).on('data', (chunk) => {
      text += chunk;
    });
    const progress = createProgress({ label: 'migrate', quiet: false, stream, intervalMs: 0 });
    // Two tables: the denominator is the sum of both counts, not the first table's.
    progress.expect(100, 0);
    progress.add(100);
    progress.expect(50, 0);
    progress.add(60);
    progress.stop();
    const last = text.trim().split('\n').at(-1) as string;
    expect(last).toMatch(/^migrate: 150\/150 rows \+10 inserted since the count \(100\.0%\)/);
    expect(text).not.toMatch(/\b(10[1-9]|1[1-9]\d|[2-9]\d\d)\.\d%/);
  });
});
