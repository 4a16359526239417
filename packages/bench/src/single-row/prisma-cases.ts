import { randomBytes } from 'node:crypto';
import type { Keyring } from '@fieldseal/core';
import { fieldEncryption } from '@fieldseal/prisma';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { fieldEncryptionExtension } from 'prisma-field-encryption';
import { PrismaClient as PgClient } from '../generated/single-row/postgresql/client/client.js';
import { fieldEncryptionMetadata } from '../generated/single-row/postgresql/fieldseal/metadata.js';
import { PrismaClient as SqliteClient } from '../generated/single-row/sqlite/client/client.js';
import type { BenchDatabase } from './databases.js';
import type { Person, ReadRow, SingleRowCase, Variant } from './single-row-case.js';

const LABELS: Readonly<Record<Variant, string>> = {
  plain: 'Prisma 7.10 (no encryption)',
  fieldseal: 'Prisma 7.10 + @fieldseal/prisma',
  peer: 'Prisma 7.10 + prisma-field-encryption 1.6 (static key)',
};

// Hand-written DDL (Prisma's schema engine is not needed here), matching prisma/single-row.prisma.
const COLUMNS = '"name" TEXT NOT NULL, "email" TEXT NOT NULL, "ssn" TEXT, "note" TEXT';
const TABLES = (id: string) => `
CREATE TABLE "SrPlain" ("id" ${id}, ${COLUMNS}, UNIQUE ("email"));
CREATE TABLE "SrSealed" ("id" ${id}, ${COLUMNS}, "emailIndex" TEXT UNIQUE, "dataKey" TEXT);
CREATE TABLE "SrPfe" ("id" ${id}, ${COLUMNS}, "emailHash" TEXT UNIQUE, UNIQUE ("email"));`;

/** Creates the three Prisma tables of the single-row benchmark. */
export function createPrismaTables(database: BenchDatabase): Promise<void> {
  return database.exec(
    TABLES(database.dialect === 'postgres' ? 'SERIAL PRIMARY KEY' : 'INTEGER PRIMARY KEY AUTOINCREMENT'),
  );
}

// prisma-field-encryption reads its annotations from a DMMF document, which Prisma 7's
// prisma-client generator no longer exposes at runtime: it gets the one model it needs.
const field = (name: string, documentation?: string) => ({
  name,
  isList: false,
  isUnique: name === 'email' || name === 'emailHash',
  isId: name === 'id',
  type: name === 'id' ? 'Int' : 'String',
  ...(documentation ? { documentation } : {}),
});
const PFE_DMMF = {
  datamodel: {
    models: [
      {
        name: 'SrPfe',
        fields: [
          field('id'),
          field('name'),
          field('email', '@encrypted'),
          field('ssn', '@encrypted'),
          field('note', '@encrypted'),
          field('emailHash', '@encryption:hash(email)'),
        ],
      },
    ],
  },
};

/** The delegate every case's model offers (the encrypted ones after their extension). */
interface Delegate {
  create(args: { data: Person; select: { id: true } }): Promise<{ id: number }>;
  findUnique(args: { where: { id: number } | { email: string } }): Promise<ReadRow | null>;
  update(args: { where: { id: number }; data: Partial<Person> }): Promise<unknown>;
  delete(args: { where: { id: number } }): Promise<unknown>;
}

/**
 * One Prisma case on its own client (driver adapter over a `pg` pool or better-sqlite3), ops as
 * an application writes them: `create`, `findUnique` by id and by email, `update` by id, `delete`.
 */
export async function prismaCase(
  database: BenchDatabase,
  variant: Variant,
  keys: { keyring: Keyring; blindIndexKey: string },
): Promise<SingleRowCase> {
  const pool =
    database.dialect === 'postgres' ? new pg.Pool({ connectionString: database.location }) : undefined;
  // An idle client the server drops (the bench database is dropped WITH (FORCE) at the end) must
  // not crash the run after its results are written: pg emits that as an 'error' event.
  pool?.on('error', () => undefined);
  const base = pool
    ? new PgClient({ adapter: new PrismaPg(pool) })
    : new SqliteClient({ adapter: new PrismaBetterSqlite3({ url: `file:${database.location}` }) });
  let rows: Delegate;
  if (variant === 'plain') rows = (base as PgClient).srPlain as unknown as Delegate;
  else if (variant === 'fieldseal')
    rows = (base as PgClient).$extends(
      fieldEncryption({
        keyring: keys.keyring,
        metadata: fieldEncryptionMetadata,
        blindIndexKey: keys.blindIndexKey,
      }),
    ).srSealed as unknown as Delegate;
  else
    rows = (base as PgClient).$extends(
      fieldEncryptionExtension({
        encryptionKey: `k1.aesgcm256.${randomBytes(32).toString('base64url')}`,
        dmmf: PFE_DMMF as never,
      }),
    ).srPfe as unknown as Delegate;
  return {
    orm: 'prisma',
    variant,
    dialect: database.dialect,
    label: LABELS[variant],
    insert: async (person) => (await rows.create({ data: person, select: { id: true } })).id,
    findById: (id) => rows.findUnique({ where: { id } }),
    findByIndex: (email) => rows.findUnique({ where: { email } }),
    updateEncrypted: async (id, note) => {
      await rows.update({ where: { id }, data: { note } });
    },
    updatePlain: async (id, name) => {
      await rows.update({ where: { id }, data: { name } });
    },
    delete: async (id) => {
      await rows.delete({ where: { id } });
    },
    close: async () => {
      await base.$disconnect();
      await pool?.end();
    },
  };
}
