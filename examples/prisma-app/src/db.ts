import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CachingKeyring } from '@fieldseal/cache';
import { fieldEncryption } from '@fieldseal/prisma';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import Database from 'better-sqlite3';
import { fieldEncryptionMetadata } from './generated/fieldseal/metadata.js';
import { PrismaClient } from './generated/prisma/client.js';
import type { AppKeys } from './keys.js';

const here = import.meta.dirname;

/** Creates the tables if needed (see prisma/schema.sql). */
export function createTables(file: string): void {
  const db = new Database(file);
  db.exec(readFileSync(join(here, '..', 'prisma', 'schema.sql'), 'utf8'));
  db.close();
}

/**
 * The app's client: the generated PrismaClient with the fieldseal extension. Use only the
 * returned client; the one `$extends` was called on refuses queries on encrypted models.
 */
export function createClient(file: string, keys: AppKeys) {
  const base = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: `file:${file}` }) });
  // The cache lets rows created close together share a data key: one keyring call per batch.
  const keyring = new CachingKeyring(keys.keyring, { maxAge: 60_000, maxUses: 1_000 });
  const prisma = base.$extends(
    fieldEncryption({ keyring, metadata: fieldEncryptionMetadata, blindIndexKey: keys.blindIndexKey }),
  );
  return { base, prisma };
}

export type AppClient = ReturnType<typeof createClient>['prisma'];
