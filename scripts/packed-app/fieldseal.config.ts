// What `fieldseal status` runs with: the Prisma app's database and key.
import { join } from 'node:path';
import { CachingKeyring } from '@fieldseal/cache';
import { defineConfig } from '@fieldseal/cli';
import { sqlExecutor, storedTables } from '@fieldseal/prisma';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { fieldEncryptionMetadata } from './generated/fieldseal/metadata.js';
import { PrismaClient } from './generated/prisma/client.js';
import { appKeyring, dataDir } from './keys.mjs';

export default defineConfig(() => {
  const client = new PrismaClient({
    adapter: new PrismaBetterSqlite3({ url: `file:${join(dataDir, 'prisma.db')}` }),
  });
  return {
    executor: sqlExecutor(client),
    tables: storedTables(fieldEncryptionMetadata),
    keyring: new CachingKeyring(appKeyring()),
    close: () => client.$disconnect(),
  };
});
