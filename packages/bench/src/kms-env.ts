import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { AwsKmsKeyring, type KmsEvent } from '@fieldseal/aws-kms';
import { CachingKeyring } from '@fieldseal/cache';
import type { Keyring } from '@fieldseal/core';
import { type FaultSettings, type KmsServer, startKmsServer } from '@fieldseal/kms-local';
import type { CacheSetting } from './settings.js';

/** Simulated KMS behaviour. */
export interface KmsProfile {
  /** Milliseconds added to every KMS request. */
  readonly latencyMs: number;
  /** Up to this many more milliseconds, uniformly random. */
  readonly jitterMs: number;
  /** Cryptographic requests per second before `ThrottlingException`; 0 for none. */
  readonly rateLimit: number;
  /** HTTP attempts the SDK makes per call (its standard retry strategy, with back-off). */
  readonly maxAttempts: number;
}

const CRYPTO_OPERATIONS = [
  'GenerateDataKey',
  'Decrypt',
  'Encrypt',
  'ReEncrypt',
  'GenerateDataKeyWithoutPlaintext',
];

/** What KMS saw during one measured run. */
export interface KmsCounts {
  /** Cryptographic requests the server received, throttled ones and retries included. */
  readonly requests: number;
  /** Requests the server refused with `ThrottlingException`. */
  readonly throttledByServer: number;
  /** Throttled attempts the keyring's metrics hook reported. */
  readonly throttles: number;
  /** Retries the keyring's metrics hook reported. */
  readonly retries: number;
  /** Keyring-level calls that failed after retries. */
  readonly failedCalls: number;
}

/** A keyring for one run and the counters it feeds. */
export interface RunKeyring {
  readonly keyring: Keyring;
  /** The `CachingKeyring`, when the setting has a cache. */
  readonly cache: CachingKeyring | undefined;
  /** Reads what KMS saw since this keyring was made. */
  counts(): KmsCounts;
  close(): void;
}

/**
 * kms-local started in-process with the profile's latency, jitter and quota; one key; one real
 * `KMSClient` (SDK retries on) shared by every keyring of the run.
 */
export class KmsEnvironment {
  readonly server: KmsServer;
  readonly client: KMSClient;
  readonly keyArn: string;
  readonly profile: KmsProfile;

  private constructor(server: KmsServer, client: KMSClient, keyArn: string, profile: KmsProfile) {
    this.server = server;
    this.client = client;
    this.keyArn = keyArn;
    this.profile = profile;
  }

  static async start(profile: KmsProfile): Promise<KmsEnvironment> {
    const server = await startKmsServer({ port: 0, warn: () => {} });
    const client = new KMSClient({ ...server.clientConfig, maxAttempts: profile.maxAttempts });
    const { KeyMetadata } = await client.send(new CreateKeyCommand({ Description: 'fieldseal bench' }));
    const env = new KmsEnvironment(server, client, KeyMetadata?.Arn as string, profile);
    env.applyProfile();
    return env;
  }

  /** Latency, jitter and quota on, as the profile says. */
  applyProfile(): void {
    const { latencyMs, jitterMs, rateLimit } = this.profile;
    this.server.setFaults({ latencyMs, jitterMs, rateLimit });
  }

  /** Runs `task` against a fast, unlimited KMS (for seeding data, which is not measured). */
  async unthrottled<T>(task: () => Promise<T>): Promise<T> {
    this.server.setFaults({ latencyMs: 0, jitterMs: 0, rateLimit: 0 } satisfies Partial<FaultSettings>);
    try {
      return await task();
    } finally {
      this.applyProfile();
    }
  }

  /** Cryptographic requests received so far, and how many were throttled. */
  serverCounts(): { requests: number; throttled: number } {
    const stats = this.server.stats();
    let requests = 0;
    let throttled = 0;
    for (const operation of CRYPTO_OPERATIONS) {
      requests += stats.requests[operation] ?? 0;
      throttled += stats.throttled[operation] ?? 0;
    }
    return { requests, throttled };
  }

  /** An `AwsKmsKeyring` on the shared client, behind a `CachingKeyring` unless the setting is off. */
  keyring(setting: CacheSetting): RunKeyring {
    const hook = { throttles: 0, retries: 0, failedCalls: 0 };
    const onEvent = (event: KmsEvent) => {
      if (event.type === 'throttle') hook.throttles++;
      else if (event.type === 'retry') hook.retries++;
      else if (!event.ok) hook.failedCalls++;
    };
    const kms = new AwsKmsKeyring({ keyId: this.keyArn, client: this.client, onEvent });
    const cache = setting.cache === false ? undefined : new CachingKeyring(kms, setting.cache);
    const start = this.serverCounts();
    return {
      keyring: cache ?? kms,
      cache,
      counts: () => {
        const now = this.serverCounts();
        return {
          requests: now.requests - start.requests,
          throttledByServer: now.throttled - start.throttled,
          ...hook,
        };
      },
      close: () => cache?.close(),
    };
  }

  async close(): Promise<void> {
    this.client.destroy();
    await this.server.close();
  }
}
