import type { Keyring } from '@fieldseal/core';
import { fieldEncryption } from '@fieldseal/typeorm';
import Database from 'better-sqlite3';
import pg from 'pg';
import { DataSource, type Repository } from 'typeorm';
import type { BenchDatabase } from './databases.js';
import type { Person, ReadRow, SingleRowCase, Variant } from './single-row-case.js';
import { SrPlain, SrSealed, SrTe } from './typeorm-entities.js';

const ENTITIES = { plain: SrPlain, fieldseal: SrSealed, peer: SrTe } as const;
const LABELS: Readonly<Record<Variant, string>> = {
  plain: 'TypeORM 1.1 (no encryption)',
  fieldseal: 'TypeORM 1.1 + @fieldseal/typeorm',
  peer: 'TypeORM 1.1 + typeorm-encrypted 0.8 (static key)',
};

type Row = ReadRow & { id: number };

/**
 * One TypeORM case on its own data source (TypeORM's default pool),
 * driving the ops as an application would: `save()` of a new entity, `findOneBy`, `update(id, …)`,
 * `delete(id)`. The drivers are passed in, so the statement log sees the same `pg` module.
 */
export async function typeormCase(
  database: BenchDatabase,
  variant: Variant,
  keys: { keyring: Keyring; blindIndexKey: string },
): Promise<SingleRowCase> {
  const entity = ENTITIES[variant];
  const dataSource =
    database.dialect === 'postgres'
      ? new DataSource({
          type: 'postgres',
          url: database.location,
          driver: pg,
          entities: [entity],
          synchronize: true,
        })
      : new DataSource({
          type: 'better-sqlite3',
          database: database.location,
          driver: Database,
          entities: [entity],
          synchronize: true,
        });
  await dataSource.initialize();
  if (variant === 'fieldseal') await fieldEncryption(dataSource, keys);
  const repo = dataSource.getRepository(entity) as unknown as Repository<Row>;
  return {
    orm: 'typeorm',
    variant,
    dialect: database.dialect,
    label: LABELS[variant],
    insert: async (person: Person) => (await repo.save(repo.create({ ...person }))).id,
    findById: (id) => repo.findOneBy({ id }),
    ...(variant === 'peer' ? {} : { findByIndex: (email: string) => repo.findOneBy({ email }) }),
    updateEncrypted: async (id, note) => {
      await repo.update(id, { note });
    },
    updatePlain: async (id, name) => {
      await repo.update(id, { name });
    },
    delete: async (id) => {
      await repo.delete(id);
    },
    close: () => dataSource.destroy(),
  };
}
