// One development master key for the apps and the CLI config, kept next to the databases.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalKeyring } from '@fieldseal/core';

export const dataDir = process.env.APP_DATA_DIR ?? join(import.meta.dirname, '.data');
mkdirSync(dataDir, { recursive: true });

/** The LocalKeyring of this app, created on first use. */
export function appKeyring() {
  const file = join(dataDir, 'keys.txt');
  if (!existsSync(file)) {
    writeFileSync(file, LocalKeyring.generateKeyText('dev-1'), { mode: 0o600 });
  }
  return LocalKeyring.fromString(readFileSync(file, 'utf8'));
}
