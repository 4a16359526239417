import type { SqlExecutor } from '@fieldseal/core';
import { describe, expect, it } from 'vitest';
import { isTransientDatabaseError, retryingExecutor } from '../src/transient.js';

/** An executor whose statements fail with `failures` (in order) before they succeed. */
function flaky(failures: unknown[]) {
  const calls: string[] = [];
  const executor: SqlExecutor = {
    dialect: 'sqlite',
    query: async (sql) => {
      calls.push(sql);
      const next = failures.shift();
      if (next) throw next;
      return [{ ok: 1 }] as never[];
    },
    execute: async (sql) => {
      calls.push(sql);
      const next = failures.shift();
      if (next) throw next;
      return 1;
    },
    transaction: async (fn) => fn(executor),
  };
  return { executor, calls };
}

const busy = () => new Error('Raw query failed. Code: `SQLITE_BUSY`. Message: `database is locked`');

describe('transient database errors', () => {
  it('recognises busy, lock, deadlock and serialization failures on every dialect, also as a cause', () => {
    expect(isTransientDatabaseError(busy())).toBe(true);
    expect(isTransientDatabaseError(Object.assign(new Error('x'), { code: '40P01' }))).toBe(true);
    expect(isTransientDatabaseError(new Error('could not serialize access due to concurrent update'))).toBe(
      true,
    );
    expect(isTransientDatabaseError(Object.assign(new Error('x'), { errno: 1213 }))).toBe(true);
    expect(
      isTransientDatabaseError(new Error('wrapped', { cause: new Error('Lock wait timeout exceeded') })),
    ).toBe(true);
    expect(isTransientDatabaseError(new Error('relation "customers" does not exist'))).toBe(false);
    expect(isTransientDatabaseError(Object.assign(new Error('x'), { code: '23505' }))).toBe(false);
  });

  it('runs a statement again after a transient failure, and gives up after the attempts allowed', async () => {
    const ok = flaky([busy(), busy()]);
    expect(await retryingExecutor(ok.executor, { baseDelayMs: 1 }).execute('UPDATE t SET a = 1')).toBe(1);
    expect(ok.calls).toHaveLength(3);
    const never = flaky([busy(), busy(), busy()]);
    await expect(
      retryingExecutor(never.executor, { attempts: 3, baseDelayMs: 1 }).query('SELECT 1'),
    ).rejects.toThrow(/SQLITE_BUSY/);
    expect(never.calls).toHaveLength(3);
  });

  it('does not retry an error that is not transient', async () => {
    const bad = flaky([new Error('syntax error near SELEC')]);
    await expect(retryingExecutor(bad.executor, { baseDelayMs: 1 }).query('SELEC 1')).rejects.toThrow(
      /syntax/,
    );
    expect(bad.calls).toHaveLength(1);
  });

  it('retries a transaction as a whole, never a statement inside it on its own', async () => {
    const inner = flaky([undefined, busy()]);
    const executor = retryingExecutor(inner.executor, { baseDelayMs: 1 });
    let runs = 0;
    await executor.transaction(async (tx) => {
      runs++;
      await tx.execute('UPDATE a SET x = 1');
      await tx.execute('UPDATE b SET y = 1');
    });
    expect(runs).toBe(2);
    expect(inner.calls).toEqual([
      'UPDATE a SET x = 1',
      'UPDATE b SET y = 1',
      'UPDATE a SET x = 1',
      'UPDATE b SET y = 1',
    ]);
  });
});
