import { assertEncryptionContext, ConfigError, type EncryptionContext } from '@fieldseal/core';
import type { KmsEvent } from './kms-events.js';
import type { KmsOperations } from './kms-types.js';
import { isOperations, isSdkClient, type KMSClient, type KMSClientConfig } from './sdk-client.js';

/** Options of {@link AwsKmsKeyring}. */
export interface AwsKmsKeyringOptions {
  /**
   * The KMS key that wraps new data keys: a key id, key ARN, alias name (`alias/app`) or alias
   * ARN. Prefer a key ARN in production: it pins the region and account. Required.
   */
  readonly keyId: string;
  /**
   * A `KMSClient` (or the aggregated `KMS` client) to call. When absent the keyring creates one
   * from `region`, `endpoint` and `clientConfig`, and `destroy()` closes it.
   */
  readonly client?: KMSClient | KmsOperations;
  /** Region of the client the keyring creates. Defaults to the SDK's (`AWS_REGION`, config files). Not allowed with `client`. */
  readonly region?: string;
  /** Endpoint URL of the client the keyring creates, e.g. a `@fieldseal/kms-local` server. Defaults to AWS's. Not allowed with `client`. */
  readonly endpoint?: string;
  /** More settings for the client the keyring creates (credentials, maxAttempts, retryStrategy, …). Not allowed with `client`. */
  readonly clientConfig?: KMSClientConfig;
  /** Grant tokens passed with every call. Defaults to none. */
  readonly grantTokens?: readonly string[];
  /**
   * Pairs added to the encryption context of every call (e.g. `{ app: 'billing' }`), on top of
   * the per-call context fieldseal supplies. A call whose context gives one of these keys
   * another value fails. Defaults to none.
   */
  readonly encryptionContext?: EncryptionContext;
  /**
   * More keys allowed to unwrap data keys (e.g. the previous key after a rotation to a new
   * one). `keyId` is always allowed. Defaults to none.
   */
  readonly decryptKeyIds?: readonly string[];
  /**
   * Let KMS unwrap with whatever key made the data key, as long as the caller may use it
   * (Decrypt without `KeyId`). Off by default: only `keyId` and `decryptKeyIds` may unwrap.
   */
  readonly discovery?: boolean;
  /**
   * Receives every KMS call (`kms-call`: operation, `durationMs`, `ok`, `errorCode`, `attempts`),
   * every throttled attempt (`throttle`) and every SDK retry (`retry`), e.g. to feed metrics.
   * Attempt-level events need a `KMSClient` (created by the keyring or given as `client`); with
   * another `KmsOperations` object only the final outcome of each call is seen. Errors it throws
   * are ignored (they never fail the KMS call reported).
   * Defaults to none.
   */
  readonly onEvent?: (event: KmsEvent) => void;
}

/** Options after validation. */
export interface ResolvedKeyringOptions {
  readonly keyId: string;
  readonly client: KmsOperations | KMSClient | undefined;
  readonly clientConfig: KMSClientConfig;
  readonly grantTokens: readonly string[];
  readonly encryptionContext: EncryptionContext;
  readonly decryptKeyIds: readonly string[];
  readonly discovery: boolean;
  readonly onEvent: ((event: KmsEvent) => void) | undefined;
}

const KEY_REF =
  /^(?:arn:aws[\w-]*:kms:[a-z0-9-]+:\d{12}:(?:key\/[\w-]+|alias\/[\w/-]+)|alias\/[\w/-]+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$/;

/** Throws `ConfigError` unless `value` is a KMS key id, key ARN, alias name or alias ARN. */
export function assertKeyRef(value: unknown, option: string): asserts value is string {
  if (typeof value !== 'string' || !KEY_REF.test(value)) {
    throw new ConfigError(
      option,
      `must be a KMS key id, key ARN, alias name (alias/…) or alias ARN, got ${typeof value === 'string' ? JSON.stringify(value) : typeof value}`,
    );
  }
}

/** Validates every option; throws `ConfigError` naming the first bad one. */
export function resolveOptions(options: AwsKmsKeyringOptions): ResolvedKeyringOptions {
  if (options === null || typeof options !== 'object')
    throw new ConfigError('keyId', 'options with a keyId are required');
  assertKeyRef(options.keyId, 'keyId');
  const { client } = options;
  if (client !== undefined && !isOperations(client) && !isSdkClient(client)) {
    throw new ConfigError('client', 'must be a KMSClient from @aws-sdk/client-kms');
  }
  if (client !== undefined) {
    for (const option of ['region', 'endpoint', 'clientConfig'] as const) {
      if (options[option] !== undefined)
        throw new ConfigError(option, 'is ignored when client is given; configure the client instead');
    }
  }
  if (
    options.region !== undefined &&
    (typeof options.region !== 'string' || !/^[a-z]{2}(-[a-z]+)+-\d$/.test(options.region))
  ) {
    throw new ConfigError(
      'region',
      `must be an AWS region name such as eu-west-1, got ${JSON.stringify(options.region)}`,
    );
  }
  if (
    options.endpoint !== undefined &&
    (typeof options.endpoint !== 'string' || !URL.canParse(options.endpoint))
  ) {
    throw new ConfigError(
      'endpoint',
      `must be a URL such as http://127.0.0.1:4599, got ${JSON.stringify(options.endpoint)}`,
    );
  }
  const grantTokens = options.grantTokens ?? [];
  if (
    !Array.isArray(grantTokens) ||
    !grantTokens.every((token) => typeof token === 'string' && token !== '')
  ) {
    throw new ConfigError('grantTokens', 'must be an array of non-empty strings');
  }
  const encryptionContext = options.encryptionContext ?? {};
  assertEncryptionContext(encryptionContext, 'encryptionContext');
  const decryptKeyIds = options.decryptKeyIds ?? [];
  if (!Array.isArray(decryptKeyIds))
    throw new ConfigError('decryptKeyIds', 'must be an array of key ids, ARNs or aliases');
  for (const [index, id] of decryptKeyIds.entries()) assertKeyRef(id, `decryptKeyIds[${index}]`);
  if (options.discovery !== undefined && typeof options.discovery !== 'boolean') {
    throw new ConfigError('discovery', 'must be true or false');
  }
  if (options.discovery === true && decryptKeyIds.length > 0) {
    throw new ConfigError(
      'decryptKeyIds',
      'has no effect with discovery: true (any key may unwrap); remove one of them',
    );
  }
  if (options.onEvent !== undefined && typeof options.onEvent !== 'function') {
    throw new ConfigError('onEvent', 'must be a function receiving each KMS event');
  }
  return Object.freeze({
    keyId: options.keyId,
    client,
    clientConfig: {
      ...options.clientConfig,
      ...(options.region === undefined ? {} : { region: options.region }),
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    },
    grantTokens: Object.freeze([...grantTokens]),
    encryptionContext: Object.freeze({ ...encryptionContext }),
    decryptKeyIds: Object.freeze([...new Set([options.keyId, ...decryptKeyIds])]),
    discovery: options.discovery === true,
    onEvent: options.onEvent,
  });
}
