import { describe, expect, it } from 'vitest';
import {
  assertStoredTables,
  BlindIndex,
  bindingOf,
  ConfigError,
  envelopeFor,
  FLAG_ROW_BOUND,
  isDecryptionError,
  isKeyringError,
  NamedRowEnvelope,
  parseValue,
  RowEnvelope,
  rebindRow,
} from '../src/index.js';
import { randomKeyring, rejectionOf } from './helpers.js';

const envelope = new RowEnvelope({ keyring: randomKeyring('k1'), encryptionContext: { app: 'crm' } });

describe('rebindRow', () => {
  it('moves a row to another encryption name: it reads under the new name and no longer under the old', async () => {
    const avatar = Uint8Array.of(0, 1, 255);
    const row = await envelope.encryptRow({
      table: 'User',
      values: { email: 'alice@example.com', avatar, note: null },
    });
    const moved = await rebindRow(envelope, {
      from: 'User',
      to: 'users',
      values: row.values,
      dataKey: row.dataKey,
      rowId: 7,
    });
    expect(moved.dataKey).toMatch(/^fsk2:[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]+$/);
    expect(moved.dataKey.slice(0, 28)).not.toBe(row.dataKey.slice(0, 28)); // a fresh key identity
    expect(Object.keys(moved.values).sort()).toEqual(['avatar', 'email']); // null stays untouched
    expect(moved.values.avatar).toBeInstanceOf(Uint8Array); // stored form kept
    const values = { ...moved.values, note: null };
    const read = await envelope.decryptRow({ table: 'users', values, dataKey: moved.dataKey, rowId: 7 });
    expect(read).toEqual({ email: 'alice@example.com', avatar, note: null });
    // Under the old name, the new key does not unwrap (the table is in the key's context).
    const old = await rejectionOf(
      envelope.decryptRow({ table: 'User', values, dataKey: moved.dataKey, rowId: 7 }),
    );
    expect(isKeyringError(old)).toBe(true);
    // A new value under the old key cannot be smuggled in: the name is in each value's AAD too.
    const mixed = await rejectionOf(
      envelope.decryptRow({ table: 'users', values: { email: row.values.email }, dataKey: moved.dataKey }),
    );
    expect(isDecryptionError(mixed)).toBe(true);
  });

  it('keeps row-bound values bound to their row, and unbound values unbound', async () => {
    const bound = await envelope.encryptRow({ table: 'Doc', values: { body: 'secret' }, rowId: 'd-1' });
    const moved = await rebindRow(envelope, {
      from: 'Doc',
      to: 'documents',
      values: bound.values,
      dataKey: bound.dataKey,
      rowId: 'd-1',
    });
    expect(parseValue(moved.values.body as string).flags & FLAG_ROW_BOUND).toBe(FLAG_ROW_BOUND);
    // Copied to another row: refused.
    const copied = await rejectionOf(
      envelope.decryptRow({ table: 'documents', values: moved.values, dataKey: moved.dataKey, rowId: 'd-2' }),
    );
    expect(isDecryptionError(copied)).toBe(true);
    const free = await envelope.encryptRow({ table: 'Doc', values: { body: 'x' } });
    const movedFree = await rebindRow(envelope, {
      from: 'Doc',
      to: 'documents',
      values: free.values,
      dataKey: free.dataKey,
      rowId: 'd-3',
    });
    expect(parseValue(movedFree.values.body as string).flags & FLAG_ROW_BOUND).toBe(0);
  });

  it('refuses a row that is not bound to "from", writing nothing (a keyring error, as a read)', async () => {
    const row = await envelope.encryptRow({ table: 'User', values: { email: 'a@b.c' } });
    const error = await rejectionOf(
      rebindRow(envelope, {
        from: 'Account',
        to: 'users',
        values: row.values,
        dataKey: row.dataKey,
        rowId: 1,
      }),
    );
    expect(isKeyringError(error)).toBe(true);
    expect(JSON.stringify(error)).not.toContain('a@b.c');
  });

  it('passes plaintext of a half-migrated row through untouched, and refuses an empty target name', async () => {
    const row = await envelope.encryptRow({ table: 'User', values: { email: 'a@b.c' } });
    const moved = await rebindRow(envelope, {
      from: 'User',
      to: 'users',
      values: { ...row.values, phone: '555' },
      dataKey: row.dataKey,
      rowId: 1,
    });
    expect(moved.values.phone).toBeUndefined();
    expect(moved.plaintext.phone).toBe('555');
    const empty = await rejectionOf(
      rebindRow(envelope, { from: 'User', to: '', values: row.values, dataKey: row.dataKey, rowId: 1 }),
    );
    expect(empty).toBeInstanceOf(ConfigError);
  });
});

