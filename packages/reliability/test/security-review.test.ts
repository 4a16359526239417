/**
 * The external security review's experiments (issue 19), re-run end to end with real parts: the
 * AWS SDK against kms-local, CachingKeyring, RowEnvelope, BlindIndex, LocalKeyring. Each test
 * is the review's attack; before the fixes each one succeeded. Finding 7 (the IAM policy) is in
 * iam-policy.test.ts; finding 6 (table renames) in the CLI's rebind tests. Finding 9 is a property
 * of envelope encryption, documented rather than fixed: its test shows the documented limit holds.
 */
import { createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { inspect } from 'node:util';
import { EncryptCommand } from '@aws-sdk/client-kms';
import { AwsKmsKeyring } from '@fieldseal/aws-kms';
import { CachingKeyring } from '@fieldseal/cache';
import {
  BlindIndex,
  canonicalContext,
  isKeyringError,
  type Keyring,
  LocalKeyring,
  parseDataKey,
  parseValue,
  RowEnvelope,
} from '@fieldseal/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KmsRig, startKms } from './support/kms.js';
import { encryptedClient, openPrismaDb, PRISMA_DIALECTS } from './support/prisma-db.js';

let kms: KmsRig;
beforeAll(async () => {
  kms = await startKms({ maxAttempts: 1 });
});
afterAll(async () => kms?.close());

const kmsKeyring = () => new AwsKmsKeyring({ keyId: kms.keyArn, client: kms.client });
const bytesOf = (key: Uint8Array) => Buffer.from(key).toString('hex');

describe('finding 1: a context object changed after use gets no other table’s key', () => {
  it('the key served for the changed context is bound to table B at KMS, not to table A', async () => {
    const cache = new CachingKeyring(kmsKeyring());
    const context: Record<string, string> = { 'fieldseal:table': 'A' };
    const forA = await cache.generateDataKey(context);
    context['fieldseal:table'] = 'B';
    const forB = await cache.generateDataKey(context);
    expect(bytesOf(forB.plaintextKey)).not.toBe(bytesOf(forA.plaintextKey));
    const atKms = await kmsKeyring().decryptDataKey(forB.encryptedKey, { 'fieldseal:table': 'B' });
    expect(bytesOf(atKms)).toBe(bytesOf(forB.plaintextKey));
    cache.close();
  });
});

describe('finding 2: blind-index keys generated through the cache are new each time', () => {
  it('two BlindIndex.generateKey calls through CachingKeyring(AwsKmsKeyring) make two KMS keys that hash differently', async () => {
    const cache = new CachingKeyring(kmsKeyring());
    const before = kms.server.stats().requests.GenerateDataKey ?? 0;
    const keys = [await BlindIndex.generateKey(cache), await BlindIndex.generateKey(cache)];
    expect(kms.server.stats().requests.GenerateDataKey).toBe(before + 2);
    const indexes = await Promise.all(
      keys.map((wrappedKey) => BlindIndex.open({ keyring: cache, wrappedKey })),
    );
    expect(indexes[0]?.compute('t', 'c', 'v')).not.toBe(indexes[1]?.compute('t', 'c', 'v'));
    cache.close();
  });
});

describe('finding 3: a throwing metrics hook does not break writes', () => {
  it('rows keep being written and read through RowEnvelope while onEvent throws on every event', async () => {
    const cache = new CachingKeyring(kmsKeyring(), {
      maxUses: 2,
      onEvent: () => {
        throw new Error('metrics exporter down');
      },
    });
    const envelope = new RowEnvelope({ keyring: cache });
    for (let i = 0; i < 6; i++) {
      const row = await envelope.encryptRow({ table: 'customer', values: { email: `u${i}@example.com` } });
      expect(await envelope.decryptRow({ table: 'customer', ...row })).toEqual({
        email: `u${i}@example.com`,
      });
    }
    expect(cache.stats().evictions.maxUses).toBeGreaterThanOrEqual(2);
    expect(cache.stats().hookErrors).toBeGreaterThan(0);
    cache.close();
  });
});

describe('finding 4: key bytes in printed materials, and the grace period over revocations', () => {
  it('a data key from KMS, through the cache or not, never shows in inspect or JSON.stringify', async () => {
    for (const keyring of [kmsKeyring(), new CachingKeyring(kmsKeyring())]) {
      const material = await keyring.generateDataKey({ 'fieldseal:table': 'customer' });
      const secrets = ['hex', 'base64'].map((e) =>
        Buffer.from(material.plaintextKey)
          .toString(e as 'hex')
          .slice(0, 16),
      );
      for (const text of [inspect(material, { depth: 5, showHidden: true }), JSON.stringify({ material })]) {
        for (const secret of secrets) expect(text).not.toContain(secret);
      }
    }
  });

  /** A cache whose only copy of a key is past decryptMaxAge, within a long grace period. */
  async function staleKey() {
    let now = 1_000_000;
    const cache = new CachingKeyring(kmsKeyring(), {
      decryptMaxAge: 1_000,
      decryptGracePeriod: 3_600_000,
      now: () => now,
    });
    const context = { 'fieldseal:table': 'customer' };
    const material = await kmsKeyring().generateDataKey(context);
    await cache.decryptDataKey(material.encryptedKey, context);
    now += 5_000;
    const read = () => cache.decryptDataKey(material.encryptedKey, context);
    return { cache, read };
  }

  it.each([
    ['an external key store disconnected by its owner', 'XksProxyUriUnreachableException'],
    ['a key made unusable (KMSInvalidStateException)', 'KMSInvalidStateException'],
  ])('%s is not an outage: the cached key is not served past its age', async (_what, errorType) => {
    const { cache, read } = await staleKey();
    kms.server.setFaults({ failNext: { count: 1, errorType, operations: ['Decrypt'] } });
    const error = await read().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isKeyringError(error) && error.code).toBe('key-disabled');
    expect(cache.stats().staleServed).toBe(0);
    cache.close();
  });

  it('a real outage (KMSInternalException) still serves the cached key within the grace period', async () => {
    const { cache, read } = await staleKey();
    kms.server.setFaults({
      failNext: { count: 1, errorType: 'KMSInternalException', operations: ['Decrypt'] },
    });
    expect((await read()).length).toBe(32);
    expect(cache.stats().staleServed).toBe(1);
    cache.close();
  });
});

