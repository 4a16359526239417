import { fieldEncryption } from '@fieldseal/typeorm';
import { DataSource, type Repository } from 'typeorm';
import type { KmsEnvironment } from '../kms-env.js';
import type { RowValues } from '../rows.js';
import type { CacheSetting } from '../settings.js';
import { SqliteFile } from './sqlite-file.js';
import { type BenchTarget, NO_KMS, type TargetSession, tally } from './target.js';
import { PlainRow, SealedRow } from './typeorm-entities.js';

type Row = RowValues & { id: number };

/**
 * TypeORM 1.1 on SQLite (better-sqlite3, a file in the temp directory), with
 * `@fieldseal/typeorm`'s `@Encrypted()` columns, or plain.
 */
export class TypeormTarget implements BenchTarget {
  readonly name: 'typeorm' | 'plain-typeorm';
  readonly title: string;
  readonly encrypted: boolean;
  readonly #file = new SqliteFile();
  readonly #env: KmsEnvironment;
  readonly #entity: typeof SealedRow | typeof PlainRow;

  constructor(env: KmsEnvironment, { encrypted }: { encrypted: boolean }) {
    this.#env = env;
    this.encrypted = encrypted;
    this.name = encrypted ? 'typeorm' : 'plain-typeorm';
    this.title = encrypted
      ? 'TypeORM 1.1 + @fieldseal/typeorm (SQLite)'
      : 'TypeORM 1.1, no encryption (SQLite)';
    this.#entity = encrypted ? SealedRow : PlainRow;
  }

  async open(setting: CacheSetting): Promise<TargetSession> {
    const dataSource = new DataSource({
      type: 'better-sqlite3',
      database: this.#file.path,
      entities: [this.#entity],
      synchronize: true,
    });
    await dataSource.initialize();
    const run = this.encrypted ? this.#env.keyring(setting) : undefined;
    if (run) await fieldEncryption(dataSource, { keyring: run.keyring });
    const repo = dataSource.getRepository(this.#entity) as unknown as Repository<Row>;
    return {
      insert: async (values) => (await repo.save(repo.create({ ...values }))).id,
      read: async (id) => {
        const row = await repo.findOneBy({ id });
        if (!row) throw new RangeError(`no row ${id}`);
        return { name: row.name, email: row.email, ssn: row.ssn, note: row.note };
      },
      counts: run?.counts ?? (() => NO_KMS),
      cacheCounts: () => run?.cache?.stats(),
      close: async () => {
        run?.close();
        await dataSource.destroy();
      },
    };
  }

  async lastId(): Promise<number> {
    const table = this.encrypted ? 'sealed_row' : 'plain_row';
    try {
      return this.#file.all<{ id: number | null }>(`SELECT MAX("id") AS id FROM "${table}"`)[0]?.id ?? 0;
    } catch {
      return 0; // not synchronized yet: no table, no rows
    }
  }

  async rowsPerKey(afterId: number): Promise<number[] | undefined> {
    if (!this.encrypted) return undefined;
    const rows = this.#file.all<{ dataKey: string | null }>(
      'SELECT "dataKey" FROM "sealed_row" WHERE "id" > ?',
      afterId,
    );
    return tally(rows.map((row) => row.dataKey));
  }

  async dispose(): Promise<void> {
    this.#file.remove();
  }
}
