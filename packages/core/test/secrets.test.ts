/**
 * Errors and printed objects never contain plaintext or key bytes. Each case provokes an error
 * with known secrets around, then searches its message, String(), util.inspect (with hidden
 * fields and the cause chain) and JSON.stringify for every encoding of every secret.
 */
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  BlindIndex,
  type DataKeyMaterial,
  DecryptionError,
  dataKeyMaterial,
  decryptValue,
  deriveDataKey,
  type EncryptionContext,
  FieldsealError,
  type Keyring,
  LocalKeyring,
  RowEnvelope,
} from '../src/index.js';
import { rejectionOf, thrownBy } from './helpers.js';

const masterKey = randomBytes(32);
const oldMasterKey = randomBytes(32);
const plaintexts = ['alice.secret@example.com', 'SSN 078-05-1120', 'legacy-plaintext-value'];

/** Remembers every data key it hands out, so the test knows which bytes must never leak. */
class RecordingKeyring implements Keyring {
  readonly name = 'recording';
  readonly dataKeys: Uint8Array[] = [];
  constructor(readonly inner: LocalKeyring) {}
  async generateDataKey(context: EncryptionContext): Promise<DataKeyMaterial> {
    const material = await this.inner.generateDataKey(context);
    this.dataKeys.push(Buffer.from(material.plaintextKey));
    return material;
  }
  async decryptDataKey(encryptedKey: Uint8Array, context: EncryptionContext): Promise<Uint8Array> {
    return this.inner.decryptDataKey(encryptedKey, context);
  }
}

const local = new LocalKeyring({
  keys: [
    { keyId: 'current', key: masterKey },
    { keyId: 'old', key: oldMasterKey.toString('base64') },
  ],
});
const keyring = new RecordingKeyring(local);
const envelope = new RowEnvelope({ keyring });

function encodings(bytes: Uint8Array): string[] {
  const b = Buffer.from(bytes);
  // Any 12 consecutive characters of an encoding would be a leak; 12 from the start and the middle.
  return [b.toString('hex'), b.toString('base64'), b.toString('base64url'), b.toString('latin1')].flatMap(
    (s) => [s.slice(0, 12), s.slice(20, 32)],
  );
}

function secrets(): string[] {
  const keys = [
    masterKey,
    oldMasterKey,
    ...keyring.dataKeys,
    ...keyring.dataKeys.map((k) => deriveDataKey(k).encryptionKey),
  ];
  return [...keys.flatMap(encodings), ...plaintexts];
}

function renderings(value: unknown): string[] {
  const out = [inspect(value, { depth: 10, showHidden: true }), JSON.stringify(value) ?? ''];
  if (value instanceof Error) {
    out.push(value.message, String(value), value.stack ?? '');
    let cause: unknown = value.cause;
    while (cause !== undefined) {
      out.push(...renderings(cause));
      cause = cause instanceof Error ? cause.cause : undefined;
    }
  }
  return out;
}

function expectNoSecrets(value: unknown): void {
  const all = secrets();
  for (const text of renderings(value)) {
    for (const secret of all)
      expect(text.includes(secret), `leaked ${JSON.stringify(secret)} in ${text.slice(0, 200)}`).toBe(false);
  }
}

