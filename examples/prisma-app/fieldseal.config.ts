// fieldseal.config.ts — what the `fieldseal` CLI (migrate, rotate, verify, status) runs with.
// It must use the SAME keys, blind-index key and schema metadata as the app (src/db.ts), or the
// rows it writes would not open in the app. Try it: `pnpm migrate-demo` in this directory.
import { join } from 'node:path';
import { CachingKeyring } from '@fieldseal/cache';
import { defineConfig } from '@fieldseal/cli';
import { sqlExecutor, storedTables } from '@fieldseal/prisma';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { fieldEncryptionMetadata } from './src/generated/fieldseal/metadata.js';
import { PrismaClient } from './src/generated/prisma/client.js';
import { loadKeys } from './src/keys.js';

// A function: nothing connects until a command runs.
export default defineConfig(async () => {
  const dataDir = process.env.APP_DATA_DIR ?? join(import.meta.dirname, '.data');
  const keys = await loadKeys(join(dataDir, 'dev-keys.json'));
  const client = new PrismaClient({
    adapter: new PrismaBetterSqlite3({ url: `file:${join(dataDir, 'app.db')}` }),
  });
  return {
    // Plain SQL on the app's own connection (the CLI does not go through the extension).
    executor: sqlExecutor(client),
    // Tables, columns and blind indexes (with their normalize steps), from the generated metadata.
    tables: storedTables(fieldEncryptionMetadata),
    keyring: new CachingKeyring(keys.keyring),
    blindIndexKey: keys.blindIndexKey,
    close: () => client.$disconnect(),
  };
});
