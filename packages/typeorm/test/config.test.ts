import 'reflect-metadata';
import { ConfigError } from '@fieldseal/core';
import { Column, DataSource, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { describe, expect, it } from 'vitest';
import { BlindIndex, DataKeyColumn, Encrypted, fieldEncryption } from '../src/index.js';
import { testKeyring } from './support/setup.js';

@Entity()
class NoDataKey {
  @PrimaryGeneratedColumn() id!: number;
  @Encrypted() @Column({ type: 'text' }) email!: string;
}
@Entity()
class IntColumn {
  @PrimaryGeneratedColumn() id!: number;
  @Encrypted({ type: 'number' }) @Column({ type: 'integer' }) age!: number;
  @DataKeyColumn() dataKey!: string | null;
}
@Entity()
class IndexOnPlain {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'text' }) name!: string;
  @BlindIndex('name') @Column({ type: 'varchar', length: 64, nullable: true }) nameIndex!: string | null;
  @DataKeyColumn() dataKey!: string | null;
}
@Entity()
class ShortIndex {
  @PrimaryGeneratedColumn() id!: number;
  @Encrypted() @Column({ type: 'text' }) email!: string;
  @BlindIndex('email') @Column({ type: 'varchar', length: 16, nullable: true }) emailIndex!: string | null;
  @DataKeyColumn() dataKey!: string | null;
}
@Entity()
class Inferred {
  @PrimaryGeneratedColumn() id!: number;
  @Encrypted() @Column({ type: 'text' }) score!: number;
  @Encrypted() @Column({ type: 'text' }) seen!: Date;
  @DataKeyColumn() dataKey!: string | null;
}

@Entity()
class BadNormalizer {
  @PrimaryGeneratedColumn() id!: number;
  @Encrypted() @Column({ type: 'text' }) email!: string;
  @BlindIndex('email', { normalize: ['trim', 'casefold' as never] })
  @Column({ type: 'varchar', length: 64, nullable: true })
  emailIndex!: string | null;
  @DataKeyColumn() dataKey!: string | null;
}

// biome-ignore lint/complexity/noBannedTypes: TypeORM's entity list type
async function register(entity: Function, options: { blindIndexKey?: boolean } = {}) {
  const keyring = testKeyring();
  const dataSource = new DataSource({
    type: 'better-sqlite3',
    database: ':memory:',
    entities: [entity],
    synchronize: true,
  });
  const { BlindIndex: Index } = await import('@fieldseal/core');
  try {
    return await fieldEncryption(dataSource, {
      keyring,
      ...(options.blindIndexKey ? { blindIndexKey: await Index.generateKey(keyring) } : {}),
    });
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
  }
}

async function configError(action: Promise<unknown>): Promise<ConfigError> {
  const error = await action.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

describe('fieldEncryption() configuration', () => {
  it('an entity with encrypted columns but no @DataKeyColumn is refused', async () => {
    expect((await configError(register(NoDataKey))).message).toContain('NoDataKey');
  });
  it('an encrypted property on a non-text column is refused', async () => {
    expect((await configError(register(IntColumn))).message).toContain('"age" must be a text column');
  });
  it('a blind index on a property that is not encrypted is refused', async () => {
    expect((await configError(register(IndexOnPlain, { blindIndexKey: true }))).message).toContain(
      'not an @Encrypted() property',
    );
  });
  it('an unknown normalizer name is refused, naming entity, property and the known names', async () => {
    const error = await configError(register(BadNormalizer, { blindIndexKey: true }));
    expect(error.option).toBe('@BlindIndex normalize of BadNormalizer.emailIndex');
    expect(error.message).toContain('"casefold"');
    expect(error.message).toContain('lowercase');
  });
  it('a blind index without a blindIndexKey is refused', async () => {
    expect((await configError(register(ShortIndex))).option).toBe('blindIndexKey');
  });
  it('a blind-index column too short for the index values is refused', async () => {
    expect((await configError(register(ShortIndex, { blindIndexKey: true }))).message).toContain(
      'holds 16 characters',
    );
  });
  it('a missing keyring is refused', async () => {
    const dataSource = new DataSource({ type: 'better-sqlite3', database: ':memory:', entities: [] });
    expect((await configError(fieldEncryption(dataSource, {} as never))).option).toBe('keyring');
  });
  it('registering twice on one data source is refused', async () => {
    const dataSource = new DataSource({
      type: 'better-sqlite3',
      database: ':memory:',
      entities: [Inferred],
      synchronize: true,
    });
    await fieldEncryption(dataSource, { keyring: testKeyring() });
    expect((await configError(fieldEncryption(dataSource, { keyring: testKeyring() }))).option).toBe(
      'dataSource',
    );
    await dataSource.destroy();
  });
  it('non-null number and Date properties take their type from design:type metadata', async () => {
    const dataSource = new DataSource({
      type: 'better-sqlite3',
      database: ':memory:',
      entities: [Inferred],
      synchronize: true,
    });
    await fieldEncryption(dataSource, { keyring: testKeyring() });
    const repo = dataSource.getRepository(Inferred);
    const saved = await repo.save(repo.create({ score: 7.25, seen: new Date('2024-05-06T07:08:09Z') }));
    const loaded = await repo.findOneByOrFail({ id: saved.id });
    expect(loaded.score).toBe(7.25);
    expect(loaded.seen).toEqual(new Date('2024-05-06T07:08:09Z'));
    await dataSource.destroy();
  });
});
