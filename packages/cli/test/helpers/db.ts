import { createHash, randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Keyring } from '@fieldseal/core';
import { sqlExecutor, storedTables } from '@fieldseal/prisma';
import { testDialects } from '@fieldseal/test-databases/dialects';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaMariaDb } from '@prisma/adapter-mariadb';
import { PrismaPg } from '@prisma/adapter-pg';
import Database from 'better-sqlite3';
import * as mariadb from 'mariadb';
import pg from 'pg';
import type { FieldsealConfig } from '../../src/index.js';
import { PrismaClient as MysqlClient } from '../generated/mysql/client/client.js';
import { PrismaClient as PgClient } from '../generated/postgresql/client/client.js';
import { PrismaClient as SqliteClient } from '../generated/sqlite/client/client.js';
import { fieldEncryptionMetadata } from '../generated/sqlite/fieldseal/metadata.js';

export type Dialect = 'sqlite' | 'postgres' | 'mysql';
/** The dialects every CLI test runs on. */
export const DIALECTS: readonly Dialect[] = testDialects(['sqlite', 'postgres'], ['sqlite']);
/** The dialects of the crash and multi-process tests (where each dialect's locking differs). */
export const JOB_DIALECTS: readonly Dialect[] = testDialects(['sqlite', 'postgres', 'mysql'], ['sqlite']);
export const PG_URL = process.env.FIELDSEAL_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
export const MYSQL_URL = process.env.FIELDSEAL_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';

/** Connection options of the MariaDB/MySQL server in `url` (the database is set per test). */
export function mysqlConfig(url = MYSQL_URL): { host: string; port: number; user: string; password: string } {
  const parsed = new URL(url);
  return {
    host: parsed.hostname,
    port: Number(parsed.port || 3306),
    user: decodeURIComponent(parsed.username || 'root'),
    password: decodeURIComponent(parsed.password),
  };
}
export const metadata = fieldEncryptionMetadata;

/** The generated clients of both dialects have the same models; tests use SQLite's type. */
export type Client = SqliteClient;

const DDL: Record<Dialect, string[]> = {
  sqlite: [
    'CREATE TABLE customers (id INTEGER PRIMARY KEY AUTOINCREMENT, email TEXT NOT NULL, email_hash TEXT UNIQUE, ssn TEXT, note TEXT, data_key TEXT)',
    'CREATE TABLE "Document" (id TEXT PRIMARY KEY, title TEXT, body BLOB, "dataKey" TEXT)',
    'CREATE TABLE bench_rows (id INTEGER PRIMARY KEY, a TEXT NOT NULL, b TEXT NOT NULL, "dataKey" TEXT)',
  ],
  mysql: [
    'CREATE TABLE customers (id INT AUTO_INCREMENT PRIMARY KEY, email TEXT NOT NULL, email_hash VARCHAR(64) UNIQUE, ssn TEXT, note TEXT, data_key TEXT)',
    'CREATE TABLE Document (id VARCHAR(191) PRIMARY KEY, title TEXT, body LONGBLOB, dataKey TEXT)',
    'CREATE TABLE bench_rows (id INT PRIMARY KEY, a TEXT NOT NULL, b TEXT NOT NULL, dataKey TEXT)',
  ],
  postgres: [
    'CREATE TABLE customers (id SERIAL PRIMARY KEY, email TEXT NOT NULL, email_hash TEXT UNIQUE, ssn TEXT, note TEXT, data_key TEXT)',
    'CREATE TABLE "Document" (id TEXT PRIMARY KEY, title TEXT, body BYTEA, "dataKey" TEXT)',
    'CREATE TABLE bench_rows (id INTEGER PRIMARY KEY, a TEXT NOT NULL, b TEXT NOT NULL, "dataKey" TEXT)',
  ],
};

