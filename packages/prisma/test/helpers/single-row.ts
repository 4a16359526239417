import { BlindIndex } from '@fieldseal/core';
import { afterAll, beforeAll } from 'vitest';
import { type BaseClient, type DialectName, openDatabase, type TestDatabase } from './databases.js';
import { encrypted } from './fixture.js';
import { type LocalKms, startLocalKms } from './kms.js';

/**
 * What the single-row tests share (call inside a `describe`): a database, kms-local, a base
 * client whose statements are logged, and helpers to count statements and to race a change
 * against fieldseal's read of a row's data key.
 */
export function singleRowHarness(dialect: DialectName) {
  const log: string[] = [];
  let base: BaseClient;
  let blindIndexKey: string;
  const h = {
    db: undefined as unknown as TestDatabase,
    kms: undefined as unknown as LocalKms,
    /** The extended client (a fresh extension each call, over the logged base client). */
    client: () => encrypted(base, { keyring: h.kms.keyring, blindIndexKey }),
    /** A `User` row as stored (raw SQL), or undefined. */
    row: async (id: number) =>
      (await h.db.rows('User')).find((each) => each.id === id) as Record<string, unknown> | undefined,
    /** The kinds of statement `run` sends (Prisma's query log: COMMIT is logged, BEGIN is not). */
    kinds: async (run: () => Promise<unknown>) => {
      log.length = 0;
      await run();
      // MySQL's adapter logs its commit as a comment.
      return log.map((sql) =>
        sql.startsWith('-- Implicit "COMMIT"') ? 'COMMIT' : (/^\s*(\w+)/.exec(sql)?.[1] ?? sql).toUpperCase(),
      );
    },
    /** A client that runs `race` right after each of fieldseal's reads of a row's data key (up to `times` times). */
    racing: (race: () => Promise<unknown>, times = 1) => {
      let left = times;
      return h.client().$extends({
        query: {
          user: {
            async $allOperations({ operation, args, query }) {
              const result = await query(args);
              const select = (args as { select?: Record<string, unknown> }).select;
              if (left > 0 && (operation === 'findUnique' || operation === 'findMany') && select?.dataKey) {
                left--;
                await race();
              }
              return result;
            },
          },
        },
      });
    },
  };
  beforeAll(async () => {
    h.db = await openDatabase(dialect);
    h.kms = await startLocalKms();
    blindIndexKey = await BlindIndex.generateKey(h.kms.keyring);
    base = h.db.client({ log: [{ emit: 'event', level: 'query' }] });
    (base as unknown as { $on(event: 'query', f: (e: { query: string }) => void): void }).$on('query', (e) =>
      log.push(e.query),
    );
  });
  afterAll(async () => {
    await h.db?.drop();
    await h.kms?.close();
  });
  return h;
}
