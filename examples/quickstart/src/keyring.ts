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
 * `FIELDSEAL_LOCAL_KEYS` when set (what a real app does); otherwise a development key made on
 * first run and kept in .data/dev-master-key (never do that with real data).
 */
export async function loadKeyring(dataDir: string): Promise<LoadedKeyring> {
  if (process.env.FIELDSEAL_LOCAL_KEYS) {
    return { keyring: LocalKeyring.fromEnv(), description: 'local key from FIELDSEAL_LOCAL_KEYS', close: async () => {} };
  }
  const file = join(dataDir, 'dev-master-key');
  if (!existsSync(file)) writeFileSync(file, `${LocalKeyring.generateKeyText('dev-1')}\n`, { mode: 0o600 });
  readFileSync(file); // fail early and clearly if unreadable
  return { keyring: LocalKeyring.fromFile(file), description: 'local development key in .data/dev-master-key', close: async () => {} };
}
