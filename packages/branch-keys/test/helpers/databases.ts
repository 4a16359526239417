/**
 * Real databases for the key-store tests: a SQLite file, a PostgreSQL schema, a MariaDB database,
 * each unique per test and dropped after it, behind core's `SqlExecutor` (driver-based, no ORM).
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SqlDialect, SqlExecutor } from '@fieldseal/core';
import { testDialects } from '@fieldseal/test-databases/dialects';
import Database from 'better-sqlite3';
import * as mariadb from 'mariadb';
import pg from 'pg';

/** Every dialect; SQLite only under FIELDSEAL_SKIP_DB=1 (counted and reported by the global setup). */
export const DIALECTS: readonly SqlDialect[] = testDialects(['sqlite', 'postgres', 'mysql'], ['sqlite']);
const PG_URL = process.env.FIELDSEAL_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
const MYSQL_URL = process.env.FIELDSEAL_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';

export interface TestDb {
  readonly dialect: SqlDialect;
  /** Where another process can reach the same database (for child writers). */
  readonly location: { readonly dialect: SqlDialect; readonly target: string };
  readonly executor: SqlExecutor;
  /** Raw SQL through a separate connection, as an attacker (or an operator) would run it. */
  raw(sql: string, params?: readonly unknown[]): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

/** Opens a fresh throwaway database of `dialect`. */
export async function openDb(dialect: SqlDialect): Promise<TestDb> {
  const name = `fs_bk_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  if (dialect === 'sqlite') {
    const file = join(tmpdir(), `${name}.db`);
    const executor = sqliteExecutor(file);
    const raw = new Database(file);
    return {
      dialect,
      location: { dialect, target: file },
      executor,
      raw: async (sql, params = []) => {
        const statement = raw.prepare(sql);
        if (statement.reader) return statement.all(...params) as Record<string, unknown>[];
        statement.run(...params);
        return [];
      },
      close: async () => {
        raw.close();
        await (executor as SqlExecutor & { close(): Promise<void> }).close();
        for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
      },
    };
  }
  if (dialect === 'postgres') {
    const admin = new pg.Pool({ connectionString: PG_URL, max: 1 });
    await admin.query(`CREATE SCHEMA "${name}"`);
    const executor = postgresExecutor(PG_URL, name);
    return {
      dialect,
      location: { dialect, target: name },
      executor,
      raw: async (sql, params = []) => {
        const client = await admin.connect();
        try {
          await client.query(`SET search_path TO "${name}"`);
          return (await client.query(sql, params as unknown[])).rows;
        } finally {
          client.release();
        }
      },
      close: async () => {
        await (executor as SqlExecutor & { close(): Promise<void> }).close();
        await admin.query(`DROP SCHEMA "${name}" CASCADE`);
        await admin.end();
      },
    };
  }
  const admin = await mariadb.createConnection(mysqlConfig());
  await admin.query(`CREATE DATABASE \`${name}\``);
  await admin.query(`USE \`${name}\``);
  const executor = mysqlExecutor(name);
  return {
    dialect,
    location: { dialect, target: name },
    executor,
    raw: async (sql, params = []) => {
      const result = await admin.query(sql, params);
      return Array.isArray(result) ? [...(result as Record<string, unknown>[])] : [];
    },
    close: async () => {
      await (executor as SqlExecutor & { close(): Promise<void> }).close();
      await admin.query(`DROP DATABASE \`${name}\``);
      await admin.end();
    },
  };
}

function mysqlConfig() {
  const url = new URL(MYSQL_URL);
  return {
    host: url.hostname,
    port: Number(url.port || 3306),
    user: decodeURIComponent(url.username || 'root'),
    password: decodeURIComponent(url.password),
  };
}

/** An `SqlExecutor` over a database `location` (also used by child processes). */
export function executorFor(location: TestDb['location']): SqlExecutor & { close(): Promise<void> } {
  if (location.dialect === 'sqlite') return sqliteExecutor(location.target);
  if (location.dialect === 'postgres') return postgresExecutor(PG_URL, location.target);
  return mysqlExecutor(location.target);
}

function sqliteExecutor(file: string): SqlExecutor & { close(): Promise<void> } {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 10000');
  const run = (sql: string, params: readonly unknown[]) => db.prepare(sql).run(...params).changes;
  let queue: Promise<unknown> = Promise.resolve();
  const executor: SqlExecutor & { close(): Promise<void> } = {
    dialect: 'sqlite',
    query: async <T>(sql: string, params: readonly unknown[] = []) => db.prepare(sql).all(...params) as T[],
    execute: async (sql, params = []) => run(sql, params),
    // One connection: transactions of concurrent async callers take turns (BEGIN IMMEDIATE
    // serialises writers across processes).
    transaction: async (fn) => {
      const turn = queue.then(async () => {
        db.exec('BEGIN IMMEDIATE');
        try {
          const out = await fn(executor);
          db.exec('COMMIT');
          return out;
        } catch (error) {
          db.exec('ROLLBACK');
          throw error;
        }
      });
      queue = turn.then(
        () => undefined,
        () => undefined,
      );
      return turn;
    },
    close: async () => {
      db.close();
    },
  };
  return executor;
}

function postgresExecutor(url: string, schema: string): SqlExecutor & { close(): Promise<void> } {
  const pool = new pg.Pool({ connectionString: url, max: 4, options: `-c search_path="${schema}"` });
  const over = (client: pg.Pool | pg.PoolClient, inTx: boolean): SqlExecutor => ({
    dialect: 'postgres',
    query: async <T>(sql: string, params: readonly unknown[] = []) =>
      (await client.query(sql, params as unknown[])).rows as T[],
    execute: async (sql, params = []) => (await client.query(sql, params as unknown[])).rowCount ?? 0,
    transaction: async (fn) => {
      if (inTx) return fn(over(client, true));
      const connection = await pool.connect();
      try {
        await connection.query('BEGIN');
        const out = await fn(over(connection, true));
        await connection.query('COMMIT');
        return out;
      } catch (error) {
        await connection.query('ROLLBACK');
        throw error;
      } finally {
        connection.release();
      }
    },
  });
  return { ...over(pool, false), close: () => pool.end() };
}

function mysqlExecutor(database: string): SqlExecutor & { close(): Promise<void> } {
  const pool = mariadb.createPool({ ...mysqlConfig(), database, connectionLimit: 4 });
  type Conn = mariadb.Pool | mariadb.PoolConnection;
  const over = (client: Conn, inTx: boolean): SqlExecutor => ({
    dialect: 'mysql',
    query: async <T>(sql: string, params: readonly unknown[] = []) => [
      ...((await client.query(sql, params)) as T[]),
    ],
    execute: async (sql, params = []) => Number((await client.query(sql, params)).affectedRows ?? 0),
    transaction: async (fn) => {
      if (inTx) return fn(over(client, true));
      const connection = await pool.getConnection();
      try {
        await connection.beginTransaction();
        const out = await fn(over(connection, true));
        await connection.commit();
        return out;
      } catch (error) {
        await connection.rollback();
        throw error;
      } finally {
        connection.release();
      }
    },
  });
  return { ...over(pool, false), close: () => pool.end() };
}
