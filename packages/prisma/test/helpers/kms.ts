import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { AwsKmsKeyring } from '@fieldseal/aws-kms';
import { type KmsServer, startKmsServer } from '@fieldseal/kms-local';

/** A kms-local server, the real AWS SDK client talking to it (no retries) and a keyring on one key. */
export interface LocalKms {
  readonly server: KmsServer;
  readonly keyring: AwsKmsKeyring;
  /** Makes every KMS request fail (an outage) until `recover()`. */
  outage(): void;
  recover(): void;
  close(): Promise<void>;
}

export async function startLocalKms(): Promise<LocalKms> {
  const server = await startKmsServer({ port: 0, warn: () => {} });
  const client = new KMSClient({ ...server.clientConfig, maxAttempts: 1 });
  const { KeyMetadata } = await client.send(new CreateKeyCommand({}));
  const keyring = new AwsKmsKeyring({ keyId: KeyMetadata?.Arn as string, client });
  return {
    server,
    keyring,
    outage: () => server.setFaults({ failNext: { count: 1_000_000, errorType: 'KMSInternalException' } }),
    recover: () => server.setFaults({ failNext: null }),
    close: async () => {
      client.destroy();
      await server.close();
    },
  };
}
