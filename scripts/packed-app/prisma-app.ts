// The Prisma app (ESM, run with tsx as the generated client is TypeScript): the ORM code is
// ordinary Prisma; the check reads the table with raw SQL to see what is stored.
import { join } from 'node:path';
import { CachingKeyring } from '@fieldseal/cache';
import { fieldEncryption } from '@fieldseal/prisma';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import Database from 'better-sqlite3';
import { fieldEncryptionMetadata } from './generated/fieldseal/metadata.js';
import { PrismaClient } from './generated/prisma/client.js';
import { appKeyring, dataDir } from './keys.mjs';

const file = join(dataDir, 'prisma.db');
const db = new Database(file);
db.exec(
  'CREATE TABLE IF NOT EXISTS "User" (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, email TEXT NOT NULL, ssn TEXT, dataKey TEXT)',
);
const base = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: `file:${file}` }) });
const prisma = base.$extends(
  fieldEncryption({ keyring: new CachingKeyring(appKeyring()), metadata: fieldEncryptionMetadata }),
);

const ada = await prisma.user.create({ data: { name: 'Ada', email: 'ada@example.com', ssn: '078-05-1120' } });
await prisma.user.create({ data: { name: 'Grace', email: 'grace@example.com' } });
const read = await prisma.user.findUniqueOrThrow({ where: { id: ada.id } });
const stored = db.prepare('SELECT email, ssn, dataKey FROM "User" WHERE id = ?').get(ada.id) as Record<
  string,
  string
>;
console.log('stored:', stored.email.slice(0, 24), '… app reads:', read.email);
if (read.email !== 'ada@example.com' || read.ssn !== '078-05-1120') throw new Error('read back differs');
if (!/^fs\d:/.test(stored.email) || stored.email.includes('ada@') || !stored.dataKey?.startsWith('fsk'))
  throw new Error(`stored value is not ciphertext: ${stored.email}`);
await base.$disconnect();
db.close();
console.log('prisma app (ESM): OK');
