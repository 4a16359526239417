/**
 * The row-key protocol (RowEnvelope.writeToRows) against a scripted in-memory port: every race
 * the adapters and the CLI meet, with the one outcome core gives them all.
 */
import { describe, expect, it } from 'vitest';
import {
  type DataKeyMaterial,
  DecryptionError,
  type GuardedRowWrite,
  type Keyring,
  parseDataKey,
  RowEnvelope,
  type RowKeyPort,
  type RowKeyRead,
  rewrapRowDataKey,
  WriteConflictError,
  wrappedPartOf,
} from '../src/index.js';
import { expectRejects, randomKeyring } from './helpers.js';

interface StoredRow {
  dataKey: string | null;
  values: Record<string, string | Uint8Array | null>;
}

/** A table in memory whose port can run a scripted event between the read and the write. */
class ScriptedTable implements RowKeyPort<number> {
  readonly rows = new Map<number, StoredRow>();
  writes = 0;
  reads = 0;
  /** Runs before each `write` call, with the pass number (1 = first). */
  beforeWrite: (pass: number) => Promise<void> | void = () => {};

  async readKeys(ids?: readonly number[]): Promise<readonly RowKeyRead<number>[]> {
    this.reads++;
    const wanted = ids ?? [...this.rows.keys()];
    return wanted
      .filter((id) => this.rows.has(id))
      .map((id) => ({ id, dataKey: this.rows.get(id)?.dataKey ?? null }));
  }

  async write(writes: readonly GuardedRowWrite<number>[]): Promise<readonly boolean[]> {
    await this.beforeWrite(++this.writes);
    return writes.map((w) => {
      const row = this.rows.get(w.id);
      if (!row) return false;
      const column = row.dataKey;
      const hit =
        w.guard.kind === 'absent'
          ? column === null
          : w.guard.kind === 'exact'
            ? column === w.guard.text
            : column !== null && column.slice(0, w.guard.prefix.length) === w.guard.prefix;
      if (!hit) return false;
      Object.assign(row.values, w.values);
      if (w.dataKey !== undefined) row.dataKey = w.dataKey;
      return true;
    });
  }
}

const keyring = randomKeyring('k1', 'k2');

/** Serves one data key for every row, as a data-key cache does within its bounds. */
function sharingKeyring(inner: Keyring, onDecrypt: () => void = () => {}): Keyring {
  let shared: Promise<DataKeyMaterial> | undefined;
  return {
    name: `sharing(${inner.name})`,
    generateDataKey: (context, hint) => {
      shared ??= inner.generateDataKey(context, hint);
      return shared;
    },
    decryptDataKey: (key, context) => {
      onDecrypt();
      return inner.decryptDataKey(key, context);
    },
  };
}
const envelope = new RowEnvelope({ keyring });

async function insert(table: ScriptedTable, id: number, email: string, through = envelope): Promise<void> {
  const row = await through.encryptRow({ table: 'User', values: { email } });
  table.rows.set(id, { dataKey: row.dataKey, values: { ...row.values } as StoredRow['values'] });
}

async function read(table: ScriptedTable, id: number, through = envelope): Promise<unknown> {
  const row = table.rows.get(id) as StoredRow;
  return (await through.decryptRow({ table: 'User', values: row.values, dataKey: row.dataKey, rowId: id }))
    .email;
}

/** Rotation of one row: the same data key re-wrapped under k2, the row salt kept. */
async function rotate(table: ScriptedTable, id: number): Promise<void> {
  const row = table.rows.get(id) as StoredRow;
  const stored = parseDataKey(row.dataKey);
  const rewrapped = await keyring.reEncryptDataKey(stored.encryptedKey, envelope.contextFor('User'), {
    destinationKeyId: 'k2',
  });
  row.dataKey = rewrapRowDataKey(stored, rewrapped);
}

const write = (table: ScriptedTable, email: string, extra: object = {}) =>
  envelope.writeToRows({ table: 'User', values: { email }, port: table, idOf: (id) => id, ...extra });

