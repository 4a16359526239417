import { readFileSync } from 'node:fs';
import { KmsLocalConfigError } from './config-error.js';
import type { KeyStore } from './key-store.js';

/** A key the seed makes sure exists. */
export interface SeedKey {
  /** Fixed key id (UUID or `mrk-…`), so ARNs are stable across fresh starts. */
  readonly keyId?: string;
  readonly description?: string;
  /** Defaults to true. */
  readonly enabled?: boolean;
  readonly multiRegion?: boolean;
  /** 32 bytes of key material, base64, for reproducible fixtures. Random when absent. */
  readonly material?: string;
  /** Aliases (`alias/…`) pointing at this key. */
  readonly aliases?: readonly string[];
}

/**
 * Keys and aliases to pre-create. Applying a seed is idempotent: a key is created only when
 * its `keyId` (or, without one, its first alias) does not exist yet, and an alias only
 * when its name is free — so a seed can be given on every start of a persistent server.
 */
export interface KmsSeed {
  readonly keys?: readonly SeedKey[];
}

/** Reads a seed file (JSON in the {@link KmsSeed} shape). */
export function readSeedFile(path: string): KmsSeed {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as KmsSeed;
  } catch (error) {
    throw new KmsLocalConfigError(
      'seedFile',
      `${path} could not be read as JSON (${(error as Error).message})`,
    );
  }
}

/** Creates what the seed lists and the store lacks. */
export function applySeed(store: KeyStore, seed: KmsSeed): void {
  if (seed === null || typeof seed !== 'object' || (seed.keys !== undefined && !Array.isArray(seed.keys))) {
    throw new KmsLocalConfigError('seed', 'must be an object { keys: [...] }');
  }
  for (const [index, entry] of (seed.keys ?? []).entries()) {
    const aliases: readonly string[] = entry.aliases ?? [];
    const firstAlias = aliases[0];
    if (entry.keyId === undefined && firstAlias === undefined) {
      throw new KmsLocalConfigError(
        `seed.keys[${index}]`,
        'needs a keyId or at least one alias, so that restarts do not duplicate it',
      );
    }
    const known = entry.keyId ?? store.listAliases().find((alias) => alias.name === firstAlias)?.targetKeyId;
    const keyId = known !== undefined && store.byId(known) ? known : createSeedKey(store, entry, index);
    const taken = new Set(store.listAliases().map((alias) => alias.name));
    for (const alias of aliases.filter((name) => !taken.has(name))) {
      try {
        store.createAlias(alias, keyId);
      } catch (error) {
        throw new KmsLocalConfigError(`seed.keys[${index}].aliases`, (error as Error).message);
      }
    }
  }
}

function createSeedKey(store: KeyStore, entry: SeedKey, index: number): string {
  const material = entry.material === undefined ? undefined : Buffer.from(entry.material, 'base64');
  try {
    return store.createKey({
      ...(entry.keyId === undefined ? {} : { keyId: entry.keyId }),
      ...(entry.description === undefined ? {} : { description: entry.description }),
      ...(entry.enabled === undefined ? {} : { enabled: entry.enabled }),
      ...(entry.multiRegion === undefined ? {} : { multiRegion: entry.multiRegion }),
      ...(material === undefined ? {} : { material }),
    }).keyId;
  } catch (error) {
    throw new KmsLocalConfigError(`seed.keys[${index}]`, (error as Error).message);
  }
}
