import { CreateAliasCommand, CreateKeyCommand, KMSClient, type KMSClientConfig } from '@aws-sdk/client-kms';
import { type KmsServer, type KmsServerOptions, startKmsServer } from '@fieldseal/kms-local';
import { afterEach } from 'vitest';
import { AwsKmsKeyring, type AwsKmsKeyringOptions } from '../src/index.js';

const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Registers a cleanup to run after the current test. */
export function onCleanup(cleanup: () => Promise<void> | void): void {
  cleanups.push(cleanup);
}

/** A kms-local server on a free port, closed after the test. */
export async function startServer(options: KmsServerOptions = {}): Promise<KmsServer> {
  const server = await startKmsServer({ port: 0, warn: () => {}, ...options });
  onCleanup(() => server.close());
  return server;
}

/** A real `KMSClient` talking HTTP to `server`; no retries unless asked. */
export function clientFor(server: KmsServer, config: Partial<KMSClientConfig> = {}): KMSClient {
  const client = new KMSClient({ ...server.clientConfig, maxAttempts: 1, ...config });
  onCleanup(() => client.destroy());
  return client;
}

/** Creates a key (optionally with an alias); returns its id and ARN. */
export async function createKey(client: KMSClient, alias?: string): Promise<{ keyId: string; arn: string }> {
  const { KeyMetadata } = await client.send(new CreateKeyCommand({}));
  const keyId = KeyMetadata?.KeyId as string;
  if (alias) await client.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: keyId }));
  return { keyId, arn: KeyMetadata?.Arn as string };
}

/** A server, a client and one key: the usual start of a test. */
export async function setup(
  serverOptions: KmsServerOptions = {},
  clientConfig: Partial<KMSClientConfig> = {},
) {
  const server = await startServer(serverOptions);
  const client = clientFor(server, clientConfig);
  const key = await createKey(client);
  const keyring = (options: Partial<AwsKmsKeyringOptions> = {}) =>
    new AwsKmsKeyring({ keyId: key.arn, client, ...options });
  return { server, client, key, keyring };
}

/** Resolves with the rejection of `promise`; fails the test if it resolves. */
export async function rejection(
  promise: Promise<unknown>,
): Promise<Error & { code?: string; keyId?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

/**
 * The SDK's retry contract (RetryStrategyV2) with a fixed, short delay instead of the
 * default backoff (1 s base for throttling), so retry tests take milliseconds.
 */
export function fastRetries(maxAttempts: number, delayMs = 2): NonNullable<KMSClientConfig['retryStrategy']> {
  const token = (count: number) => ({ getRetryCount: () => count, getRetryDelay: () => delayMs });
  return {
    mode: 'standard',
    acquireInitialRetryToken: async () => token(0),
    refreshRetryTokenForRetry: async (previous: { getRetryCount(): number }, info: { errorType: string }) => {
      const retryable = info.errorType === 'THROTTLING' || info.errorType === 'TRANSIENT';
      if (!retryable || previous.getRetryCount() + 1 >= maxAttempts)
        throw new Error('No retry token available');
      return token(previous.getRetryCount() + 1);
    },
    recordSuccess: () => {},
  };
}

export const tableContext = { 'fieldseal:table': 'users' } as const;
