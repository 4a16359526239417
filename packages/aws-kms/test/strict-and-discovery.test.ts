import { describe, expect, it } from 'vitest';
import { AwsKmsKeyring } from '../src/index.js';
import { createKey, rejection, setup, tableContext } from './helpers.js';

describe('which keys may unwrap', () => {
  it('strict (default): a data key from a key not in keyId or decryptKeyIds is refused as unknown-master-key', async () => {
    const { client, keyring } = await setup();
    const other = await createKey(client);
    const { encryptedKey } = await new AwsKmsKeyring({ keyId: other.arn, client }).generateDataKey(
      tableContext,
    );
    const error = await rejection(keyring().decryptDataKey(encryptedKey, tableContext));
    expect(error.code).toBe('unknown-master-key');
    expect(error.message).toContain('decryptKeyIds');
  });

  it('strict: Decrypt names the KeyId, trying each allowed key in turn until KMS accepts one', async () => {
    const { server, client, keyring } = await setup();
    const old = await createKey(client, 'alias/old');
    const { encryptedKey, plaintextKey } = await new AwsKmsKeyring({
      keyId: old.arn,
      client,
    }).generateDataKey(tableContext);
    server.reset();
    const unwrapped = await keyring({ decryptKeyIds: ['alias/old'] }).decryptDataKey(
      encryptedKey,
      tableContext,
    );
    expect(Buffer.from(unwrapped).equals(Buffer.from(plaintextKey))).toBe(true);
    expect(server.stats().requests.Decrypt).toBe(2);
    expect(server.stats().errors.Decrypt).toBe(1);
  });

  it('strict: other failures stop the search at once (a wrong context is not retried with other keys)', async () => {
    const { server, client, keyring } = await setup();
    const second = await createKey(client);
    const { encryptedKey } = await keyring().generateDataKey(tableContext);
    server.reset();
    const error = await rejection(
      keyring({ decryptKeyIds: [second.arn] }).decryptDataKey(encryptedKey, { x: 'y' }),
    );
    expect(error.code).toBe('invalid-ciphertext');
    expect(server.stats().requests.Decrypt).toBe(1);
  });

  it('discovery: any key the caller may use unwraps, with one Decrypt call without KeyId', async () => {
    const { server, client, keyring } = await setup();
    const other = await createKey(client);
    const { encryptedKey } = await new AwsKmsKeyring({ keyId: other.arn, client }).generateDataKey(
      tableContext,
    );
    server.reset();
    expect(await keyring({ discovery: true }).decryptDataKey(encryptedKey, tableContext)).toHaveLength(32);
    expect(server.stats().requests.Decrypt).toBe(1);
  });
});
