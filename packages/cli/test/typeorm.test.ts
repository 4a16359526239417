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
import { migrate, verify } from '../src/index.js';
import { PG_URL } from './helpers/db.js';

const MYSQL_URL = process.env.FIELDSEAL_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';

/** Runs one statement on MariaDB/MySQL with its own connection. */
async function mysqlAdmin(sql: string): Promise<void> {
  const connection = await mysql.createConnection(MYSQL_URL);
  try {
    await connection.query(sql);
  } finally {
    await connection.end();
  }
}

/** Types are declared: the test compiler emits imprecise decorator metadata. */
@Entity({ name: 'members' })
class Member {
  @PrimaryGeneratedColumn() id!: number;
  @Encrypted({ type: 'string' }) @Column({ type: 'text' }) email!: string;
  @BlindIndex('email', { normalize: (email) => email.trim().toLowerCase() })
  @Column({ type: 'varchar', length: 64, nullable: true, unique: true, name: 'email_index' })
  emailIndex!: string | null;
  @Encrypted({ type: 'number' }) @Column({ type: 'text', nullable: true }) age!: number | null;
  @DataKeyColumn({ name: 'data_key' }) dataKey!: string | null;
}

const keyring = LocalKeyring.fromString(LocalKeyring.generateKeyText('k1'));
const blindIndexKey = await BlindIndexKey.generateKey(keyring);

async function namespace(dialect: 'sqlite' | 'postgres' | 'mariadb') {
  const name = `fs_cli_typeorm_${randomBytes(4).toString('hex')}`;
  if (dialect === 'sqlite') {
    const file = join(tmpdir(), `${name}.db`);
    return {
      options: { type: 'better-sqlite3', database: file } as DataSourceOptions,
      drop: async () => rmSync(file, { force: true }),
    };
  }
  if (dialect === 'mariadb') {
    await mysqlAdmin(`CREATE DATABASE \`${name}\``);
    const url = new URL(MYSQL_URL);
    url.pathname = `/${name}`;
    return {
      options: { type: 'mysql', url: url.toString() } as DataSourceOptions,
      drop: () => mysqlAdmin(`DROP DATABASE IF EXISTS \`${name}\``),
    };
  }
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA "${name}"`);
  await admin.end();
  return {
    options: { type: 'postgres', url: PG_URL, schema: name } as DataSourceOptions,
    drop: async () => {
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      await client.query(`DROP SCHEMA "${name}" CASCADE`);
      await client.end();
    },
  };
}

describe.each(testDialects(['sqlite', 'postgres', 'mariadb'] as const, ['sqlite']))(
  'TypeORM tables on %s',
  (dialect) => {
    it('storedTables + sqlExecutor migrate rows the TypeORM adapter then reads in strict mode', async () => {
      const ns = await namespace(dialect);
      const plain = new DataSource({ ...ns.options, entities: [Member], synchronize: true });
      await plain.initialize();
      const app = new DataSource({ ...ns.options, entities: [Member] });
      try {
        const tables = storedTables(plain);
        expect(tables).toHaveLength(1);
        expect(tables[0]).toMatchObject({
          model: 'Member',
          table: 'members',
          primaryKey: ['id'],
          dataKeyColumn: 'data_key',
          columns: [
            {
              field: 'email',
              column: 'email',
              output: 'text',
              blindIndex: { field: 'emailIndex', column: 'email_index' },
            },
            { field: 'age', column: 'age', output: 'text' },
          ],
        });
        // Legacy rows, written before encryption (numbers as the text the adapter would encode), in
        // raw SQL: TypeORM itself refuses to write an @Encrypted entity without fieldEncryption().
        const table =
          dialect === 'postgres' ? `"${(ns.options as { schema: string }).schema}".members` : 'members';
        for (let i = 1; i <= 120; i++)
          await plain.query(`INSERT INTO ${table} (email) VALUES (${dialect === 'postgres' ? '$1' : '?'})`, [
            ` Member${i}@Example.COM`,
          ]);
        await plain.query(
          dialect === 'mariadb'
            ? "UPDATE members SET age = CONCAT('4', id)"
            : `UPDATE ${dialect === 'postgres' ? `"${(ns.options as { schema: string }).schema}".` : ''}members SET age = '4' || id`,
        );

        const config = { executor: sqlExecutor(plain), tables, keyring, blindIndexKey };
        const report = await migrate(config, { batch: 50 });
        expect(report.totals).toMatchObject({ written: 120, problems: 0 });
        expect((await verify(config)).tables[0]).toMatchObject({
          encrypted: 120,
          undecryptable: 0,
          indexMismatches: 0,
        });

        await fieldEncryption(app, { keyring, blindIndexKey, readMode: 'strict' });
        const members = app.getRepository(Member);
        const found = await members.findOneBy({ email: 'member77@example.com' }); // through the normalized index
        expect(found).toMatchObject({ id: 77, email: ' Member77@Example.COM', age: 477 });
        expect(await members.count()).toBe(120);
        const all = await members.find({ order: { id: 'ASC' } });
        expect(all.map((m) => m.age)).toEqual(Array.from({ length: 120 }, (_, i) => Number(`4${i + 1}`)));
      } finally {
        if (app.isInitialized) await app.destroy();
        await plain.destroy();
        await ns.drop();
      }
    });
  },
);
