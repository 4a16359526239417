/**
 * Tenant scope (docs/tenants.md): a row's tenant goes into its data key's encryption context and
 * into every value's AAD (flag 0x04), and `keyringFor` picks each tenant's keyring. Every test
 * moves something across tenants the way a database-only attacker could, and expects a refusal.
 */
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  type DataKeyMaterial,
  DecryptionError,
  type EncryptionContext,
  FLAG_SCOPED,
  type Keyring,
  KeyringError,
  parseDataKey,
  parseValue,
  RowEnvelope,
  type RowKeyPort,
  type RowKeyRead,
  TENANT_CONTEXT_KEY,
} from '../src/index.js';
import { CountingKeyring, expectRejects, randomKeyring } from './helpers.js';

/** Ignores the encryption context, so only the values' own tenant binding can catch a move. */
class ContextBlindKeyring implements Keyring {
  readonly name = 'context-blind';
  constructor(private readonly inner: Keyring) {}
  generateDataKey(): Promise<DataKeyMaterial> {
    return this.inner.generateDataKey({});
  }
  decryptDataKey(encryptedKey: Uint8Array): Promise<Uint8Array> {
    return this.inner.decryptDataKey(encryptedKey, {});
  }
}

const table = 'Invoice';

describe('tenant-scoped rows', () => {
  it('a scoped row reads back with its tenant; every value carries the scoped flag and the key context names the tenant', async () => {
    const seen: EncryptionContext[] = [];
    const inner = randomKeyring('k1');
    const keyring: Keyring = {
      name: 'spy',
      generateDataKey: (context) => {
        seen.push(context);
        return inner.generateDataKey(context);
      },
      decryptDataKey: (key, context) => inner.decryptDataKey(key, context),
    };
    const envelope = new RowEnvelope({ keyring });
    const row = await envelope.encryptRow({ table, tenant: 'acme', values: { total: '12.00', memo: 'x' } });
    expect(seen[0]?.[TENANT_CONTEXT_KEY]).toBe('acme');
    for (const value of Object.values(row.values))
      expect(parseValue(value as string).flags & FLAG_SCOPED).toBe(FLAG_SCOPED);
    const plain = await envelope.decryptRow({
      table,
      tenant: 'acme',
      values: row.values,
      dataKey: row.dataKey,
    });
    expect(plain).toEqual({ total: '12.00', memo: 'x' });
  });

  it('a whole row (values and data key) moved to another tenant fails at the data key', async () => {
    const envelope = new RowEnvelope({ keyring: randomKeyring('k1') });
    const row = await envelope.encryptRow({ table, tenant: 'acme', values: { total: '12.00' } });
    await expectRejects(
      envelope.decryptRow({ table, tenant: 'globex', values: row.values, dataKey: row.dataKey }),
      KeyringError,
      'unwrap-failed',
    );
    // Read as if the model had no tenant column (the tenant dropped from the query): refused too.
    await expectRejects(
      envelope.decryptRow({ table, values: row.values, dataKey: row.dataKey }),
      KeyringError,
      'unwrap-failed',
    );
  });

  it('values moved with their data key fail on the value binding even under a keyring that ignores the context', async () => {
    const envelope = new RowEnvelope({ keyring: new ContextBlindKeyring(randomKeyring('k1')) });
    const row = await envelope.encryptRow({ table, tenant: 'acme', values: { total: '12.00' } });
    await expectRejects(
      envelope.decryptRow({ table, tenant: 'globex', values: row.values, dataKey: row.dataKey }),
      DecryptionError,
      'authentication-failed',
    );
    await expectRejects(
      envelope.decryptRow({ table, values: row.values, dataKey: row.dataKey }),
      DecryptionError,
      'authentication-failed',
    );
    // And an unscoped row planted into a tenant's table is refused when read as the tenant's.
    const plain = await envelope.encryptRow({ table, values: { total: '99.00' } });
    await expectRejects(
      envelope.decryptRow({ table, tenant: 'acme', values: plain.values, dataKey: plain.dataKey }),
      DecryptionError,
      'authentication-failed',
    );
  });

  it('a value moved into another tenant row (keeping that row’s data key) fails', async () => {
    const envelope = new RowEnvelope({ keyring: randomKeyring('k1') });
    const a = await envelope.encryptRow({ table, tenant: 'acme', values: { total: '12.00' } });
    const b = await envelope.encryptRow({ table, tenant: 'globex', values: { total: '1.00' } });
    await expectRejects(
      envelope.decryptRow({ table, tenant: 'globex', values: a.values, dataKey: b.dataKey }),
      DecryptionError,
      'wrong-data-key',
    );
  });

  it('keyringFor picks each tenant’s master key; another tenant’s keyring cannot open it', async () => {
    const shared = randomKeyring('shared');
    const byok = randomKeyring('acme-own');
    const calls: string[] = [];
    const envelope = new RowEnvelope({
      keyring: shared,
      keyringFor: async (tenant) => {
        calls.push(tenant);
        return tenant === 'acme' ? byok : shared;
      },
    });
    const a = await envelope.encryptRow({ table, tenant: 'acme', values: { total: '12.00' } });
    const g = await envelope.encryptRow({ table, tenant: 'globex', values: { total: '3.00' } });
    expect(parseDataKey(a.dataKey).keyId).toBe('acme-own');
    expect(parseDataKey(g.dataKey).keyId).toBe('shared');
    expect(calls).toEqual(['acme', 'globex']);
    // acme's data key relabelled as globex's: the shared keyring does not hold acme's key.
    await expectRejects(
      envelope.decryptRow({ table, tenant: 'globex', values: a.values, dataKey: a.dataKey }),
      KeyringError,
      'unknown-master-key',
    );
  });

  it('decryptRows reads rows of many tenants in one batch, one keyringFor call per tenant', async () => {
    const keyring = new CountingKeyring(randomKeyring('k1'));
    let lookups = 0;
    const envelope = new RowEnvelope({
      keyring,
      keyringFor: (tenant) => {
        lookups++;
        expect(tenant).toMatch(/^t[0-4]$/);
        return keyring;
      },
    });
    const rows = [];
    for (let i = 0; i < 20; i++) {
      const tenant = `t${i % 5}`;
      const row = await envelope.encryptRow({ table, tenant, values: { total: String(i) } });
      rows.push({ table, tenant, values: row.values, dataKey: row.dataKey, rowId: i });
    }
    rows.push({
      table,
      tenant: undefined as unknown as string,
      values: { total: null },
      dataKey: null,
      rowId: 99,
    });
    lookups = 0;
    const out = await envelope.decryptRows(rows);
    expect(out.map((r) => r.total)).toEqual([...Array.from({ length: 20 }, (_, i) => String(i)), null]);
    expect(lookups).toBe(5);
    // Swapping two rows' tenants in the batch fails the batch.
    const swapped = rows.slice(0, 2).map((row, i) => ({ ...row, tenant: `t${1 - i}` }));
    await expectRejects(envelope.decryptRows(swapped), KeyringError, 'unwrap-failed');
  });

  it('writeToRows uses each row’s tenant from the port; the rows stay readable as their tenant only', async () => {
    const envelope = new RowEnvelope({ keyring: randomKeyring('k1') });
    const stored = new Map<number, { tenant: string; dataKey: string | null; total: unknown }>();
    for (const [id, tenant] of [
      [1, 'acme'],
      [2, 'globex'],
    ] as const) {
      const row = await envelope.encryptRow({ table, tenant, values: { total: 'old' } });
      stored.set(id, { tenant, dataKey: row.dataKey, total: row.values.total });
    }
    stored.set(3, { tenant: 'acme', dataKey: null, total: null }); // a legacy row without a key
    const port: RowKeyPort<number> = {
      readKeys: async (ids) =>
        (ids ?? [...stored.keys()]).map(
          (id): RowKeyRead<number> => ({
            id,
            dataKey: stored.get(id)?.dataKey ?? null,
            tenant: stored.get(id)?.tenant as string,
          }),
        ),
      write: async (writes) =>
        writes.map((w) => {
          const row = stored.get(w.id);
          if (!row) return false;
          row.total = w.values.total;
          if (w.dataKey !== undefined) row.dataKey = w.dataKey;
          return true;
        }),
    };
    const result = await envelope.writeToRows({ table, values: { total: 'new' }, port, idOf: (id) => id });
    expect(result.written).toEqual([1, 2, 3]);
    for (const [id, row] of stored) {
      const read = { table, values: { total: row.total }, dataKey: row.dataKey, rowId: id };
      expect((await envelope.decryptRow({ ...read, tenant: row.tenant })).total).toBe('new');
      const other = row.tenant === 'acme' ? 'globex' : 'acme';
      await expectRejects(envelope.decryptRow({ ...read, tenant: other }), KeyringError, 'unwrap-failed');
    }
  });

  it('refuses an empty or non-string tenant, and a reserved tenant key in the configured context', async () => {
    const envelope = new RowEnvelope({ keyring: randomKeyring('k1') });
    await expectRejects(
      envelope.encryptRow({ table, tenant: '', values: { total: 'x' } }),
      ConfigError,
      'invalid-config',
    );
    await expectRejects(
      envelope.encryptRow({ table, tenant: 7 as unknown as string, values: { total: 'x' } }),
      ConfigError,
      'invalid-config',
    );
    expect(
      () =>
        new RowEnvelope({ keyring: randomKeyring('k1'), encryptionContext: { [TENANT_CONTEXT_KEY]: 'x' } }),
    ).toThrow(ConfigError);
  });
});
