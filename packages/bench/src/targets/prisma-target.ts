import { fieldEncryption } from '@fieldseal/prisma';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaClient } from '../generated/prisma/client/client.js';
import { fieldEncryptionMetadata } from '../generated/prisma/fieldseal/metadata.js';
import type { KmsEnvironment } from '../kms-env.js';
import type { RowValues } from '../rows.js';
import type { CacheSetting } from '../settings.js';
import { SqliteFile } from './sqlite-file.js';
import { type BenchTarget, NO_KMS, type TargetSession, tally } from './target.js';

// Hand-written DDL (Prisma's schema engine is not needed, see docs/testing.md).
const DDL = `
CREATE TABLE "SealedRow" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "name" TEXT NOT NULL, "email" TEXT NOT NULL,
  "ssn" TEXT, "note" TEXT, "dataKey" TEXT);
CREATE TABLE "PlainRow" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "name" TEXT NOT NULL, "email" TEXT NOT NULL,
  "ssn" TEXT, "note" TEXT);`;

/** The model delegate both tables share in shape (the encrypted one after the extension). */
interface RowDelegate {
  create(args: { data: RowValues; select: { id: true } }): PromiseLike<{ id: number }>;
  findUnique(args: {
    where: { id: number };
    select: { name: true; email: true; ssn: true; note: true };
  }): PromiseLike<RowValues | null>;
}

const SELECT = { name: true, email: true, ssn: true, note: true } as const;

/**
 * Prisma 7.10 on SQLite (better-sqlite3 driver adapter, a file in the temp directory), with
 * `@fieldseal/prisma`'s extension on the `SealedRow` model, or plain on `PlainRow`.
 */
export class PrismaTarget implements BenchTarget {
  readonly name: 'prisma' | 'plain-prisma';
  readonly title: string;
  readonly encrypted: boolean;
  readonly #file = new SqliteFile();
  readonly #env: KmsEnvironment;

  constructor(env: KmsEnvironment, { encrypted }: { encrypted: boolean }) {
    this.#env = env;
    this.encrypted = encrypted;
    this.name = encrypted ? 'prisma' : 'plain-prisma';
    this.title = encrypted
      ? 'Prisma 7.10 + @fieldseal/prisma (SQLite)'
      : 'Prisma 7.10, no encryption (SQLite)';
    this.#file.exec(DDL);
  }

  async open(setting: CacheSetting): Promise<TargetSession> {
    const client = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: `file:${this.#file.path}` }) });
    const run = this.encrypted ? this.#env.keyring(setting) : undefined;
    const rows = (run
      ? client.$extends(
          fieldEncryption({
            keyring: run.keyring,
            metadata: fieldEncryptionMetadata,
            // The start-up self-check makes KMS calls of its own; the bench counts the rows' calls.
            selfCheck: false,
          }),
        ).sealedRow
      : client.plainRow) as unknown as RowDelegate;
    return {
      insert: async (data) => (await rows.create({ data, select: { id: true } })).id,
      read: async (id) => {
        const row = await rows.findUnique({ where: { id }, select: SELECT });
        if (!row) throw new RangeError(`no row ${id}`);
        return row;
      },
      counts: run?.counts ?? (() => NO_KMS),
      cacheCounts: () => run?.cache?.stats(),
      close: async () => {
        run?.close();
        await client.$disconnect();
      },
    };
  }

  async lastId(): Promise<number> {
    const table = this.encrypted ? 'SealedRow' : 'PlainRow';
    return this.#file.all<{ id: number | null }>(`SELECT MAX("id") AS id FROM "${table}"`)[0]?.id ?? 0;
  }

  async rowsPerKey(afterId: number): Promise<number[] | undefined> {
    if (!this.encrypted) return undefined;
    const rows = this.#file.all<{ dataKey: string | null }>(
      'SELECT "dataKey" FROM "SealedRow" WHERE "id" > ?',
      afterId,
    );
    return tally(rows.map((row) => row.dataKey));
  }

  async dispose(): Promise<void> {
    this.#file.remove();
  }
}
