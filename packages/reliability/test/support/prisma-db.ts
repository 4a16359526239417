import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Keyring, ReadMode } from '@fieldseal/core';
import { fieldEncryption } from '@fieldseal/prisma';
import { testDialects } from '@fieldseal/test-databases/dialects';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import Database from 'better-sqlite3';
import pg from 'pg';
import { PrismaClient as PgClient } from '../generated/postgresql/client/client.js';
import { PrismaClient as SqliteClient } from '../generated/sqlite/client/client.js';
import { fieldEncryptionMetadata } from '../generated/sqlite/fieldseal/metadata.js';
import { PG_URL } from './typeorm-db.js';

export type PrismaDialect = 'sqlite' | 'postgresql';
export const PRISMA_DIALECTS: readonly PrismaDialect[] = testDialects(['sqlite', 'postgresql'], ['sqlite']);
export const metadata = fieldEncryptionMetadata;

// Hand-written DDL for fixtures/models.prisma (no schema engine offline).
const DDL: Record<PrismaDialect, string> = {
  sqlite:
    'CREATE TABLE "Member" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "email" TEXT NOT NULL, "emailIndex" TEXT UNIQUE, "ssn" TEXT, "photo" BLOB, "team" TEXT, "version" INTEGER NOT NULL DEFAULT 0, "dataKey" TEXT)',
  postgresql:
    'CREATE TABLE "Member" ("id" SERIAL PRIMARY KEY, "email" TEXT NOT NULL, "emailIndex" TEXT UNIQUE, "ssn" TEXT, "photo" BYTEA, "team" TEXT, "version" INTEGER NOT NULL DEFAULT 0, "dataKey" TEXT)',
};

/** The generated clients of both dialects have the same models and types; tests use SQLite's. */
export type BaseClient = SqliteClient;

/** A throwaway database (SQLite file or PostgreSQL schema) with the Member table. */
export interface PrismaDb {
  readonly dialect: PrismaDialect;
  /** A new, unextended client on this database (each with its own connection pool). */
  client(): BaseClient;
  /** Raw rows of Member, ordered by id, as stored. */
  rows(): Promise<Record<string, unknown>[]>;
  /** Raw SQL on the stored rows. */
  execute(sql: string, ...params: unknown[]): Promise<void>;
  /** The Member table for raw SQL. */
  readonly table: string;
  drop(): Promise<void>;
}

export async function openPrismaDb(dialect: PrismaDialect): Promise<PrismaDb> {
  const name = `fs_rel_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const clients: BaseClient[] = [];
  let make: () => BaseClient;
  let cleanup: () => Promise<void>;
  let table: string;
  if (dialect === 'sqlite') {
    const file = join(tmpdir(), `${name}.db`);
    const db = new Database(file);
    db.exec(DDL.sqlite);
    db.close();
    make = () => new SqliteClient({ adapter: new PrismaBetterSqlite3({ url: `file:${file}` }) });
    cleanup = async () => rmSync(file, { force: true });
    table = '"Member"';
  } else {
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    try {
      await admin.query(`CREATE SCHEMA "${name}"`);
      await admin.query(`SET search_path TO "${name}"`);
      await admin.query(DDL.postgresql);
    } finally {
      await admin.end();
    }
    make = () =>
      new PgClient({
        adapter: new PrismaPg({ connectionString: PG_URL }, { schema: name }),
      }) as unknown as BaseClient;
    cleanup = async () => {
      const drop = new pg.Client({ connectionString: PG_URL });
      await drop.connect();
      await drop.query(`DROP SCHEMA "${name}" CASCADE`);
      await drop.end();
    };
    table = `"${name}"."Member"`;
  }
  const client = () => {
    const created = make();
    clients.push(created);
    return created;
  };
  const raw = client();
  return {
    dialect,
    client,
    table,
    rows: async () =>
      (await raw.$queryRawUnsafe<Record<string, unknown>[]>(`SELECT * FROM ${table} ORDER BY "id"`)).map(
        (row) =>
          Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v])),
      ),
    execute: async (sql, ...params) => {
      await raw.$executeRawUnsafe(sql, ...params);
    },
    drop: async () => {
      await Promise.all(clients.map((each) => each.$disconnect()));
      await cleanup();
    },
  };
}

/** A client with the fieldseal extension. */
export function encryptedClient(
  base: BaseClient,
  keyring: Keyring,
  blindIndexKey: string,
  options: { readMode?: ReadMode } = {},
) {
  return base.$extends(fieldEncryption({ keyring, metadata, blindIndexKey, ...options }));
}

export type EncryptedClient = ReturnType<typeof encryptedClient>;
