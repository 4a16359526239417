import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { SqliteFile } from '../targets/sqlite-file.js';
import type { Dialect } from './single-row-case.js';

/** PostgreSQL server the single-row benchmark uses; a throwaway database is made on it per run. */
export const DEFAULT_PG_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** A database every case of one dialect shares (tables are distinct per case). */
export interface BenchDatabase {
  readonly dialect: Dialect;
  /** PostgreSQL: the connection URL; SQLite: the file path. */
  readonly location: string;
  /** Runs DDL (several statements allowed). */
  exec(sql: string): Promise<void>;
  drop(): Promise<void>;
}

/** Creates a uniquely named PostgreSQL database on the server at `url` (dropped by `drop()`). */
export async function postgresDatabase(url: string): Promise<BenchDatabase> {
  const name = `fieldseal_single_row_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const target = new URL(url);
  target.pathname = `/${name}`;
  const location = target.toString();
  return {
    dialect: 'postgres',
    location,
    exec: async (sql) => {
      const client = new pg.Client({ connectionString: location });
      await client.connect();
      try {
        await client.query(sql);
      } finally {
        await client.end();
      }
    },
    drop: async () => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** A SQLite file in WAL mode in the temp directory (removed by `drop()`). */
export function sqliteDatabase(): BenchDatabase {
  const file = new SqliteFile();
  return {
    dialect: 'sqlite',
    location: file.path,
    exec: async (sql) => file.exec(sql),
    drop: async () => file.remove(),
  };
}
