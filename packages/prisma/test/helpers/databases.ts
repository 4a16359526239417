import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testDialects } from '@fieldseal/test-databases/dialects';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaMariaDb } from '@prisma/adapter-mariadb';
import { PrismaPg } from '@prisma/adapter-pg';
import Database from 'better-sqlite3';
import * as mariadb from 'mariadb';
import pg from 'pg';
import { PrismaClient as MysqlClient } from '../generated/mysql/client/client.js';
import { PrismaClient as PgClient } from '../generated/postgresql/client/client.js';
import { PrismaClient as SqliteClient } from '../generated/sqlite/client/client.js';
import { createTables, type DialectName, quote } from './ddl.js';

export type { DialectName } from './ddl.js';

/** The generated clients of the three dialects have the same models and types; tests use SQLite's. */
export type BaseClient = SqliteClient;

/** A throwaway database (SQLite file, PostgreSQL schema or MariaDB database) with the test tables. */
export interface TestDatabase {
  readonly dialect: DialectName;
  /** A client without the extension, for raw SQL checks. */
  readonly raw: BaseClient;
  /** A new client on this database (each test file extends its own). */
  client(options?: ClientOptions): BaseClient;
  /** Raw rows of a table, as stored (ciphertext). */
  rows(table: string): Promise<Record<string, unknown>[]>;
  /** Runs raw SQL (UPDATE/DELETE) on the stored rows. */
  execute(sql: string): Promise<void>;
  /** Quotes an identifier for this dialect. */
  q(name: string): string;
  /** A table's name for raw SQL (schema-qualified on PostgreSQL, where raw SQL ignores the adapter's schema). */
  t(name: string): string;
  drop(): Promise<void>;
}

/** Options of a test client: the client's `omit`, and Prisma's `log` (to count statements). */
export interface ClientOptions {
  omit?: Record<string, Record<string, boolean>>;
  log?: { emit: 'event'; level: 'query' }[];
}

export const DIALECTS: readonly DialectName[] = testDialects(['sqlite', 'postgresql', 'mysql'], ['sqlite']);

const PG_URL = process.env.FIELDSEAL_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
const MYSQL_URL = process.env.FIELDSEAL_MYSQL_URL ?? 'mariadb://root@127.0.0.1:3306/test';

/** Creates a uniquely named database for one test file; other packages' tests share the servers. */
export async function openDatabase(dialect: DialectName): Promise<TestDatabase> {
  const name = `fs_prisma_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const clients: BaseClient[] = [];
  let make: (options?: ClientOptions) => BaseClient;
  let cleanup: () => Promise<void>;
  if (dialect === 'sqlite') {
    const file = join(tmpdir(), `${name}.db`);
    const db = new Database(file);
    for (const sql of createTables('sqlite')) db.exec(sql);
    db.close();
    make = (options) =>
      new SqliteClient({
        adapter: new PrismaBetterSqlite3({ url: `file:${file}` }),
        ...options,
      });
    cleanup = async () => rmSync(file, { force: true });
  } else if (dialect === 'postgresql') {
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    try {
      await admin.query(`CREATE SCHEMA "${name}"`);
      await admin.query(`SET search_path TO "${name}"`);
      for (const sql of createTables('postgresql')) await admin.query(sql);
    } finally {
      await admin.end();
    }
    make = (options) =>
      new PgClient({
        adapter: new PrismaPg({ connectionString: PG_URL }, { schema: name }),
        ...options,
      }) as unknown as BaseClient;
    cleanup = async () => {
      const drop = new pg.Client({ connectionString: PG_URL });
      await drop.connect();
      await drop.query(`DROP SCHEMA "${name}" CASCADE`);
      await drop.end();
    };
  } else {
    const config = mysqlConfig();
    const admin = await mariadb.createConnection({
      ...withoutDatabase(config),
      multipleStatements: true,
    });
    try {
      await admin.query(`CREATE DATABASE \`${name}\``);
      await admin.query(`USE \`${name}\``);
      for (const sql of createTables('mysql')) await admin.query(sql);
    } finally {
      await admin.end();
    }
    make = (options) =>
      new MysqlClient({
        adapter: new PrismaMariaDb({ ...config, database: name, connectionLimit: 5 }),
        ...options,
      }) as unknown as BaseClient;
    cleanup = async () => {
      const drop = await mariadb.createConnection(withoutDatabase(config));
      await drop.query(`DROP DATABASE \`${name}\``);
      await drop.end();
    };
  }
  const client = (options?: ClientOptions) => {
    const created = make(options);
    clients.push(created);
    return created;
  };
  const raw = client();
  const q = (identifier: string) => quote(dialect, identifier);
  const t = (table: string) => (dialect === 'postgresql' ? `${q(name)}.${q(table)}` : q(table));
  return {
    dialect,
    raw,
    client,
    q,
    t,
    rows: async (table) =>
      normalizeRows(
        await raw.$queryRawUnsafe<Record<string, unknown>[]>(`SELECT * FROM ${t(table)} ORDER BY ${q('id')}`),
      ),
    execute: async (sql) => {
      await raw.$executeRawUnsafe(sql);
    },
    drop: async () => {
      await Promise.all(clients.map((each) => each.$disconnect()));
      await cleanup();
    },
  };
}

/** The connection settings without a default database (to create or drop one). */
function withoutDatabase<T extends { database?: string }>(config: T): Omit<T, 'database'> {
  const { database: _database, ...rest } = config;
  return rest;
}

function mysqlConfig(): { host: string; port: number; user: string; password: string; database?: string } {
  const url = new URL(MYSQL_URL);
  return {
    host: url.hostname,
    port: Number(url.port || 3306),
    user: decodeURIComponent(url.username || 'root'),
    password: decodeURIComponent(url.password),
    database: url.pathname.slice(1) || undefined,
  } as { host: string; port: number; user: string; password: string; database?: string };
}

// Raw queries return ids as bigint on some drivers; tests compare numbers.
function normalizeRows(rows: Record<string, unknown>[]): Record<string, unknown>[] {
  return rows.map((row) =>
    Object.fromEntries(
      Object.entries(row).map(([key, value]) => [key, typeof value === 'bigint' ? Number(value) : value]),
    ),
  );
}
