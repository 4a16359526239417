import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Keyring, LocalKeyring } from '@fieldseal/core';

/** The master keyring the quickstart uses, and how to shut it down. */
export interface LoadedKeyring {
  readonly keyring: Keyring;
  readonly description: string;
  readonly close: () => Promise<void>;
}

/**
 * With `--kms` (or `FIELDSEAL_KMS=local`): an AWS KMS keyring, on the real AWS SDK, against an
 * in-process `@fieldseal/kms-local` server. Otherwise `FIELDSEAL_LOCAL_KEYS` when set (what a real app does); otherwise a development key made on
 * first run and kept in .data/dev-master-key (never do that with real data).
 */
export async function loadKeyring(dataDir: string): Promise<LoadedKeyring> {
  if (process.env.FIELDSEAL_KMS === 'local' || process.argv.includes('--kms')) return localKms();
  if (process.env.FIELDSEAL_LOCAL_KEYS) {
    return {
      keyring: LocalKeyring.fromEnv(),
      description: 'local key from FIELDSEAL_LOCAL_KEYS',
      close: async () => {},
    };
  }
  const file = join(dataDir, 'dev-master-key');
  if (!existsSync(file)) writeFileSync(file, `${LocalKeyring.generateKeyText('dev-1')}\n`, { mode: 0o600 });
  readFileSync(file); // fail early and clearly if unreadable
  return {
    keyring: LocalKeyring.fromFile(file),
    description: 'local development key in .data/dev-master-key',
    close: async () => {},
  };
}

/** The production setup in miniature: AWS SDK → KMS wire protocol, served locally. */
async function localKms(): Promise<LoadedKeyring> {
  const { startKmsServer } = await import('@fieldseal/kms-local');
  const { AwsKmsKeyring } = await import('@fieldseal/aws-kms');
  const server = await startKmsServer({
    port: 0,
    seed: { keys: [{ aliases: ['alias/fieldseal-quickstart'] }] },
  });
  const keyring = new AwsKmsKeyring({
    keyId: 'alias/fieldseal-quickstart',
    endpoint: server.endpoint,
    region: server.region,
    clientConfig: { credentials: server.clientConfig.credentials },
  });
  return {
    keyring,
    description: `AWS KMS key alias/fieldseal-quickstart via the local KMS server at ${server.endpoint}`,
    close: async () => {
      keyring.destroy();
      await server.close();
    },
  };
}
