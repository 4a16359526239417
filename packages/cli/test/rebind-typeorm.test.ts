import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlindIndex as BlindIndexKey, LocalKeyring } from '@fieldseal/core';
import { testDialects } from '@fieldseal/test-databases/dialects';
import {
  BlindIndex,
  DataKeyColumn,
  Encrypted,
  fieldEncryption,
  sqlExecutor,
  storedTables,
} from '@fieldseal/typeorm';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { Column, DataSource, type DataSourceOptions, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { describe, expect, it } from 'vitest';
import { migrate, rebind, verify } from '../src/index.js';
import { MYSQL_URL, PG_URL } from './helpers/db.js';

/** A fresh SQLite file, PostgreSQL schema or MariaDB database for one test. */
async function namespace(dialect: 'sqlite' | 'postgres' | 'mariadb') {
  const name = `fs_cli_rebind_${randomBytes(4).toString('hex')}`;
  if (dialect === 'sqlite') {
    const file = join(tmpdir(), `${name}.db`);
    return {
      options: { type: 'better-sqlite3', database: file } as DataSourceOptions,
      drop: async () => rmSync(file, { force: true }),
    };
  }
  if (dialect === 'mariadb') {
    const admin = await mysql.createConnection(MYSQL_URL);
    await admin.query(`CREATE DATABASE \`${name}\``);
    await admin.end();
    const url = new URL(MYSQL_URL);
    url.pathname = `/${name}`;
    return {
      options: { type: 'mysql', url: url.toString() } as DataSourceOptions,
      drop: async () => {
        const c = await mysql.createConnection(MYSQL_URL);
        await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
        await c.end();
      },
    };
  }
  const run = async (sql: string) => {
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    await client.query(sql);
    await client.end();
  };
  await run(`CREATE SCHEMA "${name}"`);
  return {
    options: { type: 'postgres', url: PG_URL, schema: name } as DataSourceOptions,
    drop: () => run(`DROP SCHEMA "${name}" CASCADE`),
  };
}

/** A table renamed from members_old (where its rows were encrypted) to members_new. */
@Entity({ name: 'members_new' })
class RenamedMember {
  @PrimaryGeneratedColumn() id!: number;
  @Encrypted({ type: 'string' }) @Column({ type: 'text' }) email!: string;
  @BlindIndex('email')
  @Column({ type: 'varchar', length: 64, nullable: true, name: 'email_index' })
  emailIndex!: string | null;
  @DataKeyColumn({ name: 'data_key' }) dataKey!: string | null;
}

const keyring = LocalKeyring.fromString(LocalKeyring.generateKeyText('k1'));
const blindIndexKey = await BlindIndexKey.generateKey(keyring);

describe.each(testDialects(['sqlite', 'postgres', 'mariadb'] as const, ['sqlite']))(
  'a renamed TypeORM table on %s',
  (dialect) => {
    it('reads under its pinned encryption name, then under its new name after rebind', async () => {
      const ns = await namespace(dialect);
      const plain = new DataSource({ ...ns.options, entities: [RenamedMember], synchronize: true });
      await plain.initialize();
      const apps: DataSource[] = [];
      const open = async (options: { encryptionNames?: Record<string, string> }) => {
        const app = new DataSource({ ...ns.options, entities: [RenamedMember] });
        apps.push(app);
        await fieldEncryption(app, { keyring, blindIndexKey, readMode: 'strict', ...options });
        return app.getRepository(RenamedMember);
      };
      try {
        // Legacy plaintext rows, straight through SQL (the adapter refuses unencrypted entity writes).
        const schema = (ns.options as { schema?: string }).schema;
        const into = schema ? `"${schema}".members_new` : 'members_new';
        for (let i = 1; i <= 30; i++)
          await plain.query(`INSERT INTO ${into} (email) VALUES (${dialect === 'postgres' ? '$1' : '?'})`, [
            `m${i}@example.com`,
          ]);
        // Encrypted while the table was still called members_old.
        const tables = storedTables(plain);
        const old = {
          executor: sqlExecutor(plain),
          tables: tables.map((t) => ({ ...t, binding: 'members_old' })),
          keyring,
          blindIndexKey,
        };
        expect((await migrate(old, {})).totals).toMatchObject({ written: 30, problems: 0 });

        const unpinned = await open({});
        await expect(unpinned.findOneBy({ id: 3 })).rejects.toThrow();
        const pinned = await open({ encryptionNames: { members_new: 'members_old' } });
        expect(await pinned.findOneBy({ email: 'm7@example.com' })).toMatchObject({
          id: 7,
          email: 'm7@example.com',
        });
        await pinned.save(Object.assign(new RenamedMember(), { email: 'new@example.com' }));
        expect((await verify(old, {})).tables[0]).toMatchObject({
          rows: 31,
          encrypted: 31,
          indexMismatches: 0,
        });

        const moved = await rebind({ ...old, tables }, { model: 'RenamedMember', from: 'members_old' });
        expect(moved).toMatchObject({ ok: true, to: 'members_new', rebound: 31 });
        const renamed = await open({});
        expect(await renamed.findOneBy({ email: 'new@example.com' })).toMatchObject({ id: 31 });
        expect(await renamed.count()).toBe(31);
        expect((await renamed.find()).map((m) => m.email)).toContain('m30@example.com');
      } finally {
        for (const app of apps) if (app.isInitialized) await app.destroy();
        await plain.destroy();
        await ns.drop();
      }
    });
  },
);
