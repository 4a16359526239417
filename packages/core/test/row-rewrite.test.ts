/**
 * The rewrite protocol (rewriteRows) against a scripted in-memory table: the races a bulk job
 * meets beside a live app (a row changed, deleted, finished by someone else, or changing on
 * every pass), each with the one outcome core gives every job.
 */
import { describe, expect, it } from 'vitest';
import { type RowRewritePort, rewriteRows } from '../src/index.js';

interface Row {
  id: number;
  value: string;
}
interface Write {
  id: number;
  set: string;
  /** The content the write was planned from. */
  guard: string;
}

/** A table whose rows need "sealing" (`plain` → `sealed(plain)`); events run before each write call. */
class ScriptedTable implements RowRewritePort<number, Row, Write> {
  readonly rows = new Map<number, string>();
  plans = 0;
  writeCalls = 0;
  rereads: number[][] = [];
  beforeWrite: (pass: number) => void = () => {};

  constructor(count: number) {
    for (let id = 1; id <= count; id++) this.rows.set(id, `v${id}`);
  }

  read(): Row[] {
    return [...this.rows].map(([id, value]) => ({ id, value }));
  }

  async plan(rows: readonly Row[]): Promise<readonly Write[]> {
    this.plans++;
    return rows
      .filter((row) => !row.value.startsWith('sealed('))
      .map((row) => ({ id: row.id, set: `sealed(${row.value})`, guard: row.value }));
  }

  async write(writes: readonly Write[]): Promise<readonly boolean[]> {
    this.beforeWrite(++this.writeCalls);
    return writes.map((w) => {
      if (this.rows.get(w.id) !== w.guard) return false;
      this.rows.set(w.id, w.set);
      return true;
    });
  }

  async reread(ids: readonly number[]): Promise<readonly Row[]> {
    this.rereads.push([...ids]);
    return ids.filter((id) => this.rows.has(id)).map((id) => ({ id, value: this.rows.get(id) as string }));
  }
}

const idOf = (w: Write) => w.id;

describe('rewriteRows', () => {
  it('writes every planned row in one pass when nothing races it', async () => {
    const table = new ScriptedTable(5);
    const result = await rewriteRows({ rows: table.read(), port: table, idOf });
    expect(result.written.map(idOf)).toEqual([1, 2, 3, 4, 5]);
    expect(result).toMatchObject({ conflicts: [], misses: 0 });
    expect(table.writeCalls).toBe(1);
    expect(table.rereads).toEqual([]);
    expect([...table.rows.values()]).toEqual([
      'sealed(v1)',
      'sealed(v2)',
      'sealed(v3)',
      'sealed(v4)',
      'sealed(v5)',
    ]);
  });

  it('re-plans a row the app changed between read and write from its new content', async () => {
    const table = new ScriptedTable(3);
    const rows = table.read();
    table.beforeWrite = (pass) => {
      if (pass === 1) table.rows.set(2, 'changed by the app');
    };
    const result = await rewriteRows({ rows, port: table, idOf });
    // Sealed from what the row holds now, never from the stale read (that would lose the app's write).
    expect(table.rows.get(2)).toBe('sealed(changed by the app)');
    expect(result.written.map(idOf).sort()).toEqual([1, 2, 3]);
    expect(result).toMatchObject({ conflicts: [], misses: 1 });
    expect(table.rereads).toEqual([[2]]);
  });

  it('drops a row deleted between read and write: neither written nor a conflict', async () => {
    const table = new ScriptedTable(3);
    const rows = table.read();
    table.beforeWrite = (pass) => {
      if (pass === 1) table.rows.delete(3);
    };
    const result = await rewriteRows({ rows, port: table, idOf });
    expect(result.written.map(idOf)).toEqual([1, 2]);
    expect(result).toMatchObject({ conflicts: [], misses: 1 });
    expect(table.rows.has(3)).toBe(false);
  });

  it('leaves alone a row someone else finished meanwhile (re-planned to no write)', async () => {
    const table = new ScriptedTable(2);
    const rows = table.read();
    table.beforeWrite = (pass) => {
      if (pass === 1) table.rows.set(1, 'sealed(by another worker)');
    };
    const result = await rewriteRows({ rows, port: table, idOf });
    expect(table.rows.get(1)).toBe('sealed(by another worker)');
    expect(result.written.map(idOf)).toEqual([2]);
    expect(table.writeCalls).toBe(1);
  });

  it('reports a row that changes before every write as a conflict after maxAttempts, unwritten', async () => {
    const table = new ScriptedTable(3);
    const rows = table.read();
    table.beforeWrite = (pass) => table.rows.set(1, `edit ${pass}`);
    const result = await rewriteRows({ rows, port: table, idOf, maxAttempts: 4 });
    expect(result.conflicts).toEqual([1]);
    expect(result.misses).toBe(4);
    expect(table.writeCalls).toBe(4);
    expect(table.rows.get(1)).toBe('edit 4'); // the app's last write, not ours
    expect(result.written.map(idOf).sort()).toEqual([2, 3]);
  });

  it('uses writes planned beforehand (outside a transaction) and plans only re-read rows', async () => {
    const table = new ScriptedTable(3);
    const rows = table.read();
    const planned = await table.plan(rows);
    table.plans = 0;
    table.beforeWrite = (pass) => {
      if (pass === 1) table.rows.set(3, 'late');
    };
    const result = await rewriteRows({ rows, planned, port: table, idOf });
    expect(table.plans).toBe(1); // the re-plan of row 3 only
    expect(table.rows.get(3)).toBe('sealed(late)');
    expect(result.written).toHaveLength(3);
  });

  it('writes nothing when planning throws (a keyring outage stops the job)', async () => {
    const table = new ScriptedTable(2);
    const port: RowRewritePort<number, Row, Write> = {
      plan: async () => {
        throw new Error('KMS unavailable');
      },
      write: (w) => table.write(w),
      reread: (ids) => table.reread(ids),
    };
    await expect(rewriteRows({ rows: table.read(), port, idOf })).rejects.toThrow('KMS unavailable');
    expect(table.writeCalls).toBe(0);
  });

  it('refuses a port that answers the wrong number of results', async () => {
    const table = new ScriptedTable(2);
    const port: RowRewritePort<number, Row, Write> = {
      plan: (rows) => table.plan(rows),
      write: async () => [true],
      reread: (ids) => table.reread(ids),
    };
    await expect(rewriteRows({ rows: table.read(), port, idOf })).rejects.toThrow(/1 results for 2 writes/);
  });
});
