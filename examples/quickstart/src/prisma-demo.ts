import type { CachingKeyring } from '@fieldseal/cache';
import type { Keyring } from '@fieldseal/core';
import { fieldEncryption } from '@fieldseal/prisma';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import Database from 'better-sqlite3';
import { fieldEncryptionMetadata } from './generated/fieldseal/metadata.js';
import { PrismaClient } from './generated/prisma/client.js';
import { type DemoResult, PEOPLE, type UserRow } from './people.js';

/** The Prisma app: ordinary Prisma calls on a client extended once with `fieldEncryption`. */
export async function prismaDemo(file: string, keyring: CachingKeyring | Keyring): Promise<DemoResult> {
  // With Prisma's schema engine you would run `prisma migrate dev`; here, the table by hand.
  const db = new Database(file);
  db.exec(`DROP TABLE IF EXISTS "User";
    CREATE TABLE "User" (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, email TEXT NOT NULL, ssn TEXT, dataKey TEXT)`);

  const base = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: `file:${file}` }) });
  const prisma = base.$extends(fieldEncryption({ keyring, metadata: fieldEncryptionMetadata }));

  // ↓ The app's ORM code: nothing here knows about encryption.
  for (const person of PEOPLE) await prisma.user.create({ data: person });
  const read = await prisma.user.findMany({ orderBy: { id: 'asc' } });
  // ↑

  const stored = db.prepare('SELECT * FROM "User" ORDER BY id').all() as UserRow[];
  await base.$disconnect();
  db.close();
  return { orm: 'Prisma 7', stored, read };
}