describe('finding 5: kms-local answers no web page (DNS rebinding)', () => {
  it('a GenerateDataKey sent under a foreign Host name returns no key', async () => {
    const answer = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(
        `${kms.server.endpoint}/`,
        {
          method: 'POST',
          headers: {
            host: `rebind.attacker.example:${kms.server.port}`,
            'content-type': 'application/x-amz-json-1.1',
            'x-amz-target': 'TrentService.GenerateDataKey',
          },
        },
        (res) => {
          let text = '';
          res.on('data', (c) => {
            text += String(c);
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify({ KeyId: kms.keyArn, KeySpec: 'AES_256' }));
    });
    expect(answer.status).toBe(403);
    expect(answer.text).not.toContain('Plaintext');
  });
});

describe('finding 8: LocalKeyring no longer wraps with the raw master key', () => {
  it('a stored data-key column does not open with the master key itself, only with the per-wrap derived key', async () => {
    const master = randomBytes(32);
    const keyring = new LocalKeyring({ keys: [{ keyId: 'prod-1', key: master }] });
    const row = await new RowEnvelope({ keyring }).encryptRow({
      table: 'customer',
      values: { ssn: '078-05-1120' },
    });
    const wrapped = Buffer.from(parseDataKey(row.dataKey).encryptedKey);
    const [salt, iv, ciphertext, tag] = [
      wrapped.subarray(8, 24),
      wrapped.subarray(24, 36),
      wrapped.subarray(36, 68),
      wrapped.subarray(68),
    ] as Buffer[];
    const open = (key: Buffer, version: string) => {
      const decipher = createDecipheriv('aes-256-gcm', key, iv as Buffer);
      const aad = `fieldseal local keyring ${version}\u0000prod-1\u0000${canonicalContext({ 'fieldseal:table': 'customer' })}`;
      decipher.setAAD(Buffer.from(aad));
      decipher.setAuthTag(tag as Buffer);
      return Buffer.concat([decipher.update(ciphertext as Buffer), decipher.final()]);
    };
    expect(() => open(master, 'v1')).toThrow();
    expect(() => open(master, 'v2')).toThrow();
    const derived = Buffer.from(
      hkdfSync('sha256', master, salt as Buffer, 'fieldseal local keyring v2 wrapping key', 32),
    );
    const dataKey = open(derived, 'v2');
    expect(bytesOf(dataKey)).toBe(
      bytesOf(await keyring.decryptDataKey(wrapped, { 'fieldseal:table': 'customer' })),
    );
  });

  it('fromEnv leaves no master key in process.env for child processes or crash reports', () => {
    process.env.FIELDSEAL_REVIEW_KEYS = LocalKeyring.generateKeyText('prod-1');
    LocalKeyring.fromEnv('FIELDSEAL_REVIEW_KEYS');
    expect(process.env.FIELDSEAL_REVIEW_KEYS).toBeUndefined();
    expect(JSON.stringify(process.env)).not.toContain('prod-1:');
  });
});

describe('finding 9: whoever can make data keys can make rows that decrypt (documented in docs/format.md)', () => {
  it('a principal with kms:Encrypt only wraps a key of its choice; the app reads the value it forged', async () => {
    const chosen = randomBytes(32);
    // The forger never calls GenerateDataKey or Decrypt: it wraps its own key with Encrypt.
    const forger: Keyring = {
      name: 'forger',
      async generateDataKey(context) {
        const out = await kms.client.send(
          new EncryptCommand({ KeyId: kms.keyArn, Plaintext: chosen, EncryptionContext: { ...context } }),
        );
        return {
          plaintextKey: Buffer.from(chosen),
          encryptedKey: out.CiphertextBlob as Uint8Array,
          keyId: out.KeyId as string,
        };
      },
      decryptDataKey: async () => {
        throw new Error('the forger has no kms:Decrypt');
      },
    };
    const forged = await new RowEnvelope({ keyring: forger }).encryptRow({
      table: 'customer',
      values: { ssn: '000-00-0000' },
    });
    const read = await new RowEnvelope({ keyring: kmsKeyring() }).decryptRow({
      table: 'customer',
      ...forged,
    });
    expect(read.ssn).toBe('000-00-0000');
    // What format v2 does bind: a 256-bit commitment (the review found 128 claimed of the SDK).
    expect(parseValue(forged.values.ssn as string).commitment.length).toBe(32);
  });
});

describe.each(PRISMA_DIALECTS)(
  'finding 10: a blind-index collision returns no other row (Prisma on %s)',
  (dialect) => {
    it('a row given another value’s index is dropped after decryption, by findUnique, findFirst and findMany', async () => {
      const db = await openPrismaDb(dialect);
      try {
        const keyring = kmsKeyring();
        const prisma = encryptedClient(db.client(), keyring, await BlindIndex.generateKey(keyring));
        const ada = await prisma.member.create({ data: { email: 'ada@x.io' } });
        const bob = await prisma.member.create({ data: { email: 'bob@x.io' } });
        const index = (await db.rows()).find((row) => row.id === ada.id)?.emailIndex as string;
        // A truncated index can collide; force it: bob's row gets the index of ada's value.
        await db.execute(`UPDATE ${db.table} SET "emailIndex" = NULL WHERE "id" = ${ada.id}`);
        await db.execute(`UPDATE ${db.table} SET "emailIndex" = '${index}' WHERE "id" = ${bob.id}`);
        expect(await prisma.member.findMany({ where: { email: 'ada@x.io' } })).toEqual([]);
        expect(await prisma.member.findFirst({ where: { email: 'ada@x.io' } })).toBeNull();
        expect(await prisma.member.findUnique({ where: { email: 'ada@x.io' } as never })).toBeNull();
        // The colliding row is still there and reads as itself.
        expect((await prisma.member.findMany({ where: { id: bob.id } }))[0]?.email).toBe('bob@x.io');
      } finally {
        await db.drop();
      }
    });
  },
);
