import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  type DataKeyMaterial,
  DecryptionError,
  type DecryptRowInput,
  type EncryptionContext,
  type Keyring,
  KeyringError,
  RowEnvelope,
  wipeDataKey,
} from '../src/index.js';
import { expectError, randomKeyring, rejectionOf } from './helpers.js';

/** Hands back one plaintext key object per wrapped key, as a cache does on hits, and can wipe it. */
class HittingKeyring implements Keyring {
  readonly name: string;
  readonly keys = new Map<string, Uint8Array>();
  #material: Promise<DataKeyMaterial> | undefined;
  constructor(readonly inner: Keyring) {
    this.name = inner.name;
  }
  /** One data key for every row, as a cache gives within its bounds (each row still gets its own salt). */
  generateDataKey(context: EncryptionContext): Promise<DataKeyMaterial> {
    this.#material ??= this.inner.generateDataKey(context);
    return this.#material;
  }
  async decryptDataKey(encryptedKey: Uint8Array, context: EncryptionContext): Promise<Uint8Array> {
    const id = Buffer.from(encryptedKey).toString('hex');
    let key = this.keys.get(id);
    if (!key) {
      key = await this.inner.decryptDataKey(encryptedKey, context);
      this.keys.set(id, key);
    }
    return key;
  }
}

async function sharedKeyRows(envelope: RowEnvelope): Promise<DecryptRowInput[]> {
  const first = await envelope.encryptRow({ table: 'User', values: { email: 'a@example.com' }, rowId: 1 });
  // A second row under the same data key (as a cache would give), with its own salt.
  const second = await envelope.encryptRow({ table: 'User', values: { email: 'b@example.com' }, rowId: 2 });
  expect(second.dataKey.slice(28)).toBe(first.dataKey.slice(28));
  expect(second.dataKey.slice(0, 28)).not.toBe(first.dataKey.slice(0, 28));
  return [
    { table: 'User', values: first.values, dataKey: first.dataKey, rowId: 1 },
    { table: 'User', values: second.values, dataKey: second.dataKey, rowId: 2 },
  ];
}

describe('remembered row keys (read, then update, of one row derive its key once)', () => {
  it('repeated reads and an update of one row round-trip, and the update stays guarded on the row', async () => {
    const envelope = new RowEnvelope({ keyring: new HittingKeyring(randomKeyring()) });
    const [row] = (await sharedKeyRows(envelope)) as [DecryptRowInput];
    for (let i = 0; i < 3; i++) expect((await envelope.decryptRow(row)).email).toBe('a@example.com');
    const update = await envelope.encryptForRow({
      table: 'User',
      values: { email: 'new@example.com' },
      dataKey: row.dataKey,
      rowId: 1,
    });
    expect(update.guard).toEqual({ kind: 'prefix', prefix: (row.dataKey as string).slice(0, 28) });
    const read = await envelope.decryptRow({ ...row, values: update.values });
    expect(read.email).toBe('new@example.com');
  });

  it('a value copied between two rows whose keys are both remembered still fails (wrong-data-key)', async () => {
    const envelope = new RowEnvelope({ keyring: new HittingKeyring(randomKeyring()) });
    const [a, b] = (await sharedKeyRows(envelope)) as [DecryptRowInput, DecryptRowInput];
    await envelope.decryptRow(a);
    await envelope.decryptRow(b);
    const moved = { ...b, values: a.values, rowId: 2 };
    expectError(await rejectionOf(envelope.decryptRow(moved)), DecryptionError, 'wrong-data-key');
    // And the same through the one-row batch path.
    expectError(await rejectionOf(envelope.decryptRows([moved])), DecryptionError, 'wrong-data-key');
  });

  it('once the data key is wiped (evicted), a remembered row key is refused (reads and updates of that row)', async () => {
    const keyring = new HittingKeyring(randomKeyring());
    const envelope = new RowEnvelope({ keyring });
    const [row] = (await sharedKeyRows(envelope)) as [DecryptRowInput];
    await envelope.decryptRow(row);
    const [plaintextKey] = [...keyring.keys.values()] as [Uint8Array];
    wipeDataKey(plaintextKey);
    expectError(await rejectionOf(envelope.decryptRow(row)), KeyringError, 'invalid-key-material');
    expectError(
      await rejectionOf(
        envelope.encryptForRow({
          table: 'User',
          values: { email: 'x@example.com' },
          dataKey: row.dataKey,
          rowId: 1,
        }),
      ),
      KeyringError,
      'invalid-key-material',
    );
  });

  it('many rows (past the memo bound) under one data key all decrypt to their own values', async () => {
    const envelope = new RowEnvelope({ keyring: new HittingKeyring(randomKeyring()) });
    const rows: DecryptRowInput[] = [];
    for (let i = 0; i < 700; i++) {
      const w = await envelope.encryptRow({
        table: 'User',
        values: { email: `row${i}-${randomBytes(2).toString('hex')}` },
        rowId: i,
      });
      rows.push({ table: 'User', values: w.values, dataKey: w.dataKey, rowId: i });
    }
    for (const row of [...rows, ...rows.slice(0, 50)]) {
      const out = await envelope.decryptRow(row);
      expect(out.email).toMatch(new RegExp(`^row${row.rowId}-`));
    }
  });
});

