import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { type Keyring, type ReadMode, RowEnvelope } from '@fieldseal/core';
import { testDialects } from '@fieldseal/test-databases/dialects';
import { type FieldEncryption, fieldEncryption } from '@fieldseal/typeorm';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { ENCRYPTED, ENTITIES } from './entities.js';

/** The databases the TypeORM cases run on. */
export const DIALECTS = testDialects(['sqlite', 'postgres'] as const, ['sqlite']);
export type Dialect = (typeof DIALECTS)[number];

export const PG_URL = process.env.FIELDSEAL_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A throwaway database (SQLite in memory, or a PostgreSQL schema) with field encryption on. */
export interface TypeormDb {
  readonly dialect: Dialect;
  readonly dataSource: DataSource;
  readonly fe: FieldEncryption;
  readonly keyring: Keyring;
  /** Schema-qualified, quoted table name for raw SQL. */
  t(table: string): string;
  /** Quoted identifier. */
  q(name: string): string;
  /** Positional placeholder number `n` (1-based). */
  p(n: number): string;
  /** Every stored row of a table, ordered by id (raw SQL: ciphertext as stored). */
  rows(table: string): Promise<Record<string, unknown>[]>;
  drop(): Promise<void>;
}

export async function openTypeormDb(
  dialect: Dialect,
  keyring: Keyring,
  options: { readMode?: ReadMode; extra?: Partial<DataSourceOptions> } = {},
): Promise<TypeormDb> {
  const schema = `fs_rel_${process.pid}_${randomBytes(4).toString('hex')}`;
  let dropSchema = async () => {};
  let base: DataSourceOptions;
  if (dialect === 'sqlite') {
    base = { type: 'better-sqlite3', database: ':memory:', entities: ENTITIES, synchronize: true };
  } else {
    await pgAdmin(`CREATE SCHEMA "${schema}"`);
    base = { type: 'postgres', url: PG_URL, schema, entities: ENTITIES, synchronize: true };
    dropSchema = async () => {
      await pgAdmin(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    };
  }
  const dataSource = new DataSource({ ...base, ...options.extra } as DataSourceOptions);
  const fe = await fieldEncryption(dataSource, {
    keyring,
    ...(options.readMode ? { readMode: options.readMode } : {}),
  });
  const q = (name: string) => `"${name}"`;
  const t = (table: string) => (dialect === 'postgres' ? `"${schema}"."${table}"` : `"${table}"`);
  return {
    dialect,
    dataSource,
    fe,
    keyring,
    q,
    t,
    p: (n) => (dialect === 'postgres' ? `$${n}` : '?'),
    rows: (table) => dataSource.query(`SELECT * FROM ${t(table)} ORDER BY "id"`),
    drop: async () => {
      if (dataSource.isInitialized) await dataSource.destroy();
      await dropSchema();
    },
  };
}

/** Runs one statement on the PostgreSQL server with a short-lived connection. */
export async function pgAdmin(sql: string, params: unknown[] = []): Promise<unknown[]> {
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** What a raw check of one table found. */
export interface RowAudit {
  /** Rows read. */
  readonly rows: number;
  /** Ids of rows holding a value that is not ciphertext, or whose values do not all open with the row's own data key. */
  readonly broken: unknown[];
  /** Decrypted values by row id (column → plaintext). */
  readonly plaintext: Map<unknown, Record<string, unknown>>;
}

/**
 * The per-row invariant, checked from raw SQL without the adapter: every non-null encrypted value
 * is fieldseal ciphertext and opens, in strict mode, with the data key stored in its own row.
 */
export async function auditRows(
  db: TypeormDb,
  table: string,
  keyring: Keyring = db.keyring,
): Promise<RowAudit> {
  const envelope = new RowEnvelope({ keyring, readMode: 'strict' });
  const columns = ENCRYPTED[table] ?? [];
  const broken: unknown[] = [];
  const plaintext = new Map<unknown, Record<string, unknown>>();
  const rows = await db.rows(table);
  for (const row of rows) {
    const values = Object.fromEntries(columns.map((c) => [c, row[c]]));
    try {
      plaintext.set(row.id, await envelope.decryptRow({ table, values, dataKey: row.dataKey }));
    } catch {
      broken.push(row.id);
    }
  }
  return { rows: rows.length, broken, plaintext };
}
