import { timingSafeEqual } from 'node:crypto';
import {
  ConfigError,
  type EncryptionContext,
  isKeyringError,
  type Keyring,
  KeyringError,
  type SqlExecutor,
} from '@fieldseal/core';
import { BranchKeyCache } from './branch-key-cache.js';
import { BRANCH_KEY_LENGTH, rowMac } from './branch-key-kdf.js';
import { type BranchKeyRow, type BranchKeyStatus, BranchKeyTable } from './branch-key-table.js';
import { type BranchRef, branchKeyId } from './wrapped-data-key.js';

/** Options of {@link BranchKeyStore}. */
export interface BranchKeyStoreOptions {
  /** Runs SQL on the app's database (`sqlExecutor(...)` of the Prisma or TypeORM adapter). */
  readonly executor: SqlExecutor;
  /** The master keyring (usually AWS KMS) that wraps branch keys. Do not put a `CachingKeyring` in front: this store caches. */
  readonly keyring: Keyring;
  /** A tenant's own master keyring (bring your own key); `keyring` otherwise. Called with the scope ('' = global). */
  readonly keyringFor?: (scope: string) => Keyring | Promise<Keyring>;
  /** Key-store table name. Defaults to `fieldseal_branch_keys`. */
  readonly table?: string;
  /**
   * How long this process keeps an unwrapped branch key and a scope's active version, in
   * milliseconds. One KMS call per branch key per TTL per process. Also bounds how long another
   * process may keep using a key after `shred` or `rotate`. Defaults to 300,000 (5 minutes).
   */
  readonly cacheTtlMs?: number;
  /** Most branch keys kept unwrapped at once (oldest dropped first). Defaults to 10,000. */
  readonly maxCachedKeys?: number;
}

/** A branch key's public facts (never key bytes). */
export interface BranchKeyInfo {
  readonly scope: string;
  readonly version: number;
  readonly status: BranchKeyStatus;
  /** The master key that wrapped it. */
  readonly keyId: string;
  readonly createdAt: string;
}

/** The outcome of {@link BranchKeyStore.check} for one branch key. */
export interface BranchKeyCheck extends BranchKeyInfo {
  readonly state: 'ok' | 'shredded' | 'damaged';
  /** Why it is damaged. */
  readonly problem?: string;
}

/** A master key that wraps a scope's live branch keys (see {@link BranchKeyStore.masterKeysOf}). */
export interface ScopeMasterKey {
  /** The key as the key-store rows record it: what the master keyring reported (for KMS, the key ARN). */
  readonly keyId: string;
  /** The keyring that wraps the scope's keys: `keyringFor(scope)`, else the default `keyring`. */
  readonly keyring: Keyring;
  /** Why the key is not the scope's alone (so it must never be deleted with it); absent when it is. */
  readonly sharedBecause?: string;
}

/** Counters of this store since it was made: what the hierarchy saves is KMS calls. */
export interface BranchKeyStoreStats {
  /** Master-keyring calls (KMS GenerateDataKey and Decrypt of branch keys). */
  readonly kmsCalls: number;
  /** Key-store reads (SELECTs). */
  readonly dbReads: number;
}

/** The encryption context a branch key is wrapped under: its purpose, scope and version. */
export function branchKeyContext(ref: BranchRef): EncryptionContext {
  return {
    'fieldseal:purpose': 'branch-key',
    'fieldseal:tenant': ref.scope,
    'fieldseal:branch-version': String(ref.version),
  };
}

const damaged = (ref: BranchRef, why: string, cause?: unknown) =>
  new KeyringError('key-store-damaged', `Branch key ${branchKeyId(ref)} ${why}`, {
    keyId: branchKeyId(ref),
    ...(cause === undefined ? {} : { cause }),
  });

/**
 * Branch keys in the app's database (`fieldseal_branch_keys`): per tenant (scope = tenant id)
 * or global (scope ''), versioned, each wrapped by the master keyring under a context naming
 * its scope and version, and authenticated by a MAC keyed from the branch key itself, so a
 * row altered in SQL is refused (`key-store-damaged`). Shredding destroys a scope's keys.
 */
export class BranchKeyStore {
  readonly table: BranchKeyTable;
  readonly #options: BranchKeyStoreOptions;
  readonly #keys: BranchKeyCache<Buffer>;
  readonly #active: BranchKeyCache<BranchRef>;
  #kmsCalls = 0;
  #dbReads = 0;

  constructor(options: BranchKeyStoreOptions) {
    if (!options?.executor || typeof options.executor.query !== 'function')
      throw new ConfigError('executor', 'an SqlExecutor is required');
    if (!options.keyring || typeof options.keyring.generateDataKey !== 'function')
      throw new ConfigError('keyring', 'a master Keyring (e.g. AwsKmsKeyring) is required');
    const ttl = options.cacheTtlMs ?? 300_000;
    if (!Number.isFinite(ttl) || ttl < 0)
      throw new ConfigError('cacheTtlMs', 'must be a number of milliseconds ≥ 0');
    const max = options.maxCachedKeys ?? 10_000;
    if (!Number.isInteger(max) || max < 1)
      throw new ConfigError('maxCachedKeys', 'must be a whole number ≥ 1');
    this.#options = options;
    this.table = new BranchKeyTable(options.executor, options.table);
    this.#keys = new BranchKeyCache(ttl, max);
    this.#active = new BranchKeyCache(ttl, max);
  }