describe('decryptRows of one row (the fast path) fails like decryptRow', () => {
  it('missing data key, strict plaintext and a keyring failure are the same typed errors', async () => {
    const keyring = randomKeyring();
    const envelope = new RowEnvelope({ keyring });
    const row = await envelope.encryptRow({ table: 'User', values: { email: 'a@example.com' }, rowId: 7 });
    const input = { table: 'User', values: row.values, dataKey: row.dataKey, rowId: 7 };
    const lost = expectError(
      await rejectionOf(envelope.decryptRows([{ ...input, dataKey: null }])),
      DecryptionError,
      'missing-data-key',
    );
    expect(lost.location).toEqual({ table: 'User', rowId: 7 });
    expectError(
      await rejectionOf(envelope.decryptRows([{ ...input, values: { email: 'plain@example.com' } }])),
      DecryptionError,
      'plaintext-in-strict-mode',
    );
    const other = new RowEnvelope({ keyring: randomKeyring() });
    const failed = await rejectionOf(other.decryptRows([input]));
    expect(failed).toBeInstanceOf(KeyringError);
    expect((failed as KeyringError).location).toEqual({ table: 'User', rowId: 7 });
    expect(await envelope.decryptRows([input])).toEqual([{ email: 'a@example.com' }]);
  });

  it('a keyring that throws synchronously is reported as a KeyringError naming the row', async () => {
    const keyring = randomKeyring();
    const envelope = new RowEnvelope({ keyring });
    const row = await envelope.encryptRow({ table: 'User', values: { email: 'a@example.com' }, rowId: 3 });
    const throwing = new RowEnvelope({
      keyring: {
        name: keyring.name,
        generateDataKey: (c) => keyring.generateDataKey(c),
        decryptDataKey: () => {
          throw new Error('socket closed');
        },
      },
    });
    const failed = expectError(
      await rejectionOf(
        throwing.decryptRow({ table: 'User', values: row.values, dataKey: row.dataKey, rowId: 3 }),
      ),
      KeyringError,
      'unavailable',
    );
    expect(failed.location).toEqual({ table: 'User', rowId: 3 });
  });
});

describe('row-bound values encrypted for alternating rows (the AAD remembers the last row id)', () => {
  it('each value opens only for its own row id, whatever the order rows were written and read in', async () => {
    const envelope = new RowEnvelope({ keyring: new HittingKeyring(randomKeyring()) });
    const ids = [1, 12, 1, 2, 12, 21];
    const rows: DecryptRowInput[] = [];
    for (const [i, rowId] of ids.entries()) {
      const w = await envelope.encryptRow({ table: 'User', values: { a: `v${i}`, b: `w${i}` }, rowId });
      rows.push({ table: 'User', values: w.values, dataKey: w.dataKey, rowId });
    }
    for (const [i, row] of [...rows.entries()].reverse())
      expect(await envelope.decryptRow(row)).toEqual({ a: `v${i}`, b: `w${i}` });
    // The same values presented under a neighbour's id (data key included) fail authentication.
    for (const [i, row] of rows.entries()) {
      const other = ids[(i + 1) % ids.length] as number;
      if (other === row.rowId) continue;
      expectError(
        await rejectionOf(envelope.decryptRow({ ...row, rowId: other })),
        DecryptionError,
        'authentication-failed',
      );
    }
  });
});
