import { RowEnvelope } from '@fieldseal/core';
import type { KmsEnvironment } from '../kms-env.js';
import { type RowValues, TABLE } from '../rows.js';
import type { CacheSetting } from '../settings.js';
import { type BenchTarget, type TargetSession, tally } from './target.js';

interface StoredRow {
  readonly name: string;
  readonly values: Record<string, string | Uint8Array | null | undefined>;
  readonly dataKey: string;
}

/**
 * The core `RowEnvelope` with rows kept in memory: what fieldseal costs with no ORM or database
 * in the way, so the cache and KMS dominate.
 */
export class CoreTarget implements BenchTarget {
  readonly name = 'core';
  readonly title = '@fieldseal/core RowEnvelope (in memory)';
  readonly encrypted = true;
  readonly #rows = new Map<number, StoredRow>();
  readonly #env: KmsEnvironment;

  constructor(env: KmsEnvironment) {
    this.#env = env;
  }

  async open(setting: CacheSetting): Promise<TargetSession> {
    const run = this.#env.keyring(setting);
    const envelope = new RowEnvelope({ keyring: run.keyring });
    const rows = this.#rows;
    return {
      insert: async ({ name, ...secret }: RowValues) => {
        const { values, dataKey } = await envelope.encryptRow({ table: TABLE, values: secret });
        const id = rows.size + 1;
        rows.set(id, { name, values, dataKey });
        return id;
      },
      read: async (id) => {
        const row = rows.get(id);
        if (!row) throw new RangeError(`no row ${id}`);
        const plain = await envelope.decryptRow({ table: TABLE, values: row.values, dataKey: row.dataKey });
        return { name: row.name, ...(plain as Omit<RowValues, 'name'>) };
      },
      counts: run.counts,
      cacheCounts: () => run.cache?.stats(),
      close: async () => run.close(),
    };
  }

  async lastId(): Promise<number> {
    return this.#rows.size;
  }

  async rowsPerKey(afterId: number): Promise<number[]> {
    return tally([...this.#rows].filter(([id]) => id > afterId).map(([, row]) => row.dataKey));
  }

  async dispose(): Promise<void> {
    this.#rows.clear();
  }
}
