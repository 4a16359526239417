/**
 * The least-privilege IAM policy of docs/kms.md, run as written (security review, finding 7):
 * kms-local evaluates its `kms:EncryptionContext:*` conditions on every cryptographic request,
 * and the real SDK, AwsKmsKeyring, RowEnvelope and BlindIndex make the calls an app makes.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { KMSClient } from '@aws-sdk/client-kms';
import { AwsKmsKeyring } from '@fieldseal/aws-kms';
import { BlindIndex, isKeyringError, RowEnvelope } from '@fieldseal/core';
import { type KmsPolicy, type KmsServer, startKmsServer } from '@fieldseal/kms-local';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const DOC = new URL('../../../docs/kms.md', import.meta.url);

/** The JSON policy under "### Least-privilege IAM" in docs/kms.md, with its key ARN replaced. */
function documentedPolicy(keyArn: string): KmsPolicy {
  const text = readFileSync(DOC, 'utf8');
  const section = text.slice(text.indexOf('### Least-privilege IAM'));
  const json = /```json\n([\s\S]*?)\n```/.exec(section)?.[1];
  if (json === undefined) throw new Error('docs/kms.md has no JSON policy under "Least-privilege IAM"');
  const policy = JSON.parse(json) as KmsPolicy;
  const arns = new Set(policy.Statement.flatMap((s) => [s.Resource].flat()));
  expect(arns.size, 'every statement of the documented policy names the same key').toBe(1);
  return JSON.parse(json.replaceAll([...arns][0] as string, keyArn)) as KmsPolicy;
}

/** The policy docs/kms.md gave before the review: no statement for the blind-index key. */
function previousPolicy(keyArn: string): KmsPolicy {
  return { Statement: [documentedPolicy(keyArn).Statement[0] as KmsPolicy['Statement'][number]] };
}

const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
const seed = { keys: [{ keyId: KEY_ID, material: randomBytes(32).toString('base64') }] };

/** A kms-local server holding the seeded key, applying `policy` when given; closed after the file. */
const servers: KmsServer[] = [];
const clients: KMSClient[] = [];
afterAll(async () => {
  for (const client of clients) client.destroy();
  await Promise.all(servers.map((s) => s.close()));
});

async function kms(policy?: (arn: string) => KmsPolicy) {
  const plain = await startKmsServer({ port: 0, warn: () => {}, seed });
  const arn = `arn:aws:kms:${plain.region}:000000000000:key/${KEY_ID}`;
  const server = policy
    ? await (async () => {
        await plain.close();
        return startKmsServer({ port: 0, warn: () => {}, seed, policy: policy(arn) });
      })()
    : plain;
  servers.push(server);
  const client = new KMSClient({ ...server.clientConfig, maxAttempts: 1 });
  clients.push(client);
  const keyring = (encryptionContext: Record<string, string> = { app: 'billing' }) =>
    new AwsKmsKeyring({ keyId: arn, client, encryptionContext });
  return { arn, keyring };
}

/** Resolves to the keyring error code of a failed call, or 'ok'. */
async function outcome(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'ok';
  } catch (error) {
    if (isKeyringError(error)) return error.code;
    throw error;
  }
}

describe('the least-privilege policy of docs/kms.md, evaluated by kms-local', () => {
  let blindIndexKey: string;
  let foreignBlindIndexKey: string;
  beforeAll(async () => {
    // The role that sets the app up (no policy here) makes the index key once.
    const admin = await kms();
    blindIndexKey = await BlindIndex.generateKey(admin.keyring());
    foreignBlindIndexKey = await BlindIndex.generateKey(admin.keyring({}));
  });

  it('allows what the app does: rows of both tables, and opening its blind-index key', async () => {
    const app = await kms(documentedPolicy);
    const envelope = new RowEnvelope({ keyring: app.keyring() });
    for (const table of ['customers', 'invoices']) {
      const row = await envelope.encryptRow({ table, values: { email: 'a@example.com' } });
      expect(await envelope.decryptRow({ table, ...row })).toEqual({ email: 'a@example.com' });
    }
    const index = await BlindIndex.open({ keyring: app.keyring(), wrappedKey: blindIndexKey });
    expect(index.compute('customers', 'email', 'a@example.com')).toMatch(/^[0-9a-f]{32}$/);
  });

  it('denies what it should: another table, an extra context pair, another app, generating an index key, a foreign index key', async () => {
    const app = await kms(documentedPolicy);
    const encrypt = (keyring: AwsKmsKeyring, table: string) =>
      new RowEnvelope({ keyring }).encryptRow({ table, values: { email: 'x' } });
    expect(await outcome(encrypt(app.keyring(), 'payroll'))).toBe('access-denied');
    expect(await outcome(encrypt(app.keyring({ app: 'billing', extra: 'x' }), 'customers'))).toBe(
      'access-denied',
    );
    expect(await outcome(encrypt(app.keyring({ app: 'hr' }), 'customers'))).toBe('access-denied');
    expect(await outcome(BlindIndex.generateKey(app.keyring()))).toBe('access-denied');
    expect(
      await outcome(BlindIndex.open({ keyring: app.keyring({}), wrappedKey: foreignBlindIndexKey })),
    ).toBe('access-denied');
  });

  it('the policy docs/kms.md gave before the review denies opening the blind-index key (the finding)', async () => {
    const app = await kms(previousPolicy);
    const envelope = new RowEnvelope({ keyring: app.keyring() });
    expect(await outcome(envelope.encryptRow({ table: 'customers', values: { email: 'x' } }))).toBe('ok');
    expect(await outcome(BlindIndex.open({ keyring: app.keyring(), wrappedKey: blindIndexKey }))).toBe(
      'access-denied',
    );
  });
});