/** A throwaway database: a SQLite file or a PostgreSQL schema, with the test tables. */
export interface TestDb {
  readonly dialect: Dialect;
  readonly name: string;
  /** A base client (no extension) on the database; closed by `drop`. */
  readonly client: Client;
  /** Environment for a `fieldseal` subprocess using test/fixtures/fieldseal.config.ts. */
  readonly env: Record<string, string>;
  /** Runs SQL with the dialect's driver (not Prisma), returning rows. */
  sql(text: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  /** A table name for raw SQL. */
  t(table: string): string;
  /** The CLI config for this database with `keyring`. */
  config(keyring: Keyring, extra?: Partial<FieldsealConfig>): FieldsealConfig;
  drop(): Promise<void>;
}

export async function openDb(dialect: Dialect): Promise<TestDb> {
  const name = `fs_cli_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  let client: Client;
  let sql: TestDb['sql'];
  let cleanup: () => Promise<void>;
  let env: Record<string, string>;
  if (dialect === 'sqlite') {
    const file = join(tmpdir(), `${name}.db`);
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    for (const statement of DDL.sqlite) db.exec(statement);
    client = new SqliteClient({ adapter: new PrismaBetterSqlite3({ url: `file:${file}` }) });
    sql = async (text, params = []) => {
      const statement = db.prepare(text);
      if (statement.reader) return statement.all(...params) as Record<string, unknown>[];
      statement.run(...params);
      return [];
    };
    env = { FS_TEST_DIALECT: 'sqlite', FS_TEST_SQLITE_FILE: file };
    cleanup = async () => {
      db.close();
      for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${file}${suffix}`, { force: true });
    };
  } else if (dialect === 'mysql') {
    const config = mysqlConfig();
    const admin = await mariadb.createConnection(config);
    try {
      await admin.query(`CREATE DATABASE \`${name}\``);
    } finally {
      await admin.end();
    }
    const pool = mariadb.createPool({ ...config, database: name, connectionLimit: 2 });
    for (const statement of DDL.mysql) await pool.query(statement);
    client = new MysqlClient({
      adapter: new PrismaMariaDb({ ...config, database: name, connectionLimit: 5 }),
    }) as unknown as Client;
    sql = async (text, params = []) => {
      const result = await pool.query(text, params);
      return Array.isArray(result) ? [...(result as Record<string, unknown>[])] : [];
    };
    env = { FS_TEST_DIALECT: 'mysql', FS_TEST_MYSQL_DB: name, FIELDSEAL_MYSQL_URL: MYSQL_URL };
    cleanup = async () => {
      await pool.query(`DROP DATABASE \`${name}\``);
      await pool.end();
    };
  } else {
    const pool = new pg.Pool({ connectionString: PG_URL, max: 2 });
    await pool.query(`CREATE SCHEMA "${name}"`);
    for (const statement of DDL.postgres) await pool.query(`SET search_path TO "${name}"; ${statement}`);
    client = new PgClient({
      adapter: new PrismaPg({ connectionString: PG_URL }, { schema: name }),
    }) as unknown as Client;
    sql = async (text, params = []) => {
      const connection = await pool.connect();
      try {
        await connection.query(`SET search_path TO "${name}"`);
        return (await connection.query(text, params)).rows;
      } finally {
        connection.release();
      }
    };
    env = { FS_TEST_DIALECT: 'postgres', FS_TEST_PG_SCHEMA: name, FIELDSEAL_PG_URL: PG_URL };
    cleanup = async () => {
      await pool.query(`DROP SCHEMA "${name}" CASCADE`);
      await pool.end();
    };
  }
  return {
    dialect,
    name,
    client,
    env,
    sql,
    t: (table) =>
      dialect === 'postgres' ? `"${name}"."${table}"` : dialect === 'mysql' ? `\`${table}\`` : `"${table}"`,
    config: (keyring, extra = {}) => ({
      executor: sqlExecutor(client, { dialect }),
      tables: storedTables(metadata, dialect === 'postgres' ? { schema: name } : {}),
      keyring,
      ...extra,
    }),
    drop: async () => {
      await client.$disconnect();
      await cleanup();
    },
  };
}

/** The plaintext of customer `i` (deterministic, so tests can recompute what was inserted). */
export function customer(i: number): { email: string; ssn: string | null; note: string } {
  return { email: `user${i}@example.com`, ssn: i % 3 === 0 ? null : `ssn-${i}`, note: `n${i}` };
}

/** Inserts `count` plaintext customers (ids 1..count) straight through the driver. */
export async function insertCustomers(db: TestDb, count: number, from = 1): Promise<void> {
  if (db.dialect === 'postgres') {
    await db.sql(
      `INSERT INTO customers (id, email, ssn, note) SELECT i, 'user' || i || '@example.com', CASE WHEN i % 3 = 0 THEN NULL ELSE 'ssn-' || i END, 'n' || i FROM generate_series($1::int, $2::int) AS i`,
      [from, from + count - 1],
    );
    await db.sql(`SELECT setval(pg_get_serial_sequence('customers', 'id'), (SELECT MAX(id) FROM customers))`);
    return;
  }
  if (db.dialect === 'mysql') {
    // Multi-row INSERTs: MariaDB caps recursive CTEs far below the row counts used here.
    for (let start = from; start < from + count; start += 1_000) {
      const ids = Array.from({ length: Math.min(1_000, from + count - start) }, (_, k) => start + k);
      await db.sql(
        `INSERT INTO customers (id, email, ssn, note) VALUES ${ids.map(() => '(?, ?, ?, ?)').join(', ')}`,
        ids.flatMap((i) => {
          const c = customer(i);
          return [i, c.email, c.ssn, c.note];
        }),
      );
    }
    return;
  }
  await db.sql(
    `WITH RECURSIVE s(i) AS (SELECT CAST(? AS INTEGER) UNION ALL SELECT i + 1 FROM s WHERE i < CAST(? AS INTEGER)) INSERT INTO customers (id, email, ssn, note) SELECT i, 'user' || i || '@example.com', CASE WHEN i % 3 = 0 THEN NULL ELSE 'ssn-' || i END, 'n' || i FROM s`,
    [from, from + count - 1],
  );
}

/** SHA-256 of the expected plaintext of customers 1..count, in id order. */
export function expectedChecksum(
  count: number,
  override: Map<number, { email: string; ssn: string | null }> = new Map(),
): string {
  const hash = createHash('sha256');
  for (let i = 1; i <= count; i++) {
    const row = override.get(i) ?? customer(i);
    hash.update(`${i}|${row.email}|${row.ssn ?? '\u0000'}\n`);
  }
  return hash.digest('hex');
}

/** SHA-256 of the customers as read back through the Prisma extension (strict mode), in id order. */
export async function readChecksum(
  client: {
    customer: { findMany(args: object): Promise<{ id: number; email: string; ssn: string | null }[]> };
  },
  pageSize = 5_000,
): Promise<{ checksum: string; rows: number }> {
  const hash = createHash('sha256');
  let rows = 0;
  let cursor = 0;
  for (;;) {
    const page = await client.customer.findMany({
      where: { id: { gt: cursor } },
      orderBy: { id: 'asc' },
      take: pageSize,
      select: { id: true, email: true, ssn: true },
    });
    if (page.length === 0) break;
    for (const row of page) hash.update(`${row.id}|${row.email}|${row.ssn ?? '\u0000'}\n`);
    rows += page.length;
    cursor = (page.at(-1) as { id: number }).id;
  }
  return { checksum: hash.digest('hex'), rows };
}
