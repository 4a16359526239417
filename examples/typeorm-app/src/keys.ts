import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BlindIndex, type Keyring, LocalKeyring } from '@fieldseal/core';

/** The master keyring and blind-index key the example uses, and where they came from. */
export interface ExampleKeys {
  readonly keyring: Keyring;
  readonly blindIndexKey: string;
  readonly description: string;
}

/**
 * `FIELDSEAL_LOCAL_KEYS` and `FIELDSEAL_BLIND_INDEX_KEY` when set (what a real app does, with
 * an AwsKmsKeyring instead of a local key); otherwise development keys made on first run and
 * kept in .data/ (never do that with real data).
 */
export async function loadKeys(dataDir: string): Promise<ExampleKeys> {
  if (process.env.FIELDSEAL_LOCAL_KEYS) {
    const keyring = LocalKeyring.fromEnv();
    const blindIndexKey = process.env.FIELDSEAL_BLIND_INDEX_KEY ?? (await BlindIndex.generateKey(keyring));
    return { keyring, blindIndexKey, description: 'local key from FIELDSEAL_LOCAL_KEYS' };
  }
  const keyFile = join(dataDir, 'dev-master-key');
  if (!existsSync(keyFile))
    writeFileSync(keyFile, `${LocalKeyring.generateKeyText('dev-1')}\n`, { mode: 0o600 });
  const keyring = LocalKeyring.fromFile(keyFile);
  const indexFile = join(dataDir, 'dev-blind-index-key');
  if (!existsSync(indexFile))
    writeFileSync(indexFile, `${await BlindIndex.generateKey(keyring)}\n`, { mode: 0o600 });
  return {
    keyring,
    blindIndexKey: readFileSync(indexFile, 'utf8').trim(),
    description: 'development keys in .data/',
  };
}
