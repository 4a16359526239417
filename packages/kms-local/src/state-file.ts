import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { KmsLocalConfigError } from './config-error.js';
import type { StoreSnapshot } from './key-model.js';

/**
 * Reads the data file; `undefined` when it does not exist yet. Key material is stored in
 * the clear (base64): the file is for development and tests only.
 */
export function loadState(path: string): StoreSnapshot | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new KmsLocalConfigError('dataFile', `${path} is not JSON; move it away or give another path`);
  }
  const state = parsed as Partial<StoreSnapshot> | null;
  if (
    state?.format !== 'fieldseal-kms-local/1' ||
    !Array.isArray(state.keys) ||
    !Array.isArray(state.aliases)
  ) {
    throw new KmsLocalConfigError(
      'dataFile',
      `${path} is not a kms-local data file (format fieldseal-kms-local/1)`,
    );
  }
  return state as StoreSnapshot;
}

/**
 * Writes the data file atomically: a temporary file created with mode 0600 in the same
 * directory, then renamed over the old one, so a crash never leaves half a file.
 */
export function saveState(path: string, snapshot: StoreSnapshot): void {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, `${JSON.stringify(snapshot, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    renameSync(tmp, path);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  }
}