describe('writeToRows: the row-key protocol', () => {
  it('writes every row under its own data key and reports each as written', async () => {
    const table = new ScriptedTable();
    for (const id of [1, 2, 3]) await insert(table, id, `old${id}`);
    const result = await write(table, 'new');
    expect(result).toEqual({ written: [1, 2, 3], vanished: [] });
    for (const id of [1, 2, 3]) expect(await read(table, id)).toBe('new');
  });

  it('a rotation between the read and the write loses no write: the guard is the key identity rotation keeps', async () => {
    const table = new ScriptedTable();
    for (const id of [1, 2, 3]) await insert(table, id, 'old');
    table.beforeWrite = async (pass) => {
      if (pass === 1) for (const id of [1, 2, 3]) await rotate(table, id);
    };
    const result = await write(table, 'new');
    expect(result.written).toEqual([1, 2, 3]);
    expect(table.writes).toBe(1); // no retry was needed
    for (const id of [1, 2, 3]) {
      expect(await read(table, id)).toBe('new');
      expect(parseDataKey(table.rows.get(id)?.dataKey).keyId).toBe('k2');
    }
  });

  it('a delete and re-insert of the same id between read and write: retried under the new row key, never written under the old one', async () => {
    const table = new ScriptedTable();
    await insert(table, 1, 'old');
    const before = table.rows.get(1)?.dataKey;
    table.beforeWrite = async (pass) => {
      if (pass === 1) {
        table.rows.delete(1);
        await insert(table, 1, 'reinserted');
      }
    };
    const result = await write(table, 'new');
    expect(result.written).toEqual([1]);
    expect(table.writes).toBe(2);
    expect(table.rows.get(1)?.dataKey).not.toBe(before);
    expect(await read(table, 1)).toBe('new');
  });

  it('a row deleted between read and write is reported as vanished, not written', async () => {
    const table = new ScriptedTable();
    for (const id of [1, 2]) await insert(table, id, 'old');
    table.beforeWrite = (pass) => {
      if (pass === 1) table.rows.delete(2);
    };
    expect(await write(table, 'new')).toEqual({ written: [1], vanished: [2] });
  });

  it('a legacy row (no data key) claimed by another writer between read and write: retried under the claimed key', async () => {
    const table = new ScriptedTable();
    table.rows.set(1, { dataKey: null, values: { email: 'legacy plaintext' } });
    table.beforeWrite = async (pass) => {
      if (pass === 1) {
        const other = await envelope.encryptForRow({
          table: 'User',
          values: { email: 'theirs' },
          dataKey: null,
        });
        table.rows.set(1, { dataKey: other.dataKey, values: { ...other.values } as StoredRow['values'] });
      }
    };
    const result = await write(table, 'mine');
    expect(result.written).toEqual([1]);
    expect(await read(table, 1)).toBe('mine');
  });

  it('a legacy row gets a new data key in the same write as its value', async () => {
    const table = new ScriptedTable();
    table.rows.set(1, { dataKey: null, values: { email: 'legacy' } });
    await write(table, 'now encrypted');
    expect(table.rows.get(1)?.dataKey).toMatch(/^fsk2:/);
    expect(await read(table, 1)).toBe('now encrypted');
  });

  it('gives up with WriteConflictError after maxAttempts passes, naming the table and first row', async () => {
    const table = new ScriptedTable();
    await insert(table, 7, 'old');
    table.beforeWrite = async () => {
      table.rows.delete(7);
      await insert(table, 7, 'again');
    };
    const error = await expectRejects(
      write(table, 'new', { maxAttempts: 2 }),
      WriteConflictError,
      'write-conflict',
    );
    expect(error.location).toEqual({ table: 'User', rowId: 7 });
    expect(table.writes).toBe(2);
  });

  it('known keys skip the first read (a loaded entity), and a stale known key is re-read and retried', async () => {
    const table = new ScriptedTable();
    await insert(table, 1, 'old');
    const stale = table.rows.get(1)?.dataKey ?? null;
    table.rows.delete(1);
    await insert(table, 1, 'reinserted');
    const result = await write(table, 'new', { known: [{ id: 1, dataKey: stale }] });
    expect(result.written).toEqual([1]);
    expect(table.reads).toBe(1); // only the re-read after the miss
    expect(await read(table, 1)).toBe('new');
  });

  it('a v1 row is upgraded to a v2 data-key column by its next write; its untouched v1 values stay readable', async () => {
    const table = new ScriptedTable();
    const v1 = await legacyV1Row();
    table.rows.set(1, v1);
    const result = await envelope.writeToRows({
      table: 'User',
      values: { email: 'new' },
      port: table,
      idOf: (id) => id,
    });
    expect(result.written).toEqual([1]);
    const row = table.rows.get(1) as StoredRow;
    expect(row.dataKey).toMatch(/^fsk2:/);
    expect(wrappedPartOf(row.dataKey as string)).toBe(wrappedPartOf(v1Text));
    expect(row.values.email).toMatch(/^fs2:/);
    expect(row.values.name).toMatch(/^fs1:/);
    const plain = await envelope.decryptRow({ table: 'User', values: row.values, dataKey: row.dataKey });
    expect(plain).toEqual({ email: 'new', name: 'v1 name' });
  });
});

