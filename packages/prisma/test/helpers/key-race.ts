import { parseDataKey, RowEnvelope, rewrapRowDataKey } from '@fieldseal/core';
import { expect } from 'vitest';
import type { TestDatabase } from './databases.js';
import { type EncryptedClient, keyring } from './fixture.js';

/** A row as fieldseal reads it for its data key. */
export type KeyRead = { id: number; dataKey: string };

type Tx = { $executeRawUnsafe(sql: string): Promise<number> };
type Transactional = { $transaction<T>(work: (tx: unknown) => Promise<T>): Promise<T> };

/**
 * Races a change of rows (a re-wrap as `fieldseal rotate` makes, a delete) against a write, right
 * after fieldseal's read of the rows' data keys: the hook sees that read (it selects `dataKey`
 * and filters by a parent, `is`). The change is made from another connection, except inside an
 * app transaction on SQLite (one writer at a time), where it goes through that transaction.
 */
export function keyRace(db: TestDatabase, prisma: EncryptedClient) {
  let tx: Tx | undefined;
  const execute = (sql: string) => (tx ? tx.$executeRawUnsafe(sql).then(() => {}) : db.execute(sql));

  /** Re-wraps a row's data key as `fieldseal rotate` does: same key and salt, new column text. */
  const rewrap = async (table: string, row: KeyRead): Promise<string> => {
    const stored = parseDataKey(row.dataKey);
    const context = new RowEnvelope({ keyring }).contextFor(table);
    const rewrapped = await keyring.reEncryptDataKey(stored.encryptedKey, context, {
      destinationKeyId: stored.keyId,
    });
    const text = rewrapRowDataKey(stored, rewrapped);
    expect(text).not.toBe(row.dataKey);
    await execute(`UPDATE ${db.t(table)} SET ${db.q('dataKey')} = '${text}' WHERE ${db.q('id')} = ${row.id}`);
    return text;
  };

  /**
   * The client with a hook on key reads of `table`. `change` runs on the rows each read returned,
   * `times` times at most; `reReads`: also on the protocol's re-reads of missed rows (by id).
   * (On MariaDB a missed guarded UPDATE keeps its row lock under REPEATABLE READ, so a change
   * from another connection there would wait for the transaction: first reads only.)
   */
  const racing = (
    table: string,
    change: (rows: KeyRead[]) => Promise<unknown>,
    options: { times: number; reReads?: boolean },
  ) => {
    let left = options.times;
    return prisma.$extends({
      query: {
        $allModels: {
          async $allOperations({ model, args, query }) {
            const result = await query(args);
            const { select, where } = args as { select?: Record<string, unknown>; where?: unknown };
            const text = JSON.stringify(where ?? {});
            const reRead = text.includes('"in":');
            if (model === table && select?.dataKey && text.includes('"is":') && left > 0)
              if (!reRead || (options.reReads && db.dialect !== 'mysql')) {
                left--;
                await change((Array.isArray(result) ? result : [result]) as KeyRead[]);
              }
            return result;
          },
        },
      },
    });
  };

  /** Runs `work` as the app would: in its interactive transaction with `appTransaction` (always on SQLite). */
  const run = async <C, T>(client: C, work: (c: C) => Promise<T>, appTransaction = false): Promise<T> => {
    if (!appTransaction && db.dialect !== 'sqlite') return work(client);
    return (client as unknown as Transactional).$transaction(async (t) => {
      if (db.dialect === 'sqlite') tx = t as Tx;
      try {
        return await work(t as C);
      } finally {
        tx = undefined;
      }
    });
  };

  return { execute, rewrap, racing, run };
}
