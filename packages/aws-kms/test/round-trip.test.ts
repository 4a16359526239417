import { KMS } from '@aws-sdk/client-kms';
import { isRewrappingKeyring, KeyringError } from '@fieldseal/core';
import { describe, expect, it } from 'vitest';
import { AwsKmsKeyring } from '../src/index.js';
import { clientFor, createKey, onCleanup, rejection, setup, startServer, tableContext } from './helpers.js';

describe('AwsKmsKeyring against kms-local through the real SDK', () => {
  it('generates a 32-byte data key that decrypts back under the same context; keyId is the key ARN', async () => {
    const { key, keyring } = await setup();
    const material = await keyring().generateDataKey(tableContext);
    expect(material.plaintextKey).toHaveLength(32);
    expect(material.keyId).toBe(key.arn);
    const plaintext = await keyring().decryptDataKey(material.encryptedKey, tableContext);
    expect(Buffer.from(plaintext).equals(Buffer.from(material.plaintextKey))).toBe(true);
  });

  it('a different encryption context fails with KeyringError invalid-ciphertext', async () => {
    const { keyring } = await setup();
    const { encryptedKey } = await keyring().generateDataKey(tableContext);
    const error = await rejection(keyring().decryptDataKey(encryptedKey, { 'fieldseal:table': 'orders' }));
    expect(error).toBeInstanceOf(KeyringError);
    expect(error.code).toBe('invalid-ciphertext');
    expect(error.message).toMatch(/encryption context/);
    expect((error.cause as Error).name).toBe('InvalidCiphertextException');
  });

  it('accepts a key id, key ARN, alias name or alias ARN as keyId and reports the key ARN', async () => {
    const server = await startServer();
    const client = clientFor(server);
    const { keyId, arn } = await createKey(client, 'alias/billing');
    for (const ref of [
      keyId,
      arn,
      'alias/billing',
      `arn:aws:kms:${server.region}:000000000000:alias/billing`,
    ]) {
      const keyring = new AwsKmsKeyring({ keyId: ref, client });
      const material = await keyring.generateDataKey(tableContext);
      expect(material.keyId).toBe(arn);
      expect(await keyring.decryptDataKey(material.encryptedKey, tableContext)).toHaveLength(32);
    }
  });

  it('adds the keyring encryptionContext to every call, so a keyring without it cannot unwrap', async () => {
    const { keyring } = await setup();
    const scoped = keyring({ encryptionContext: { app: 'billing' } });
    const { encryptedKey } = await scoped.generateDataKey(tableContext);
    expect(await scoped.decryptDataKey(encryptedKey, tableContext)).toHaveLength(32);
    expect((await rejection(keyring().decryptDataKey(encryptedKey, tableContext))).code).toBe(
      'invalid-ciphertext',
    );
    const conflict = await rejection(scoped.generateDataKey({ app: 'other' }));
    expect([conflict.constructor, conflict.code]).toEqual([KeyringError, 'not-allowed']);
  });

  it('creates its own KMSClient from endpoint, region and clientConfig, and destroy() closes it', async () => {
    const server = await startServer();
    const { arn } = await createKey(clientFor(server));
    const keyring = new AwsKmsKeyring({
      keyId: arn,
      endpoint: server.endpoint,
      region: server.region,
      clientConfig: { credentials: server.clientConfig.credentials },
    });
    onCleanup(() => keyring.destroy());
    const { encryptedKey } = await keyring.generateDataKey(tableContext);
    expect(await keyring.decryptDataKey(encryptedKey, tableContext)).toHaveLength(32);
  });

  it('works with the aggregated KMS client as well as KMSClient', async () => {
    const server = await startServer();
    const kms = new KMS(server.clientConfig);
    onCleanup(() => kms.destroy());
    const { arn } = await createKey(clientFor(server));
    const keyring = new AwsKmsKeyring({ keyId: arn, client: kms });
    const { encryptedKey } = await keyring.generateDataKey(tableContext);
    expect(await keyring.decryptDataKey(encryptedKey, tableContext)).toHaveLength(32);
  });

  it('is a RewrappingKeyring, named after its key, and prints no client or credentials', async () => {
    const { key, keyring } = await setup();
    const k = keyring({ decryptKeyIds: ['alias/old'] });
    expect(isRewrappingKeyring(k)).toBe(true);
    expect(k.name).toBe(`aws-kms:${key.arn}`);
    expect(JSON.parse(JSON.stringify(k))).toEqual({
      type: 'AwsKmsKeyring',
      keyId: key.arn,
      decryptKeyIds: [key.arn, 'alias/old'],
      discovery: false,
    });
    const { inspect } = await import('node:util');
    expect(inspect(k)).not.toContain('kms-local');
  });
});
