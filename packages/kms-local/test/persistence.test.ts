import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateAliasCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EncryptCommand,
  ListAliasesCommand,
  ListKeysCommand,
} from '@aws-sdk/client-kms';
import { describe, expect, it } from 'vitest';
import { KmsLocalConfigError, type KmsSeed, startKmsServer } from '../src/index.js';
import { clientFor, createKey, startServer, tempDir } from './helpers.js';

const FIXED_KEY_ID = '0b6d5d4e-2f1c-4a8e-9c3b-7d2e1f0a9b8c';
const seed: KmsSeed = {
  keys: [
    {
      keyId: FIXED_KEY_ID,
      description: 'fixture',
      material: Buffer.alloc(32, 7).toString('base64'),
      aliases: ['alias/fixture'],
    },
    { aliases: ['alias/app', 'alias/app-v1'] },
    { aliases: ['alias/off'], enabled: false },
  ],
};

describe('persistence and seeding', () => {
  it('keys, aliases, state and rotated material survive a restart with the same data file', async () => {
    const dataFile = join(tempDir(), 'kms.json');
    const first = await startKmsServer({ port: 0, dataFile });
    const kms1 = clientFor(first);
    const { keyId } = await createKey(kms1);
    await kms1.send(new CreateAliasCommand({ AliasName: 'alias/kept', TargetKeyId: keyId }));
    const { CiphertextBlob } = await kms1.send(
      new EncryptCommand({
        KeyId: 'alias/kept',
        Plaintext: Buffer.from('persisted'),
        EncryptionContext: { a: 'b' },
      }),
    );
    const other = await createKey(kms1);
    await kms1.send(new DisableKeyCommand({ KeyId: other.keyId }));
    await first.close();

    const second = await startServer({ dataFile });
    const kms2 = clientFor(second);
    const out = await kms2.send(new DecryptCommand({ CiphertextBlob, EncryptionContext: { a: 'b' } }));
    expect(Buffer.from(out.Plaintext as Uint8Array).toString()).toBe('persisted');
    expect((await kms2.send(new DescribeKeyCommand({ KeyId: 'alias/kept' }))).KeyMetadata?.KeyId).toBe(keyId);
    expect((await kms2.send(new DescribeKeyCommand({ KeyId: other.keyId }))).KeyMetadata?.KeyState).toBe(
      'Disabled',
    );
  });

  it('writes the data file with mode 0600 and leaves no temporary files behind', async () => {
    const dir = tempDir();
    const dataFile = join(dir, 'kms.json');
    const server = await startServer({ dataFile });
    await createKey(clientFor(server));
    expect(statSync(dataFile).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(dataFile, 'utf8')).keys).toHaveLength(1);
    expect(readdirSync(dir)).toEqual(['kms.json']);
  });

  it('without a data file keys live in memory only', async () => {
    const first = await startServer();
    await createKey(clientFor(first));
    const second = await startServer();
    expect((await clientFor(second).send(new ListKeysCommand({}))).Keys).toEqual([]);
  });

  it('refuses a data file that is not a kms-local state file', async () => {
    const dataFile = join(tempDir(), 'kms.json');
    writeFileSync(dataFile, '{"hello":1}');
    await expect(startKmsServer({ port: 0, dataFile })).rejects.toThrow(KmsLocalConfigError);
  });

  it('a seed pre-creates keys and aliases; fixed material makes blobs portable between fresh servers', async () => {
    const a = clientFor(await startServer({ seed }));
    const b = clientFor(await startServer({ seed }));
    const { CiphertextBlob, KeyId } = await a.send(
      new EncryptCommand({ KeyId: 'alias/fixture', Plaintext: Buffer.from('v') }),
    );
    expect(KeyId).toBe(`arn:aws:kms:us-east-1:000000000000:key/${FIXED_KEY_ID}`);
    expect(
      Buffer.from((await b.send(new DecryptCommand({ CiphertextBlob }))).Plaintext as Uint8Array).toString(),
    ).toBe('v');
    const { Aliases } = await a.send(new ListAliasesCommand({}));
    expect(Aliases?.map((alias) => alias.AliasName).sort()).toEqual([
      'alias/app',
      'alias/app-v1',
      'alias/fixture',
      'alias/off',
    ]);
    expect((await a.send(new DescribeKeyCommand({ KeyId: 'alias/off' }))).KeyMetadata?.Enabled).toBe(false);
  });

  it('applying a seed file on every restart of a persistent server does not duplicate keys', async () => {
    const dir = tempDir();
    const dataFile = join(dir, 'kms.json');
    const seedFile = join(dir, 'seed.json');
    writeFileSync(seedFile, JSON.stringify(seed));
    const first = await startKmsServer({ port: 0, dataFile, seedFile });
    const before = await clientFor(first).send(new DescribeKeyCommand({ KeyId: 'alias/app' }));
    await first.close();
    const second = await startServer({ dataFile, seedFile });
    const kms = clientFor(second);
    expect((await kms.send(new ListKeysCommand({}))).Keys).toHaveLength(3);
    expect((await kms.send(new DescribeKeyCommand({ KeyId: 'alias/app' }))).KeyMetadata?.KeyId).toBe(
      before.KeyMetadata?.KeyId,
    );
  });

  it('rejects a seed key with neither keyId nor alias, naming it', async () => {
    await expect(startKmsServer({ port: 0, seed: { keys: [{ description: 'x' }] } })).rejects.toThrow(
      /seed\.keys\[0\]/,
    );
  });
});
