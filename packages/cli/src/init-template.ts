/** The ORMs `fieldseal init --orm` writes a starter config for. */
export type InitOrm = 'prisma' | 'typeorm';

const PRISMA = `// fieldseal.config.ts — read by the \`fieldseal\` CLI (migrate, rotate, verify, status).
// Use the SAME keyring, blind-index key and encryption context as your application, or the
// rows the CLI writes will not open in the app.
import { CachingKeyring } from '@fieldseal/cache';
import { defineConfig } from '@fieldseal/cli';
import { LocalKeyring } from '@fieldseal/core';
import { sqlExecutor, storedTables } from '@fieldseal/prisma';
import { PrismaPg } from '@prisma/adapter-pg';
// The client and the metadata your \`prisma generate\` wrote (paths as in your schema's generators).
import { PrismaClient } from './generated/prisma/client.js';
import { fieldEncryptionMetadata } from './generated/fieldseal/metadata.js';

// A function: connections open only when a command runs (not for \`fieldseal --help\`).
export default defineConfig(async () => {
  const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: process.env.DATABASE_URL }) });
  return {
    // Raw SQL over the app's own connection; no extension needed here.
    executor: sqlExecutor(prisma, { dialect: 'postgres' }),
    // Table, column and key names exactly as @fieldseal/prisma binds them.
    tables: storedTables(fieldEncryptionMetadata),
    // Production: new CachingKeyring(new AwsKmsKeyring({ keyId: 'alias/app-data', decryptKeyIds: [...] })).
    keyring: new CachingKeyring(LocalKeyring.fromEnv('FIELDSEAL_LOCAL_KEYS')),
    // Required when the schema has /// @blindIndex fields.
    blindIndexKey: process.env.FIELDSEAL_BLIND_INDEX_KEY,
    close: () => prisma.$disconnect(),
  };
});
`;

const TYPEORM = `// fieldseal.config.ts — read by the \`fieldseal\` CLI (migrate, rotate, verify, status).
// Use the SAME keyring, blind-index key and encryption context as your application, or the
// rows the CLI writes will not open in the app.
import 'reflect-metadata';
import { CachingKeyring } from '@fieldseal/cache';
import { defineConfig } from '@fieldseal/cli';
import { LocalKeyring } from '@fieldseal/core';
import { sqlExecutor, storedTables } from '@fieldseal/typeorm';
// Your DataSource (entities with @Encrypted(), @BlindIndex(), @DataKeyColumn()).
import { dataSource } from './src/data-source.js';

// A function: connections open only when a command runs (not for \`fieldseal --help\`).
export default defineConfig(async () => {
  if (!dataSource.isInitialized) await dataSource.initialize();
  return {
    // Raw SQL through TypeORM query runners on the app's own connection pool.
    executor: sqlExecutor(dataSource),
    // Tables, columns and @BlindIndex normalize functions, from the entity metadata.
    tables: storedTables(dataSource),
    // Production: new CachingKeyring(new AwsKmsKeyring({ keyId: 'alias/app-data', decryptKeyIds: [...] })).
    keyring: new CachingKeyring(LocalKeyring.fromEnv('FIELDSEAL_LOCAL_KEYS')),
    // Required when an entity has @BlindIndex() columns.
    blindIndexKey: process.env.FIELDSEAL_BLIND_INDEX_KEY,
    close: () => dataSource.destroy(),
  };
});
`;

/** The commented starter config `fieldseal init` writes. */
export function initTemplate(orm: InitOrm): string {
  return orm === 'prisma' ? PRISMA : TYPEORM;
}
