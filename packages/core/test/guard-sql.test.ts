import { describe, expect, it } from 'vitest';
import {
  GUARD_NAME_LIMIT,
  GuardViolationError,
  guardInstallSql,
  guardName,
  guardPlaces,
  guardRemoveSql,
  guardViolationOf,
  isGuardViolationError,
  type StoredTable,
  sqliteGuardNames,
  sqliteRebuild,
  tableGuards,
} from '../src/index.js';

const customers: StoredTable = {
  model: 'Customer',
  table: 'customers',
  primaryKey: ['id'],
  dataKeyColumn: 'data_key',
  columns: [
    {
      field: 'email',
      column: 'email',
      output: 'text',
      blindIndex: { field: 'emailHash', column: 'email_hash' },
    },
    { field: 'photo', column: 'photo', output: 'binary' },
  ],
};

describe('guard names', () => {
  it('are fieldseal_guard_<table>_<column>, and _data_key for the data-key column', () => {
    const names = tableGuards(customers, 'postgres').guards.map((g) => [g.kind, g.column, g.name]);
    expect(names).toEqual([
      ['value', 'email', 'fieldseal_guard_customers_email'],
      ['value', 'photo', 'fieldseal_guard_customers_photo'],
      ['data-key', 'data_key', 'fieldseal_guard_customers_data_key'],
      ['blind-index', 'email_hash', 'fieldseal_guard_customers_email_hash'],
    ]);
  });

  it('longer than 63 bytes are cut and end in a hash of the full name, predictably and without collisions', () => {
    const long = 'a_table_with_a_really_quite_long_name_for_testing';
    const a = guardName(long, 'first_encrypted_column');
    const b = guardName(long, 'second_encrypted_column');
    expect(Buffer.byteLength(a)).toBeLessThanOrEqual(GUARD_NAME_LIMIT);
    expect(a).toMatch(/^fieldseal_guard_a_table_with_.*_[0-9a-f]{8}$/);
    expect(a).not.toBe(b);
    expect(guardName(long, 'first_encrypted_column')).toBe(a);
    // Multi-byte characters are never split.
    const accented = guardName('tablé'.repeat(20), 'çolumn');
    expect(Buffer.byteLength(accented)).toBeLessThanOrEqual(GUARD_NAME_LIMIT);
    expect(accented).not.toContain('\uFFFD');
  });

  it('stay distinct when an encrypted column is itself called data_key', () => {
    const odd: StoredTable = {
      ...customers,
      dataKeyColumn: 'dk',
      columns: [{ field: 'x', column: 'data_key', output: 'text' }],
    };
    const names = tableGuards(odd, 'sqlite').guards.map((g) => g.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it('are the same in every dialect, so one map recognises them all', () => {
    const pg = tableGuards(customers, 'postgres').guards.map((g) => g.name);
    expect(tableGuards(customers, 'mysql').guards.map((g) => g.name)).toEqual(pg);
    expect(tableGuards(customers, 'sqlite').guards.map((g) => g.name)).toEqual(pg);
    expect([...guardPlaces([customers]).keys()]).toEqual(pg);
  });
});

describe('guard statements', () => {
  it('PostgreSQL adds each guard NOT VALID, then validates it', () => {
    const sql = guardInstallSql(tableGuards({ ...customers, schema: 'app' }, 'postgres'));
    expect(sql.add[0]).toMatch(
      /^ALTER TABLE "app"\."customers" ADD CONSTRAINT "fieldseal_guard_customers_email" CHECK \(.*\) NOT VALID$/,
    );
    expect(sql.validate).toEqual(
      tableGuards(customers, 'postgres').guards.map(
        (g) => `ALTER TABLE "app"."customers" VALIDATE CONSTRAINT "${g.name}"`,
      ),
    );
  });

  it('MariaDB adds all guards in one ALTER (all or none), case-sensitively', () => {
    const sql = guardInstallSql(tableGuards(customers, 'mysql'));
    expect(sql.add).toHaveLength(1);
    expect(sql.add[0]?.match(/ADD CONSTRAINT/g)).toHaveLength(4);
    expect(sql.add[0]).toContain('BINARY `email` REGEXP');
    expect(guardRemoveSql(tableGuards(customers, 'mysql'))).toHaveLength(1);
  });

  it('SQLite cannot add a CHECK in place: the rebuild is required', () => {
    expect(() => guardInstallSql(tableGuards(customers, 'sqlite'))).toThrow(/sqliteRebuild/);
  });

  it('SQLite rebuild adds the clauses, keeps table options, and removes exactly its own clauses', () => {
    const tg = tableGuards(customers, 'sqlite');
    const definition =
      'CREATE TABLE "customers" (id INTEGER PRIMARY KEY, email TEXT CHECK (email <> \')\'), photo BLOB, email_hash TEXT, data_key TEXT, CONSTRAINT own CHECK (id > 0)) STRICT';
    const schema = {
      definition,
      columns: ['id', 'email', 'photo', 'email_hash', 'data_key'],
      dependents: [],
    };
    const install = sqliteRebuild(tg, schema, { add: tg.guards });
    const created = install.steps[0] as string;
    expect(created).toMatch(
      /^CREATE TABLE "fieldseal_rebuild_customers" \(id INTEGER PRIMARY KEY, email TEXT CHECK \(email <> '\)'\).*CONSTRAINT own CHECK \(id > 0\), CONSTRAINT "fieldseal_guard_customers_email" CHECK/,
    );
    expect(created.endsWith(') STRICT')).toBe(true);
    expect(sqliteGuardNames(created)).toEqual(tg.guards.map((g) => g.name));
    const installed = created.replace('"fieldseal_rebuild_customers"', '"customers"');
    const removed = sqliteRebuild(tg, { ...schema, definition: installed }, { remove: 'all' })
      .steps[0] as string;
    expect(removed.replace('"fieldseal_rebuild_customers"', '"customers"')).toBe(definition);
    const one = sqliteRebuild(
      tg,
      { ...schema, definition: installed },
      { remove: ['fieldseal_guard_customers_photo'] },
    );
    expect(sqliteGuardNames(one.steps[0] as string)).toEqual(
      tg.guards.map((g) => g.name).filter((n) => n !== 'fieldseal_guard_customers_photo'),
    );
  });
});

describe('guardViolationOf', () => {
  const places = guardPlaces([customers]);

  it('recognises pg, SQLite and MariaDB check violations by constraint name, naming table and column', () => {
    const pg = Object.assign(
      new Error(
        'new row for relation "customers" violates check constraint "fieldseal_guard_customers_email"',
      ),
      {
        code: '23514',
        constraint: 'fieldseal_guard_customers_email',
      },
    );
    const sqlite = Object.assign(new Error('CHECK constraint failed: fieldseal_guard_customers_data_key'), {
      code: 'SQLITE_CONSTRAINT_CHECK',
    });
    const maria = Object.assign(
      new Error(
        '(conn:5, no: 4025, SQLState: 23000) CONSTRAINT `fieldseal_guard_customers_email_hash` failed for `db`.`customers`',
      ),
      { errno: 4025 },
    );
    expect(guardViolationOf(pg, places)).toMatchObject({
      code: 'guard-violation',
      table: 'customers',
      column: 'email',
      kind: 'value',
    });
    expect(guardViolationOf(sqlite, places)).toMatchObject({ column: 'data_key', kind: 'data-key' });
    expect(guardViolationOf(maria, places)).toMatchObject({ column: 'email_hash', kind: 'blind-index' });
  });

  it('finds the driver error inside a wrapper (Prisma: cause or meta), and keeps nothing of it (pg details hold the row)', () => {
    const driver = Object.assign(
      new Error(
        'new row for relation "customers" violates check constraint "fieldseal_guard_customers_email"',
      ),
      {
        code: '23514',
        constraint: 'fieldseal_guard_customers_email',
        detail: 'Failing row contains (7, plain@example.com, null)',
      },
    );
    const wrapped = Object.assign(new Error('Invalid `prisma.customer.create()` invocation'), {
      meta: { driverAdapterError: { cause: driver } },
    });
    const error = guardViolationOf(wrapped, places);
    expect(error).toBeInstanceOf(GuardViolationError);
    expect(isGuardViolationError(error)).toBe(true);
    expect(error?.cause).toBeUndefined();
    expect(JSON.stringify(error, Object.getOwnPropertyNames(error))).not.toContain('plain@example.com');
    expect(error?.message).toContain('table "customers", column "email"');
  });

  it('ignores other constraint violations and other errors', () => {
    expect(guardViolationOf(new Error('CHECK constraint failed: own_check'), places)).toBeUndefined();
    expect(
      guardViolationOf(
        Object.assign(new Error('x'), { code: '23505', constraint: 'fieldseal_guard_customers_email' }),
        places,
      ),
    ).toBeUndefined();
    expect(guardViolationOf('fieldseal_guard_customers_email', places)).toBeUndefined();
  });

  it('names table and column of a guard on a known table that the configuration lacks (an older app release)', () => {
    const error = guardViolationOf(
      new Error('CHECK constraint failed: fieldseal_guard_customers_ssn'),
      places,
    );
    expect(error).toMatchObject({ table: 'customers', column: 'ssn', kind: 'value' });
  });

  it('still types an unknown guard name, without table or column', () => {
    const error = guardViolationOf(new Error('CHECK constraint failed: fieldseal_guard_other_x'), places);
    expect(error).toMatchObject({
      constraint: 'fieldseal_guard_other_x',
      table: undefined,
      column: undefined,
    });
  });
});
