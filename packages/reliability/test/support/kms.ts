import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateKeyCommand, KMSClient, type KMSClientConfig } from '@aws-sdk/client-kms';
import { AwsKmsKeyring } from '@fieldseal/aws-kms';
import { type KmsServer, startKmsServer } from '@fieldseal/kms-local';

/**
 * A kms-local server (keys persisted to a temp file, so it can be stopped and started again on
 * the same port, like a KMS outage), a real `KMSClient` and an `AwsKmsKeyring` on one key.
 */
export interface KmsRig {
  server: KmsServer;
  readonly client: KMSClient;
  readonly keyArn: string;
  readonly keyring: AwsKmsKeyring;
  /** Where the server keeps its keys (material in the clear: the tests search for it). */
  readonly dataFile: string;
  /** Stops the server: every call fails to connect (KMS unreachable). */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same keys. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts the rig. `clientConfig` reaches the SDK client (retries, timeouts); by default the
 * SDK's own standard retry strategy with backoff and 3 attempts, as in production.
 */
export async function startKms(clientConfig: Partial<KMSClientConfig> = {}): Promise<KmsRig> {
  const dir = mkdtempSync(join(tmpdir(), 'fs-rel-kms-'));
  const dataFile = join(dir, 'kms.json');
  let server = await startKmsServer({ port: 0, dataFile, warn: () => {} });
  const port = server.port;
  const client = new KMSClient({ ...server.clientConfig, ...clientConfig });
  const { KeyMetadata } = await client.send(new CreateKeyCommand({ Description: 'reliability' }));
  const keyArn = KeyMetadata?.Arn as string;
  const rig: KmsRig = {
    get server() {
      return server;
    },
    set server(value) {
      server = value;
    },
    client,
    keyArn,
    keyring: new AwsKmsKeyring({ keyId: keyArn, client }),
    dataFile,
    stop: () => server.close(),
    start: async () => {
      server = await startKmsServer({ port, dataFile, warn: () => {} });
    },
    close: async () => {
      client.destroy();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return rig;
}