describe('StoredTable binding', () => {
  const table = { model: 'User', table: 'users', primaryKey: ['id'], dataKeyColumn: 'dk', columns: [] };
  it('defaults to the table name and is checked when given', () => {
    expect(bindingOf(table)).toBe('users');
    expect(bindingOf({ ...table, binding: 'User' })).toBe('User');
    expect(() => assertStoredTables([{ ...table, binding: 'User' }])).not.toThrow();
    expect(() => assertStoredTables([{ ...table, binding: '' }])).toThrow(/binding \(model User\)/);
    expect(() => assertStoredTables([{ ...table, binding: 3 }])).toThrow(ConfigError);
  });
});

describe('encryptionNames (a renamed table keeps its old encryption name)', () => {
  const keyring = randomKeyring('k1');
  const plain = envelopeFor({ keyring });
  const named = envelopeFor({ keyring, encryptionNames: { clients: 'customers' } });

  it('reads and writes a renamed table exactly as the old name, on every entry point', async () => {
    expect(named).toBeInstanceOf(NamedRowEnvelope);
    const old = await plain.encryptRow({ table: 'customers', values: { email: 'a@b.c' }, rowId: 1 });
    const input = { table: 'clients', values: old.values, dataKey: old.dataKey, rowId: 1 };
    expect(await named.decryptRow(input)).toEqual({ email: 'a@b.c' });
    expect(await named.decryptRows([input, input])).toEqual([{ email: 'a@b.c' }, { email: 'a@b.c' }]);
    expect(named.contextFor('clients')).toEqual(plain.contextFor('customers'));
    const fresh = await named.encryptRow({ table: 'clients', values: { email: 'x@y.z' } });
    expect(await plain.decryptRow({ table: 'customers', ...fresh })).toEqual({ email: 'x@y.z' });
    const update = await named.encryptForRow({
      table: 'clients',
      values: { email: 'u@v.w' },
      dataKey: old.dataKey,
    });
    expect(
      await plain.decryptRow({ table: 'customers', values: update.values, dataKey: old.dataKey }),
    ).toEqual({
      email: 'u@v.w',
    });
    // Without the mapping, the renamed table fails (what finding 6 reported): loud, never wrong.
    expect(isKeyringError(await rejectionOf(plain.decryptRow(input)))).toBe(true);
    // Tables not listed keep their own name.
    const other = await named.encryptRow({ table: 'orders', values: { note: 'n' } });
    expect(await plain.decryptRow({ table: 'orders', ...other })).toEqual({ note: 'n' });
  });

  it('maps blind indexes too, and refuses names that chain', async () => {
    const key = await BlindIndex.generateKey(keyring);
    const index = await BlindIndex.open({ keyring, wrappedKey: key });
    const mapped = await BlindIndex.open({
      keyring,
      wrappedKey: key,
      encryptionNames: { clients: 'customers' },
    });
    expect(mapped.compute('clients', 'email', 'a@b.c')).toBe(index.compute('customers', 'email', 'a@b.c'));
    expect(mapped.compute('clients', 'email', 'a@b.c')).not.toBe(index.compute('clients', 'email', 'a@b.c'));
    expect(() => envelopeFor({ keyring, encryptionNames: { a: 'b', b: 'a' } })).toThrow(/itself mapped/);
    expect(() => envelopeFor({ keyring, encryptionNames: { a: '' } })).toThrow(ConfigError);
    expect(() => envelopeFor({ keyring, encryptionNames: { a: 'b', b: 'b' } })).not.toThrow();
  });
});
