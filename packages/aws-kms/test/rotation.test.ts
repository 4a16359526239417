import { RotateKeyOnDemandCommand } from '@aws-sdk/client-kms';
import { describe, expect, it } from 'vitest';
import { AwsKmsKeyring } from '../src/index.js';
import { createKey, rejection, setup, tableContext } from './helpers.js';

describe('rotation', () => {
  it('reEncryptDataKey moves a data key to a new KMS key with ReEncrypt only: no Decrypt, no plaintext', async () => {
    const { server, client, key, keyring } = await setup();
    const next = await createKey(client);
    const { encryptedKey, plaintextKey } = await keyring().generateDataKey(tableContext);
    server.reset();
    const moved = await keyring().reEncryptDataKey(encryptedKey, tableContext, {
      destinationKeyId: next.keyId,
    });
    expect(moved.keyId).toBe(next.arn);
    expect(server.stats().requests).toEqual({ ReEncrypt: 1 });
    expect('plaintextKey' in moved).toBe(false);

    const unwrapped = await new AwsKmsKeyring({ keyId: next.arn, client }).decryptDataKey(
      moved.encryptedKey,
      tableContext,
    );
    expect(Buffer.from(unwrapped).equals(Buffer.from(plaintextKey))).toBe(true);
    expect(
      (
        await rejection(
          new AwsKmsKeyring({ keyId: key.arn, client }).decryptDataKey(moved.encryptedKey, tableContext),
        )
      ).code,
    ).toBe('unknown-master-key');
  });

  it('reEncryptDataKey keeps the context: the moved key does not unwrap under another one', async () => {
    const { client, keyring } = await setup();
    const next = await createKey(client);
    const { encryptedKey } = await keyring().generateDataKey(tableContext);
    const moved = await keyring().reEncryptDataKey(encryptedKey, tableContext, {
      destinationKeyId: next.arn,
    });
    const error = await rejection(
      new AwsKmsKeyring({ keyId: next.arn, client }).decryptDataKey(moved.encryptedKey, {
        'fieldseal:table': 'x',
      }),
    );
    expect(error.code).toBe('invalid-ciphertext');
  });

  it('reEncryptDataKey is strict about the source key and validates destinationKeyId', async () => {
    const { client, keyring } = await setup();
    const other = await createKey(client);
    const { encryptedKey } = await new AwsKmsKeyring({ keyId: other.arn, client }).generateDataKey(
      tableContext,
    );
    expect(
      (
        await rejection(
          keyring().reEncryptDataKey(encryptedKey, tableContext, { destinationKeyId: other.arn }),
        )
      ).code,
    ).toBe('unknown-master-key');
    const bad = await rejection(
      keyring().reEncryptDataKey(encryptedKey, tableContext, { destinationKeyId: 'not a key' }),
    );
    expect(bad.code).toBe('invalid-config');
  });

  it('data keys made before RotateKeyOnDemand still unwrap; new ones use the new material', async () => {
    const { client, key, keyring } = await setup();
    const before = await keyring().generateDataKey(tableContext);
    await client.send(new RotateKeyOnDemandCommand({ KeyId: key.keyId }));
    const after = await keyring().generateDataKey(tableContext);
    for (const material of [before, after]) {
      const unwrapped = await keyring().decryptDataKey(material.encryptedKey, tableContext);
      expect(Buffer.from(unwrapped).equals(Buffer.from(material.plaintextKey))).toBe(true);
    }
  });
});
