import { BlindIndex, type Keyring, LocalKeyring, type ReadMode } from '@fieldseal/core';
import type { DataSourceOptions } from 'typeorm';
import { type FieldEncryption, fieldEncryption } from '../../src/index.js';
import { createDatabase, type Dialect, type TestDatabase } from './databases.js';
import { ENTITIES } from './entities.js';

/** A fresh local keyring; the tests need no KMS. */
export function testKeyring(): LocalKeyring {
  return LocalKeyring.fromString(LocalKeyring.generateKeyText('test-1'));
}

export interface EncryptedDatabase extends TestDatabase {
  readonly keyring: Keyring;
  readonly fe: FieldEncryption;
  readonly blindIndexKey: string;
}

/** A throwaway database with the test entities and field encryption registered. */
export async function encryptedDatabase(
  dialect: Dialect,
  options: {
    keyring?: Keyring;
    readMode?: ReadMode;
    entities?: Array<abstract new (...args: never) => unknown>;
    extra?: Partial<DataSourceOptions>;
  } = {},
): Promise<EncryptedDatabase> {
  const keyring = options.keyring ?? testKeyring();
  const db = await createDatabase(dialect, options.entities ?? ENTITIES, options.extra);
  const blindIndexKey = await BlindIndex.generateKey(keyring);
  const fe = await fieldEncryption(db.dataSource, {
    keyring,
    blindIndexKey,
    ...(options.readMode ? { readMode: options.readMode } : {}),
  });
  return { ...db, keyring, fe, blindIndexKey };
}

/** Every cell of every row of `table`, as stored. */
export async function rawRows(db: TestDatabase, table: string): Promise<Record<string, unknown>[]> {
  return db.dataSource.query(`SELECT * FROM ${db.t(table)} ORDER BY ${db.q('id')}`);
}

/** Fails when any stored cell of `table` contains one of the plaintexts. */
export async function plaintextAtRest(
  db: TestDatabase,
  table: string,
  plaintexts: readonly string[],
): Promise<string[]> {
  const found: string[] = [];
  for (const row of await rawRows(db, table)) {
    for (const cell of Object.values(row)) {
      const text = cell instanceof Uint8Array ? Buffer.from(cell).toString('latin1') : String(cell);
      for (const plain of plaintexts) if (plain.length >= 3 && text.includes(plain)) found.push(plain);
    }
  }
  return found;
}
