import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKmsServer } from '@fieldseal/kms-local';
import { describe, expect, it } from 'vitest';
import { AwsKmsKeyring } from '../src/index.js';
import { clientFor, createKey, onCleanup, startServer, tableContext } from './helpers.js';

describe('a persistent kms-local', () => {
  it('data keys made before a server restart unwrap after it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aws-kms-'));
    onCleanup(() => rmSync(dir, { recursive: true, force: true }));
    const dataFile = join(dir, 'kms.json');

    const first = await startKmsServer({ port: 0, dataFile });
    const { arn } = await createKey(clientFor(first), 'alias/app');
    const material = await new AwsKmsKeyring({
      keyId: 'alias/app',
      client: clientFor(first),
    }).generateDataKey(tableContext);
    await first.close();

    const second = await startServer({ dataFile });
    const keyring = new AwsKmsKeyring({ keyId: 'alias/app', client: clientFor(second) });
    const unwrapped = await keyring.decryptDataKey(material.encryptedKey, tableContext);
    expect(Buffer.from(unwrapped).equals(Buffer.from(material.plaintextKey))).toBe(true);
    expect(material.keyId).toBe(arn);
  });
});