let v1Text = '';
/** A row as fieldseal 0.1 wrote it: fsk1 column and fs1 values. */
async function legacyV1Row(): Promise<StoredRow> {
  const { deriveDataKey, encryptValue, formatDataKey } = await import('../src/index.js');
  const material = await keyring.generateDataKey(envelope.contextFor('User'));
  const key = deriveDataKey(material.plaintextKey);
  v1Text = formatDataKey(material);
  return {
    dataKey: v1Text,
    values: {
      email: encryptValue(key, { table: 'User', column: 'email' }, 'v1 email') as string,
      name: encryptValue(key, { table: 'User', column: 'name' }, 'v1 name') as string,
    },
  };
}

describe('format v2 binds each value to its row', () => {
  it('two rows sharing one cached data key: a value swapped between them fails with wrong-data-key', async () => {
    const cached = new RowEnvelope({ keyring: sharingKeyring(keyring) });
    const a = await cached.encryptRow({ table: 'User', values: { iban: 'DE-alice' } });
    const b = await cached.encryptRow({ table: 'User', values: { iban: 'DE-mallory' } });
    expect(wrappedPartOf(a.dataKey)).toBe(wrappedPartOf(b.dataKey)); // one data key, as the cache intends
    const error = await expectRejects(
      cached.decryptRow({ table: 'User', values: { iban: b.values.iban }, dataKey: a.dataKey, rowId: 1 }),
      DecryptionError,
      'wrong-data-key',
    );
    expect(error.message).not.toContain('mallory');
    expect(error.location).toEqual({ table: 'User', column: 'iban', rowId: 1 });
  });

  it('with acceptV1Values: false, a v1 value is refused even under its own key (no downgrade)', async () => {
    const strict = new RowEnvelope({ keyring, acceptV1Values: false });
    const row = await legacyV1Row();
    await expectRejects(
      strict.decryptRow({ table: 'User', values: row.values, dataKey: row.dataKey }),
      DecryptionError,
      'wrong-data-key',
    );
    expect(
      (await envelope.decryptRow({ table: 'User', values: row.values, dataKey: row.dataKey })).email,
    ).toBe('v1 email');
  });

  it('a v2 value in a row whose data-key column is v1 (no salt) is wrong-data-key', async () => {
    const row = await envelope.encryptRow({ table: 'User', values: { email: 'x' } });
    const v1 = await legacyV1Row();
    await expectRejects(
      envelope.decryptRow({ table: 'User', values: row.values, dataKey: v1.dataKey }),
      DecryptionError,
      'wrong-data-key',
    );
  });

  it('rows written together share one keyring call on read (grouped by wrapped key, not by column text)', async () => {
    const writer = new RowEnvelope({ keyring: sharingKeyring(keyring) });
    const rows = [];
    for (let i = 0; i < 10; i++)
      rows.push(await writer.encryptRow({ table: 'User', values: { email: `u${i}` } }));
    expect(new Set(rows.map((r) => r.dataKey)).size).toBe(10); // ten salts
    let calls = 0;
    const reader = new RowEnvelope({ keyring: sharingKeyring(keyring, () => calls++) });
    const out = await reader.decryptRows(
      rows.map((r) => ({ table: 'User', values: r.values, dataKey: r.dataKey })),
    );
    expect(out.map((r) => r.email)).toEqual(rows.map((_, i) => `u${i}`));
    expect(calls).toBe(1);
  });
});
