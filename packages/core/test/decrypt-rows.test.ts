import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecryptionError, type DecryptRowInput, KeyringError, RowEnvelope } from '../src/index.js';
import { CountingKeyring, expectError, randomKeyring, rejectionOf } from './helpers.js';

const keyring = randomKeyring('k1');

/** Rows written as a cache would write them: `perKey` rows share each data key. */
async function writeRows(envelope: RowEnvelope, count: number, perKey: number, table = 'User') {
  const rows: DecryptRowInput[] = [];
  let dataKey: string | undefined;
  for (let i = 0; i < count; i++) {
    const values = { email: `user${i}@example.com`, note: i % 3 === 0 ? null : `note ${i}` };
    const sealed =
      i % perKey === 0 || dataKey === undefined
        ? await envelope.encryptRow({ table, values })
        : await envelope.encryptForRow({ table, values, dataKey });
    dataKey = sealed.dataKey;
    rows.push({ table, values: sealed.values, dataKey: sealed.dataKey, rowId: i });
  }
  return rows;
}

describe('decryptRows', () => {
  it('returns what decryptRow returns for each row, in input order', async () => {
    const envelope = new RowEnvelope({ keyring });
    const rows = await writeRows(envelope, 25, 4);
    const batch = await envelope.decryptRows(rows);
    const one = await Promise.all(rows.map((row) => envelope.decryptRow(row)));
    expect(batch).toEqual(one);
    expect(batch[7]).toEqual({ email: 'user7@example.com', note: 'note 7' });
    expect(batch[9]).toEqual({ email: 'user9@example.com', note: null });
  });

  it('asks the keyring once per distinct data key, not once per row', async () => {
    const writer = new RowEnvelope({ keyring });
    const rows = await writeRows(writer, 40, 10);
    const counting = new CountingKeyring(keyring);
    await new RowEnvelope({ keyring: counting }).decryptRows(rows);
    expect(counting.decrypted).toBe(4);
  });

  it('keys of two tables are never shared, even for the same data-key column text', async () => {
    const writer = new RowEnvelope({ keyring });
    const [user] = await writeRows(writer, 1, 1, 'User');
    // The same data-key column claimed by a row of another table must not unwrap.
    const moved = { ...(user as DecryptRowInput), table: 'Post' };
    const error = await rejectionOf(
      new RowEnvelope({ keyring }).decryptRows([user as DecryptRowInput, moved]),
    );
    expect(error).toBeInstanceOf(KeyringError);
  });

  it('an empty batch makes no keyring call', async () => {
    const counting = new CountingKeyring(keyring);
    expect(await new RowEnvelope({ keyring: counting }).decryptRows([])).toEqual([]);
    expect(counting.decrypted).toBe(0);
  });

  it('rows with only nulls or (tolerant) legacy plaintext need no key', async () => {
    const counting = new CountingKeyring(keyring);
    const envelope = new RowEnvelope({ keyring: counting, readMode: 'tolerant' });
    const out = await envelope.decryptRows([
      { table: 'User', values: { email: null }, dataKey: null },
      { table: 'User', values: { email: 'legacy@example.com' }, dataKey: null },
    ]);
    expect(out).toEqual([{ email: null }, { email: 'legacy@example.com' }]);
    expect(counting.decrypted).toBe(0);
  });

  it('one bad row fails the batch with a typed error naming that row, and no call is left in flight', async () => {
    const envelope = new RowEnvelope({ keyring });
    const rows = await writeRows(envelope, 6, 2);
    const lost = rows.map((row, i) => (i === 3 ? { ...row, dataKey: null } : row));
    const missing = expectError(
      await rejectionOf(envelope.decryptRows(lost)),
      DecryptionError,
      'missing-data-key',
    );
    expect(missing.location).toEqual({ table: 'User', rowId: 3 });

    const swapped = rows.map((row, i) => (i === 5 ? { ...row, dataKey: rows[0]?.dataKey } : row));
    const wrong = await rejectionOf(envelope.decryptRows(swapped));
    expect(wrong).toBeInstanceOf(DecryptionError);
    expect((wrong as DecryptionError).location?.rowId).toBe(5);

    const plaintext = rows.map((row, i) => (i === 2 ? { ...row, values: { email: 'x@example.com' } } : row));
    expectError(
      await rejectionOf(envelope.decryptRows(plaintext)),
      DecryptionError,
      'plaintext-in-strict-mode',
    );
  });

  it('property: any mix of key sharing, nulls and tables decrypts like row-by-row', async () => {
    const envelope = new RowEnvelope({ keyring });
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            table: fc.constantFrom('User', 'Post'),
            email: fc.option(fc.string(), { nil: null }),
            reuse: fc.boolean(),
          }),
          { maxLength: 20 },
        ),
        async (specs) => {
          const rows: DecryptRowInput[] = [];
          const lastKey = new Map<string, string>();
          for (const spec of specs) {
            const values = { email: spec.email };
            const dataKey = spec.reuse ? lastKey.get(spec.table) : undefined;
            const sealed =
              dataKey === undefined
                ? await envelope.encryptRow({ table: spec.table, values })
                : await envelope.encryptForRow({ table: spec.table, values, dataKey });
            lastKey.set(spec.table, sealed.dataKey);
            rows.push({ table: spec.table, values: sealed.values, dataKey: sealed.dataKey });
          }
          const batch = await envelope.decryptRows(rows);
          expect(batch).toEqual(specs.map((spec) => ({ email: spec.email })));
        },
      ),
      { numRuns: 200 },
    );
  });
});
