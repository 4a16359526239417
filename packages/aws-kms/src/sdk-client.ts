import {
  DecryptCommand,
  GenerateDataKeyCommand,
  KMSClient,
  type KMSClientConfig,
  ReEncryptCommand,
} from '@aws-sdk/client-kms';
import type { KmsOperations } from './kms-types.js';

/** The only module that imports `@aws-sdk/client-kms`: adapts a `KMSClient` to {@link KmsOperations}. */
export function operationsOf(client: KMSClient | KmsOperations): KmsOperations {
  if (isOperations(client)) return client;
  return {
    generateDataKey: (input) => client.send(new GenerateDataKeyCommand(input)),
    decrypt: (input) => client.send(new DecryptCommand(input)),
    reEncrypt: (input) => client.send(new ReEncryptCommand(input)),
  };
}

/** True for an object that already has the three methods (e.g. the aggregated `KMS` client). */
export function isOperations(client: unknown): client is KmsOperations {
  const c = client as Partial<KmsOperations> | null;
  return (
    typeof c?.generateDataKey === 'function' &&
    typeof c.decrypt === 'function' &&
    typeof c.reEncrypt === 'function'
  );
}

/** True for something with the SDK's `send(command)`. */
export function isSdkClient(client: unknown): client is KMSClient {
  return typeof (client as { send?: unknown } | null)?.send === 'function';
}

/** A new `KMSClient` owned by the keyring. */
export function createClient(config: KMSClientConfig): KMSClient {
  return new KMSClient(config);
}

export type { KMSClient, KMSClientConfig };
