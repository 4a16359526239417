import {
  assertEncryptionNames,
  assertStoredTables,
  type EncryptionContext,
  type EncryptionNames,
  isConfigError,
  isSqlDialect,
  type Keyring,
  type SqlExecutor,
  type StoredTable,
} from '@fieldseal/core';
import { CliError } from './errors.js';

/**
 * What `fieldseal.config.ts` exports (as `export default defineConfig({...})`): the app's own
 * encryption setup, taken from its ORM adapter. Use the same keyring, blind-index key and
 * encryption context as the application, or migrated rows will not open in the app.
 */
export interface FieldsealConfig {
  /** Runs SQL on the app's database: `sqlExecutor(prisma)` or `sqlExecutor(dataSource)` from the adapter. */
  readonly executor: SqlExecutor;
  /** The encrypted models: `storedTables(metadata)` or `storedTables(dataSource)` from the adapter. */
  readonly tables: readonly StoredTable[];
  /** The app's keyring, usually a `CachingKeyring` around a KMS or local keyring. */
  readonly keyring: Keyring;
  /** The wrapped blind-index key (`fsk1:…`). Required when a table has blind-index columns. */
  readonly blindIndexKey?: string | undefined;
  /** Bytes kept per blind-index value, 8–32. Defaults to 16, as in the adapters. */
  readonly blindIndexBytes?: number;
  /** Pairs added to every data key's encryption context, as in the adapter. Defaults to none. */
  readonly encryptionContext?: EncryptionContext;
  /**
   * Encryption names by table name, exactly as given to the adapter (`{ clients: 'customers' }`):
   * sets the `binding` of each listed table that has none. See docs/rebind.md.
   */
  readonly encryptionNames?: EncryptionNames;
  /**
   * The branch-key store of `fieldseal branch-key` and `shred`, when the keyring is not a
   * `BranchKeyKeyring` (whose store is used otherwise). See docs/tenants.md.
   */
  readonly branchKeys?: BranchKeyStoreLike;
  /** Name of the lease table the CLI creates in the database. Defaults to `fieldseal_leases`. */
  readonly leaseTable?: string;
  /** Called once when the command ends (close the ORM client, the KMS client). */
  readonly close?: () => Promise<void> | void;
}

/** A config, or a (possibly async) function returning one, so connections open only when a command runs. */
export type FieldsealConfigInput = FieldsealConfig | (() => FieldsealConfig | Promise<FieldsealConfig>);

/**
 * Types a `fieldseal.config.ts`. Returns its argument unchanged.
 *
 * @example
 * export default defineConfig(async () => ({
 *   executor: sqlExecutor(prisma), tables: storedTables(fieldEncryptionMetadata), keyring,
 *   blindIndexKey: process.env.BLIND_INDEX_KEY, close: () => prisma.$disconnect(),
 * }));
 */
export function defineConfig<T extends FieldsealConfigInput>(config: T): T {
  return config;
}

/** Checks a loaded config; throws `CliError('invalid-config')` naming the option. */
export function validateConfig(config: unknown, source: string): FieldsealConfig {
  const fail = (option: string, why: string): never => {
    throw new CliError('invalid-config', `${source}: "${option}" ${why}`);
  };
  if (!config || typeof config !== 'object') return fail('default export', 'must be defineConfig({...})');
  const c = config as Partial<FieldsealConfig>;
  const executor = c.executor as Partial<SqlExecutor> | undefined;
  if (
    !executor ||
    typeof executor.query !== 'function' ||
    typeof executor.execute !== 'function' ||
    typeof executor.transaction !== 'function'
  )
    fail(
      'executor',
      'must be an SqlExecutor (sqlExecutor(...) from @fieldseal/prisma or @fieldseal/typeorm)',
    );
  if (!isSqlDialect(executor?.dialect)) fail('executor.dialect', 'must be postgres, mysql or sqlite');
  if (!c.keyring || typeof c.keyring.generateDataKey !== 'function')
    fail('keyring', 'must be a Keyring (LocalKeyring, AwsKmsKeyring, CachingKeyring)');
  try {
    assertStoredTables(c.tables);
  } catch (error) {
    if (isConfigError(error)) fail('tables', `is invalid: ${error.message}`);
    throw error;
  }
  if (c.blindIndexKey !== undefined && typeof c.blindIndexKey !== 'string')
    fail('blindIndexKey', 'must be the wrapped key text (fsk1:…)');
  if (c.close !== undefined && typeof c.close !== 'function') fail('close', 'must be a function');
  if (c.leaseTable !== undefined && !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(c.leaseTable))
    fail('leaseTable', 'must be a plain identifier');
  if (c.encryptionNames === undefined) return c as FieldsealConfig;
  try {
    assertEncryptionNames(c.encryptionNames);
  } catch (error) {
    if (isConfigError(error)) fail('encryptionNames', `is invalid: ${error.message}`);
    throw error;
  }
  const names = c.encryptionNames;
  const tables = (c.tables as StoredTable[]).map((t) =>
    t.binding === undefined && Object.hasOwn(names, t.table)
      ? { ...t, binding: names[t.table] as string }
      : t,
  );
  return { ...(c as FieldsealConfig), tables };
}

/** The tables a command works on: all of them, or the one `--model` names (by model or table name). */
export function selectTables(config: FieldsealConfig, model: string | undefined): StoredTable[] {
  if (model === undefined) return [...config.tables];
  const found = config.tables.find((table) => table.model === model || table.table === model);
  if (!found) {
    const known = config.tables.map((table) => table.model).join(', ') || '(none)';
    throw new CliError('unknown-model', `Unknown model "${model}"; the config lists: ${known}`);
  }
  return [found];
}

/**
 * The part of `@fieldseal/branch-keys`'s `BranchKeyStore` the CLI uses, described structurally so
 * the CLI does not depend on that package.
 */
export interface BranchKeyStoreLike {
  ensureTable(): Promise<void>;
  create(scope: string): Promise<BranchKeyInfoLike>;
  rotate(scope: string): Promise<BranchKeyInfoLike>;
  list(scope?: string): Promise<BranchKeyInfoLike[]>;
  check(scope?: string): Promise<(BranchKeyInfoLike & { state: string; problem?: string })[]>;
  shred(scope: string): Promise<BranchKeyInfoLike[]>;
  /** The master keys wrapping a scope's live branch keys (absent in older stores: nothing is scheduled). */
  masterKeysOf?(scope: string): Promise<ScopeMasterKeyLike[]>;
}

/** A master key of a scope, as `BranchKeyStore.masterKeysOf` reports it. */
export interface ScopeMasterKeyLike {
  readonly keyId: string;
  readonly keyring: {
    readonly name: string;
    scheduleKeyDeletion?(
      keyId: string,
      options: { pendingWindowInDays?: number },
    ): Promise<{ keyId: string; deletionDate: Date | undefined; pendingWindowInDays: number }>;
  };
  readonly sharedBecause?: string;
}

/** A branch key's public facts, as `BranchKeyStore` reports them. */
export interface BranchKeyInfoLike {
  readonly scope: string;
  readonly version: number;
  readonly status: string;
  readonly keyId: string;
  readonly createdAt: string;
}
