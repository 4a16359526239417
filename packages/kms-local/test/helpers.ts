import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateKeyCommand, KMSClient, type KMSClientConfig } from '@aws-sdk/client-kms';
import { afterEach } from 'vitest';
import { type KmsServer, type KmsServerOptions, startKmsServer } from '../src/index.js';

const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Starts a server on a free port, closed after the test. */
export async function startServer(options: KmsServerOptions = {}): Promise<KmsServer> {
  const server = await startKmsServer({ port: 0, warn: () => {}, ...options });
  cleanups.push(() => server.close());
  return server;
}

/** A real SDK client pointed at `server`; no retries unless asked, so failures show at once. */
export function clientFor(server: KmsServer, config: Partial<KMSClientConfig> = {}): KMSClient {
  const client = new KMSClient({
    endpoint: server.endpoint,
    region: server.region,
    credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local-secret' },
    maxAttempts: 1,
    ...config,
  });
  cleanups.push(() => client.destroy());
  return client;
}

/** A fresh temporary directory, removed after the test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kms-local-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Creates a key and returns its id and ARN. */
export async function createKey(client: KMSClient): Promise<{ keyId: string; arn: string }> {
  const { KeyMetadata } = await client.send(new CreateKeyCommand({}));
  return { keyId: KeyMetadata?.KeyId as string, arn: KeyMetadata?.Arn as string };
}

/** Sends a raw JSON 1.1 request, to see exactly what goes over the wire. */
export async function rawCall(
  server: KmsServer,
  operation: string,
  body: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${server.endpoint}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `TrentService.${operation}` },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

/** Resolves with the rejection of `promise` (fails the test if it resolves). */
export async function rejection(
  promise: Promise<unknown>,
): Promise<Error & { $metadata?: { httpStatusCode?: number; attempts?: number } }> {
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
export function fastRetries(
  maxAttempts: number,
  delayMs = 5,
  onRetry: () => void = () => {},
): NonNullable<KMSClientConfig['retryStrategy']> {
  const token = (count: number) => ({ getRetryCount: () => count, getRetryDelay: () => delayMs });
  return {
    mode: 'standard',
    acquireInitialRetryToken: async () => token(0),
    refreshRetryTokenForRetry: async (previous: { getRetryCount(): number }, info: { errorType: string }) => {
      const retryable = info.errorType === 'THROTTLING' || info.errorType === 'TRANSIENT';
      if (!retryable || previous.getRetryCount() + 1 >= maxAttempts)
        throw new Error('No retry token available');
      onRetry();
      return token(previous.getRetryCount() + 1);
    },
    recordSuccess: () => {},
  };
}
