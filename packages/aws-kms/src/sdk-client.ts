import {
  DecryptCommand,
  GenerateDataKeyCommand,
  KMSClient,
  type KMSClientConfig,
  ReEncryptCommand,
  ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms';
import type { KmsCall } from './kms-errors.js';
import type { KmsOperations } from './kms-types.js';

/** Told about every HTTP attempt the SDK makes, retries included (see {@link operationsOf}). */
export interface AttemptHooks {
  /** Attempt `attempt` (from 1) failed with `error`; the SDK may retry it. `keyId` as sent. */
  attemptFailed(call: AttemptOf, attempt: number, error: unknown): void;
  /** Attempt `attempt` (2 or more) is starting after the previous one failed with `errorCode`. */
  retrying(call: AttemptOf, attempt: number, errorCode: string): void;
}

/** Which request an attempt belongs to. */
export interface AttemptOf {
  readonly operation: KmsCall;
  /** The key the request names (`KeyId`, or `SourceKeyId` for ReEncrypt); absent in discovery mode. */
  readonly keyId: string | undefined;
}

type Handler = (args: unknown) => Promise<unknown>;
interface WithStack {
  readonly middlewareStack: {
    add(
      middleware: (next: Handler) => Handler,
      options: { step: 'deserialize'; priority: 'high'; name: string },
    ): void;
  };
}

/**
 * The only module that imports `@aws-sdk/client-kms`: adapts a `KMSClient` to {@link KmsOperations}.
 * With `hooks`, each command carries a middleware that sees every attempt (it sits inside the
 * SDK's retry loop, in the deserialize step); it is added to the command, never to the caller's
 * client. An object that already has the three methods is used as it is, without hooks.
 */
export function operationsOf(client: KMSClient | KmsOperations, hooks?: AttemptHooks): KmsOperations {
  if (isOperations(client)) return client;
  const observe = <C>(call: AttemptOf, command: C): C => {
    // The SDK's own middleware types are generic over every command; this one only wraps.
    if (hooks)
      (command as unknown as WithStack).middlewareStack.add(
        attemptMiddleware(call, hooks),
        ATTEMPT_MIDDLEWARE,
      );
    return command;
  };
  return {
    generateDataKey: (input) =>
      client.send(
        observe({ operation: 'GenerateDataKey', keyId: input.KeyId }, new GenerateDataKeyCommand(input)),
      ),
    decrypt: (input) =>
      client.send(observe({ operation: 'Decrypt', keyId: input.KeyId }, new DecryptCommand(input))),
    reEncrypt: (input) =>
      client.send(observe({ operation: 'ReEncrypt', keyId: input.SourceKeyId }, new ReEncryptCommand(input))),
    scheduleKeyDeletion: (input) => client.send(new ScheduleKeyDeletionCommand(input)),
  };
}

const ATTEMPT_MIDDLEWARE = { step: 'deserialize', priority: 'high', name: 'fieldsealKmsAttempts' } as const;

/** Built once per `send`, so `attempt` counts the attempts of that one request. */
function attemptMiddleware(call: AttemptOf, hooks: AttemptHooks): (next: Handler) => Handler {
  return (next) => {
    let attempt = 0;
    let lastError = '';
    return async (args) => {
      attempt++;
      if (attempt > 1) hooks.retrying(call, attempt, lastError);
      try {
        return await next(args);
      } catch (error) {
        lastError = (error as { name?: string } | null)?.name ?? 'Error';
        hooks.attemptFailed(call, attempt, error);
        throw error;
      }
    };
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