describe('errors never contain plaintext or key bytes', () => {
  it('the search finds planted secrets (self-check of this file)', () => {
    expect(() => expectNoSecrets(new Error(`x ${masterKey.toString('base64')}`))).toThrow(/leaked/);
    expect(() => expectNoSecrets({ nested: { value: plaintexts[1] } })).toThrow(/leaked/);
    expect(() =>
      expectNoSecrets(new Error('outer', { cause: new Error(masterKey.toString('hex')) })),
    ).toThrow(/leaked/);
  });

  it('decryption failures of every kind', async () => {
    const a = await envelope.encryptRow({
      table: 'User',
      rowId: 1,
      values: { email: plaintexts[0], ssn: plaintexts[1] },
    });
    const b = await envelope.encryptRow({ table: 'User', rowId: 2, values: { email: 'x' } });
    const errors = [
      // wrong-data-key
      await rejectionOf(
        envelope.decryptRow({
          table: 'User',
          rowId: 1,
          values: { email: a.values.email },
          dataKey: b.dataKey,
        }),
      ),
      // authentication-failed: other column, other row
      await rejectionOf(
        envelope.decryptRow({ table: 'User', rowId: 1, values: { ssn: a.values.email }, dataKey: a.dataKey }),
      ),
      await rejectionOf(
        envelope.decryptRow({
          table: 'User',
          rowId: 9,
          values: { email: a.values.email },
          dataKey: a.dataKey,
        }),
      ),
      // plaintext-in-strict-mode
      await rejectionOf(
        envelope.decryptRow({ table: 'User', values: { email: plaintexts[2] }, dataKey: null }),
      ),
      // malformed-value / unsupported-version / missing-data-key / malformed-data-key
      await rejectionOf(
        envelope.decryptRow({ table: 'User', values: { email: `fs1:${plaintexts[0]}` }, dataKey: a.dataKey }),
      ),
      await rejectionOf(
        envelope.decryptRow({ table: 'User', values: { email: `fs7:${plaintexts[0]}` }, dataKey: a.dataKey }),
      ),
      await rejectionOf(envelope.decryptRow({ table: 'User', values: a.values, dataKey: null })),
      await rejectionOf(
        envelope.decryptRow({ table: 'User', values: a.values, dataKey: `fsk1:${plaintexts[1]}` }),
      ),
      // keyring: another table's context, unknown master key
      await rejectionOf(envelope.decryptRow({ table: 'Admin', values: a.values, dataKey: a.dataKey })),
      await rejectionOf(
        new RowEnvelope({
          keyring: LocalKeyring.fromString(`other:${randomBytes(32).toString('base64')}`),
        }).decryptRow({
          table: 'User',
          values: a.values,
          dataKey: a.dataKey,
        }),
      ),
      // already-encrypted, unsupported-type
      await rejectionOf(envelope.encryptRow({ table: 'User', values: { email: a.values.email } })),
      thrownBy(() =>
        decryptValue(
          deriveDataKey(keyring.dataKeys[0] as Uint8Array),
          { table: 'T', column: 'c' },
          a.values.ssn as string,
        ),
      ),
    ];
    for (const error of errors) {
      expect(error).toBeInstanceOf(FieldsealError);
      expectNoSecrets(error);
    }
    expect(errors.filter((e) => e instanceof DecryptionError).length).toBeGreaterThanOrEqual(8);
  });

  it('configuration errors about bad master keys', () => {
    const badKeys = [
      `k:${masterKey.toString('base64')}!`,
      `k:${masterKey.subarray(0, 24).toString('base64')}`,
      `bad id:${masterKey.toString('base64')}`,
      masterKey.toString('base64'),
      `k:${masterKey.toString('hex')}`,
    ];
    for (const text of badKeys) {
      const error = thrownBy(() => LocalKeyring.fromString(text));
      expect(error).toBeInstanceOf(FieldsealError);
      expectNoSecrets(error);
    }
    expectNoSecrets(thrownBy(() => LocalKeyring.fromEnv('K', { K: `k:${masterKey.toString('base64')}==x` })));
  });
});

describe('printed objects never contain key bytes', () => {
  it('LocalKeyring: inspect and JSON show key ids only', () => {
    expect(inspect(local)).toBe('LocalKeyring { primaryKeyId: "current", keyIds: ["current","old"] }');
    expect(JSON.parse(JSON.stringify(local))).toEqual({
      type: 'LocalKeyring',
      primaryKeyId: 'current',
      keyIds: ['current', 'old'],
    });
    expectNoSecrets(local);
    expect(Object.keys(local)).not.toContain('keys');
  });

  it('RowEnvelope and BlindIndex', async () => {
    await envelope.encryptRow({ table: 'User', values: { email: 'e' } });
    expectNoSecrets(new RowEnvelope({ keyring: local }));
    expectNoSecrets(
      await BlindIndex.open({ keyring: local, wrappedKey: await BlindIndex.generateKey(local) }),
    );
  });

  it('DataKeyMaterial from LocalKeyring or dataKeyMaterial(): inspect, console and JSON hide the plaintext key, which stays readable', async () => {
    const material = await keyring.generateDataKey({ 'fieldseal:table': 'User' });
    const plain = randomBytes(32);
    keyring.dataKeys.push(plain);
    const built = dataKeyMaterial({ plaintextKey: plain, encryptedKey: Uint8Array.of(1, 2), keyId: 'k' });
    for (const m of [material, built, { nested: [material] }]) expectNoSecrets(m);
    expect(inspect(built)).toContain("plaintextKey: '[redacted]'");
    expect(JSON.parse(JSON.stringify(built))).toEqual({
      plaintextKey: '[redacted]',
      encryptedKey: 'AQI=',
      keyId: 'k',
    });
    expect(built.plaintextKey).toBe(plain);
    expect(material.plaintextKey.length).toBe(32);
  });
});
