import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { testDialects } from '@fieldseal/test-databases/dialects';
import { DataSource, type DataSourceOptions, type MixedList } from 'typeorm';

/** Every dialect the integration suites loop over. A server that is down fails its suite loudly. */
export const DIALECTS = testDialects(['sqlite', 'postgres', 'mariadb'] as const, ['sqlite']);
export type Dialect = (typeof DIALECTS)[number];

const PG_URL = process.env.FIELDSEAL_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const MYSQL_URL = process.env.FIELDSEAL_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';

/** A data source on its own throwaway schema (PostgreSQL), database (MariaDB) or memory (SQLite). */
export interface TestDatabase {
  readonly dialect: Dialect;
  readonly dataSource: DataSource;
  /** Quotes an identifier for raw SQL. */
  readonly q: (name: string) => string;
  /** A table name for raw SQL, schema-qualified where needed. */
  readonly t: (name: string) => string;
  /** Drops the schema or database and closes everything. */
  readonly drop: () => Promise<void>;
}

// biome-ignore lint/complexity/noBannedTypes: TypeORM's own entity list type
type Entities = MixedList<Function | string>;

/** Creates the throwaway namespace and an uninitialized data source on it (synchronize on). */
export async function createDatabase(
  dialect: Dialect,
  entities: Entities,
  extra: Partial<DataSourceOptions> = {},
): Promise<TestDatabase> {
  const name = `fs_typeorm_${process.pid}_${randomBytes(4).toString('hex')}`;
  let options: DataSourceOptions;
  let dropNamespace: () => Promise<void> = async () => {};
  if (dialect === 'sqlite') {
    options = { type: 'better-sqlite3', database: ':memory:', entities, synchronize: true };
  } else if (dialect === 'postgres') {
    await admin('postgres', PG_URL, `CREATE SCHEMA "${name}"`);
    options = { type: 'postgres', url: PG_URL, schema: name, entities, synchronize: true };
    dropNamespace = () => admin('postgres', PG_URL, `DROP SCHEMA IF EXISTS "${name}" CASCADE`);
  } else {
    await admin('mysql', MYSQL_URL, `CREATE DATABASE \`${name}\``);
    const url = new URL(MYSQL_URL);
    url.pathname = `/${name}`;
    options = { type: 'mysql', url: url.toString(), entities, synchronize: true };
    dropNamespace = () => admin('mysql', MYSQL_URL, `DROP DATABASE IF EXISTS \`${name}\``);
  }
  const dataSource = new DataSource({ ...options, ...extra } as DataSourceOptions);
  return {
    dialect,
    dataSource,
    q: (identifier) => (dialect === 'mariadb' ? `\`${identifier}\`` : `"${identifier}"`),
    t: (table) =>
      dialect === 'mariadb' ? `\`${table}\`` : dialect === 'postgres' ? `"${name}"."${table}"` : `"${table}"`,
    drop: async () => {
      if (dataSource.isInitialized) await dataSource.destroy();
      await dropNamespace();
    },
  };
}

/** Runs one statement on the server's default database, through TypeORM's own driver. */
async function admin(type: 'postgres' | 'mysql', url: string, sql: string): Promise<void> {
  const dataSource = new DataSource({ type, url } as DataSourceOptions);
  await dataSource.initialize();
  try {
    await dataSource.query(sql);
  } finally {
    await dataSource.destroy();
  }
}