  get stats(): BranchKeyStoreStats {
    return { kmsCalls: this.#kmsCalls, dbReads: this.#dbReads };
  }

  /** Creates the key-store table when missing. */
  ensureTable(): Promise<void> {
    return this.table.ensure();
  }

  /** Every branch key of `scope` (or all), newest first. */
  async list(scope?: string): Promise<BranchKeyInfo[]> {
    this.#dbReads++;
    return (await this.table.rows(scope)).map(info);
  }

  /** Creates version 1 of `scope`'s branch key; fails when the scope already has one. */
  async create(scope: string): Promise<BranchKeyInfo> {
    const existing = await this.list(scope);
    if (existing.length > 0)
      throw new ConfigError(
        'scope',
        `branch key of ${label(scope)} exists (version ${existing[0]?.version}); use rotate`,
      );
    return this.#add(scope, 1);
  }

  /** Adds the next version of `scope`'s branch key, which becomes active; older versions stay readable. */
  async rotate(scope: string): Promise<BranchKeyInfo> {
    for (let attempt = 1; ; attempt++) {
      const rows = await this.list(scope);
      if (rows.some((row) => row.status === 'shredded'))
        throw new KeyringError(
          'key-shredded',
          `Branch keys of ${label(scope)} were shredded; refusing to rotate`,
        );
      try {
        return await this.#add(scope, (rows[0]?.version ?? 0) + 1);
      } catch (error) {
        // Another process added the same version first (primary key): read again and go one higher.
        if (attempt >= 5 || isKeyringError(error)) throw error;
      }
    }
  }

  /**
   * Destroys every branch key of `scope`: marks them `shredded` and overwrites the wrapped keys
   * and MACs with NULL. Data keys wrapped under them can never be unwrapped again. Returns what
   * was destroyed. Other processes may keep a cached key up to `cacheTtlMs`.
   */
  async shred(scope: string): Promise<BranchKeyInfo[]> {
    const destroyed = await this.table.executor.transaction(async (tx) => {
      const rows = await this.table.rows(scope, tx);
      await this.table.shred(scope, tx);
      return rows.filter((row) => row.status !== 'shredded').map(info);
    });
    this.forget(scope);
    return destroyed;
  }

  /**
   * The master keys that wrap `scope`'s live branch keys, each with why it is shared, if it is:
   * the global scope's key, the default keyring's key (no `keyringFor`, or `keyringFor` gave the
   * default keyring back), or a key that a live branch key of another scope also records. Only
   * a key with no `sharedBecause` is the tenant's own — the one `fieldseal shred` may delete.
   */
  async masterKeysOf(scope: string): Promise<ScopeMasterKey[]> {
    const rows = (await this.list()).filter((row) => row.status !== 'shredded');
    const keyring = await this.#masterFor(scope);
    const fallback = this.#options.keyring;
    const common =
      scope === ''
        ? "it wraps the global scope's branch keys"
        : !this.#options.keyringFor || keyring === fallback || keyring.name === fallback.name
          ? 'it is the default keyring’s key, shared by every scope without its own'
          : undefined;
    const ids = [...new Set(rows.filter((row) => row.scope === scope).map((row) => row.keyId))];
    return ids.map((keyId) => {
      const others = [
        ...new Set(rows.filter((r) => r.scope !== scope && r.keyId === keyId).map((r) => r.scope)),
      ];
      const sharedBecause =
        common ??
        (others.length > 0 ? `branch keys of ${others.map(label).join(', ')} use it too` : undefined);
      return { keyId, keyring, ...(sharedBecause === undefined ? {} : { sharedBecause }) };
    });
  }

  /**
   * Unwraps and checks every branch key of `scope` (or all) without the cache, one KMS call
   * each: `ok`, `shredded` (destroyed on purpose) or `damaged` (missing material, altered row).
   * Other failures (KMS unreachable, access denied) are thrown, not reported as damage.
   */
  async check(scope?: string): Promise<BranchKeyCheck[]> {
    const out: BranchKeyCheck[] = [];
    for (const key of await this.list(scope)) {
      if (key.status === 'shredded') {
        out.push({ ...key, state: 'shredded' });
        continue;
      }
      try {
        await this.#load(key);
        out.push({ ...key, state: 'ok' });
      } catch (error) {
        if (!isKeyringError(error) || error.code !== 'key-store-damaged') throw error;
        out.push({ ...key, state: 'damaged', problem: error.message });
      }
    }
    return out;
  }

  /** Drops this process's cached keys of `scope` (or all). */
  forget(scope?: string): void {
    const matches = (id: string) => scope === undefined || id.slice(id.indexOf(':') + 1) === scope;
    this.#keys.deleteWhere(matches);
    this.#active.deleteWhere((id) => scope === undefined || id === `a:${scope}`);
  }

  /**
   * The active (newest) branch key of `scope`, from cache or from the table and KMS. With
   * `createMissing`, a scope without keys gets version 1. A shredded scope is refused
   * (`key-shredded`), so a destroyed tenant never silently gets new keys.
   */
  async activeKey(scope: string, createMissing: boolean): Promise<{ ref: BranchRef; key: Buffer }> {
    const ref = await this.#active.get(`a:${scope}`, async () => {
      const rows = await this.list(scope);
      if (rows.some((row) => row.status === 'shredded'))
        throw new KeyringError(
          'key-shredded',
          `Branch keys of ${label(scope)} were shredded; its data is gone`,
        );
      const newest = rows[0];
      if (newest) return { scope, version: newest.version };
      if (!createMissing)
        throw new KeyringError(
          'key-not-found',
          `No branch key for ${label(scope)}; run \`fieldseal branch-key create\``,
        );
      try {
        return { scope, version: (await this.#add(scope, 1)).version };
      } catch (error) {
        const again = await this.list(scope); // created by another process meanwhile
        if (again[0]) return { scope, version: again[0].version };
        throw error;
      }
    });
    return { ref, key: await this.key(ref) };
  }

  /** The branch key `ref`, unwrapped and checked (cached for the TTL). */
  key(ref: BranchRef): Promise<Buffer> {
    return this.#keys.get(`${ref.version}:${ref.scope}`, () => this.#load(ref));
  }

  /** Reads, unwraps and checks one branch key without the cache: `key-shredded`, `key-store-damaged`, or a KMS error. */
  async #load(ref: BranchRef): Promise<Buffer> {
    this.#dbReads++;
    const row = await this.table.row(ref.scope, ref.version);
    if (!row) throw damaged(ref, 'is missing from the key store (row deleted?)');
    if (row.status === 'shredded')
      throw new KeyringError(
        'key-shredded',
        `Branch key ${branchKeyId(ref)} was shredded; data under it is gone by design`,
        {
          keyId: branchKeyId(ref),
        },
      );
    if (row.wrappedKey === null || row.mac === null)
      throw damaged(ref, 'has no wrapped key or MAC but is not shredded');
    const master = await this.#masterFor(ref.scope);
    let key: Buffer;
    try {
      this.#kmsCalls++;
      key = Buffer.from(
        await master.decryptDataKey(Buffer.from(row.wrappedKey, 'base64'), branchKeyContext(ref)),
      );
    } catch (error) {
      // The row's wrapped key was altered or swapped with another row's (its context names scope and version).
      if (
        isKeyringError(error) &&
        ['unwrap-failed', 'invalid-ciphertext', 'malformed-encrypted-key'].includes(error.code)
      )
        throw damaged(ref, 'failed to unwrap: the key-store row was altered', error);
      throw error;
    }
    const expected = Buffer.from(rowMac(key, { ...row, wrappedKey: row.wrappedKey }), 'hex');
    const stored = Buffer.from(row.mac, 'hex');
    if (
      key.length !== BRANCH_KEY_LENGTH ||
      stored.length !== expected.length ||
      !timingSafeEqual(stored, expected)
    )
      throw damaged(ref, 'failed its integrity check: the key-store row was altered');
    return key;
  }

