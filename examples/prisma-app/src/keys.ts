import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { BlindIndex, LocalKeyring } from '@fieldseal/core';

/** The master key(s) and the wrapped blind-index key the app runs with. */
export interface AppKeys {
  readonly keyring: LocalKeyring;
  readonly blindIndexKey: string;
}

/**
 * Production without a KMS: `FIELDSEAL_LOCAL_KEYS` (master keys, from your secret store; read
 * once, then removed from the environment; with a KMS use an AwsKmsKeyring instead) and
 * `FIELDSEAL_BLIND_INDEX_KEY` (printed once by `BlindIndex.generateKey`). For this demo, when they
 * are not set, a development key file is created next to the database on first run.
 */
export async function loadKeys(devKeyFile: string): Promise<AppKeys> {
  if (process.env.FIELDSEAL_LOCAL_KEYS && process.env.FIELDSEAL_BLIND_INDEX_KEY) {
    return {
      keyring: LocalKeyring.fromEnv('FIELDSEAL_LOCAL_KEYS'),
      blindIndexKey: process.env.FIELDSEAL_BLIND_INDEX_KEY,
    };
  }
  if (!existsSync(devKeyFile)) {
    const masterKeys = LocalKeyring.generateKeyText('dev-1');
    const blindIndexKey = await BlindIndex.generateKey(LocalKeyring.fromString(masterKeys));
    mkdirSync(dirname(devKeyFile), { recursive: true });
    writeFileSync(devKeyFile, JSON.stringify({ masterKeys, blindIndexKey }, null, 2), { mode: 0o600 });
  }
  const { masterKeys, blindIndexKey } = JSON.parse(readFileSync(devKeyFile, 'utf8')) as {
    masterKeys: string;
    blindIndexKey: string;
  };
  return { keyring: LocalKeyring.fromString(masterKeys), blindIndexKey };
}
