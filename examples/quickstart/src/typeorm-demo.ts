import 'reflect-metadata';
import type { CachingKeyring } from '@fieldseal/cache';
import type { Keyring } from '@fieldseal/core';
import { DataKeyColumn, Encrypted, fieldEncryption } from '@fieldseal/typeorm';
import { Column, DataSource, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { type DemoResult, PEOPLE, type UserRow } from './people.js';

/** An ordinary TypeORM entity; `@Encrypted()` and `@DataKeyColumn()` are the only additions. */
@Entity({ name: 'users' })
class User {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'text' }) name!: string;
  @Encrypted() @Column({ type: 'text' }) email!: string;
  @Encrypted() @Column({ type: 'text', nullable: true }) ssn!: string | null;
  @DataKeyColumn() dataKey!: string | null;
}

/** The TypeORM twin of the Prisma app (`-- --typeorm`). */
export async function typeormDemo(file: string, keyring: CachingKeyring | Keyring): Promise<DemoResult> {
  const dataSource = new DataSource({
    type: 'better-sqlite3',
    database: file,
    entities: [User],
    dropSchema: true,
    synchronize: true,
  });
  await dataSource.initialize();
  await fieldEncryption(dataSource, { keyring });

  // ↓ The app's ORM code: nothing here knows about encryption.
  const users = dataSource.getRepository(User);
  for (const person of PEOPLE) await users.save(users.create(person));
  const read = await users.find({ order: { id: 'ASC' } });
  // ↑

  const stored = (await dataSource.query('SELECT * FROM users ORDER BY id')) as UserRow[];
  await dataSource.destroy();
  return { orm: 'TypeORM 1.1', stored, read };
}