  async #add(scope: string, version: number): Promise<BranchKeyInfo> {
    const ref = { scope, version };
    const master = await this.#masterFor(scope);
    this.#kmsCalls++;
    const material = await master.generateDataKey(branchKeyContext(ref));
    const key = Buffer.from(material.plaintextKey); // the keyring may wipe its copy
    const fields = {
      scope,
      version,
      keyId: material.keyId,
      wrappedKey: Buffer.from(material.encryptedKey).toString('base64'),
      createdAt: new Date().toISOString(),
    };
    const row: BranchKeyRow = { ...fields, status: 'active', mac: rowMac(key, fields) };
    await this.table.executor.transaction(async (tx) => {
      await this.table.insert(row, tx);
      await this.table.retireBelow(scope, version, tx);
    });
    this.#keys.set(`${version}:${scope}`, key);
    this.#active.set(`a:${scope}`, ref);
    return info(row);
  }

  async #masterFor(scope: string): Promise<Keyring> {
    if (!this.#options.keyringFor) return this.#options.keyring;
    const keyring = await this.#options.keyringFor(scope);
    if (!keyring || typeof keyring.decryptDataKey !== 'function')
      throw new ConfigError('keyringFor', `returned no Keyring for ${label(scope)}`);
    return keyring;
  }
}

function info(row: BranchKeyRow): BranchKeyInfo {
  return {
    scope: row.scope,
    version: row.version,
    status: row.status,
    keyId: row.keyId,
    createdAt: row.createdAt,
  };
}

/** How a scope is named in messages. */
export function label(scope: string): string {
  return scope === '' ? 'the global scope' : `tenant "${scope}"`;
}
