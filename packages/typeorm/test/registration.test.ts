import 'reflect-metadata';
import { rmSync } from 'node:fs';
import {
  BlindIndex as BlindIndexKey,
  isConfigError,
  isEncryptionError,
  isUnsupportedOperationError,
} from '@fieldseal/core';
import { Column, DataSource, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { describe, expect, it } from 'vitest';
import { BlindIndex, DataKeyColumn, Encrypted, fieldEncryption } from '../src/index.js';
import { brokenAtRest } from './support/at-rest.js';
import { createDatabase, DIALECTS } from './support/databases.js';
import { ENTITIES, User } from './support/entities.js';
import { testKeyring } from './support/setup.js';

@Entity()
class Short {
  @PrimaryGeneratedColumn() id!: number;
  @Encrypted() @Column({ type: 'varchar', length: 40 }) code!: string;
  @DataKeyColumn() dataKey!: string | null;
}

@Entity()
class Bounded {
  @PrimaryGeneratedColumn() id!: number;
  @Encrypted() @Column({ type: 'varchar', length: 120 }) code!: string;
  @DataKeyColumn() dataKey!: string | null;
}

class IndexedPart {
  @Encrypted() @Column({ type: 'text', nullable: true }) value!: string | null;
  @BlindIndex('value') @Column({ type: 'varchar', length: 64, nullable: true }) valueIndex!: string | null;
}

@Entity()
class EmbedsIndex {
  @PrimaryGeneratedColumn() id!: number;
  @Column(() => IndexedPart) part!: IndexedPart;
  @DataKeyColumn() dataKey!: string | null;
}

class JsonPart {
  @Encrypted() street!: string;
}

@Entity()
class StoresJson {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'simple-json', nullable: true }) part!: JsonPart | null;
  @DataKeyColumn() dataKey!: string | null;
}
// What emitDecoratorMetadata records for the property (this test's compiler records none).
Reflect.defineMetadata('design:type', JsonPart, StoresJson.prototype, 'part');

const sqlite = (entities: Array<new () => object>) =>
  new DataSource({ type: 'better-sqlite3', database: ':memory:', entities, synchronize: true });

describe('registration checks', () => {
  it('a varchar too short for ciphertext is refused at start-up, naming the minimum length', async () => {
    const error = await fieldEncryption(sqlite([Short]), { keyring: testKeyring() }).catch((e: unknown) => e);
    expect(isConfigError(error)).toBe(true);
    expect((error as Error).message).toMatch(/"code" holds 40 characters, but ciphertext needs at least 86/);
  });

  it('a value whose ciphertext outgrows its varchar fails before the write, naming entity and property', async () => {
    const dataSource = sqlite([Bounded]);
    await fieldEncryption(dataSource, { keyring: testKeyring() });
    await dataSource.getRepository(Bounded).save({ code: 'fits' });
    const error = await dataSource
      .getRepository(Bounded)
      .save({ code: 'x'.repeat(60) })
      .catch((e: unknown) => e);
    expect(isEncryptionError(error) && error.code).toBe('value-too-large');
    expect((error as Error).message).toContain('entity Bounded, property code');
    expect(await dataSource.getRepository(Bounded).count()).toBe(1);
    await dataSource.destroy();
  });

  it('a blind index inside an embedded entity is refused at registration', async () => {
    const error = await fieldEncryption(sqlite([EmbedsIndex]), { keyring: testKeyring() }).catch(
      (e: unknown) => e,
    );
    expect(isConfigError(error)).toBe(true);
    expect((error as Error).message).toContain('embedded "part"');
  });

  it('a class declaring @Encrypted() stored in a plain (JSON) column is refused at registration', async () => {
    const error = await fieldEncryption(sqlite([StoresJson]), { keyring: testKeyring() }).catch(
      (e: unknown) => e,
    );
    expect(isConfigError(error)).toBe(true);
    expect((error as Error).message).toContain('@Column(() => JsonPart)');
  });

  it('a second fieldEncryption() on one data source is refused', async () => {
    const dataSource = sqlite([Bounded]);
    await fieldEncryption(dataSource, { keyring: testKeyring() });
    await expect(fieldEncryption(dataSource, { keyring: testKeyring() })).rejects.toThrow(
      /already registered/,
    );
    await dataSource.destroy();
  });
});

describe.each(DIALECTS)('a second data source without fieldEncryption() on %s', (dialect) => {
  it('fails loudly on its first write (save, insert, update, QueryBuilder) and on reads; nothing is written', async () => {
    const keyring = testKeyring();
    // SQLite: a file both data sources open (an in-memory database is private to one).
    const file = `/tmp/fieldseal-second-${process.pid}-${Date.now()}.db`;
    const db = await createDatabase(dialect, ENTITIES, dialect === 'sqlite' ? { database: file } : {});
    try {
      await fieldEncryption(db.dataSource, {
        keyring,
        blindIndexKey: await BlindIndexKey.generateKey(keyring),
      });
      const saved = await db.dataSource.getRepository(User).save({ email: 'first@example.com' } as User);
      const plain = new DataSource({ ...db.dataSource.options, synchronize: false } as never);
      await plain.initialize();
      try {
        const users = plain.getRepository(User);
        const attempts = [
          () => users.save({ email: 'plain@example.com' } as User),
          () => users.save({ email: 'plain@example.com' } as User, { listeners: false }),
          () => users.insert({ email: 'plain@example.com' }),
          () => users.update(saved.id, { ssn: 'plain-ssn' }),
          () =>
            users
              .createQueryBuilder()
              .insert()
              .values({ email: 'plain@example.com' })
              .callListeners(false)
              .execute(),
          () => users.findOneBy({ id: saved.id }),
        ];
        for (const attempt of attempts) {
          const error = await attempt().catch((e: unknown) => e);
          expect(isUnsupportedOperationError(error) && error.code).toBe('unprotected-client');
        }
      } finally {
        await plain.destroy();
      }
      expect(await brokenAtRest(db, keyring, ['plain@example.com', 'plain-ssn'])).toEqual([]);
      expect(await db.dataSource.getRepository(User).count()).toBe(1);
    } finally {
      await db.drop();
      rmSync(file, { force: true });
    }
  });
});
