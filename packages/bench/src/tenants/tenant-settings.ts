/** The keyring settings `bench tenants` compares. */
export type TenantSetting = 'per-row' | 'caching' | 'branch-tenant' | 'branch-global';

export const TENANT_SETTINGS: readonly TenantSetting[] = [
  'per-row',
  'caching',
  'branch-tenant',
  'branch-global',
];

/** How each setting is named in tables and charts. */
export const TENANT_SETTING_NAMES: Readonly<Record<TenantSetting, string>> = {
  'per-row': 'per-row KMS (no cache)',
  caching: 'CachingKeyring (defaults)',
  'branch-tenant': 'branch keys, one per tenant',
  'branch-global': 'branch keys, one global',
};
