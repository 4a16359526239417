import { isKeyringError, KeyringError, type KeyringErrorCode } from '@fieldseal/core';

/** The KMS call that failed, as named in IAM (`kms:Decrypt`, …). */
export type KmsCall = 'GenerateDataKey' | 'Decrypt' | 'ReEncrypt';

/** Key administration the keyring can also do (not counted in `KmsStats`). */
export type KmsAdminCall = 'ScheduleKeyDeletion';

interface SdkErrorLike {
  readonly name?: string;
  readonly message?: string;
  readonly code?: string;
  readonly $fault?: 'client' | 'server';
  readonly $metadata?: { readonly attempts?: number; readonly httpStatusCode?: number };
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ECONNABORTED',
  'ENETUNREACH',
]);

/** KMS and SDK errors known to be temporary: the only ones mapped to `unavailable`. */
const TRANSIENT_NAMES = new Set([
  'KMSInternalException',
  'DependencyTimeoutException',
  'InternalFailure',
  'InternalError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
]);

/**
 * A key KMS cannot use now because its key store (XKS proxy, CloudHSM) is disconnected or
 * refuses: how a key owner can cut access, so never treated as a temporary outage.
 */
const KEY_STORE_NAME = /^(Xks|CustomKeyStore|CloudHsm|KeyUnavailable)/;

/** True when the SDK error is a known temporary failure: network, timeout or a server fault. */
function isTransient(e: SdkErrorLike, name: string): boolean {
  if (TRANSIENT_NAMES.has(name)) return true;
  if (e.code !== undefined && NETWORK_CODES.has(e.code)) return true;
  const status = e.$metadata?.httpStatusCode;
  return e.$fault === 'server' || (typeof status === 'number' && status >= 500);
}

/**
 * Turns an error from the KMS client into a `KeyringError` whose message says what happened
 * and what to do, keeping the original as `cause`. Messages hold key ids, never key bytes.
 */
export function toKeyringError(error: unknown, call: KmsCall | KmsAdminCall, keyId: string): KeyringError {
  if (isKeyringError(error)) return error;
  const e = (error ?? {}) as SdkErrorLike;
  const name = e.name ?? 'Error';
  const detail = e.message ? ` (KMS said: ${e.message})` : '';
  const make = (code: KeyringErrorCode, message: string) =>
    new KeyringError(code, message, { keyId, cause: error });

  switch (name) {
    case 'NotFoundException':
      return make(
        'key-not-found',
        `kms:${call} failed: KMS key "${keyId}" was not found. Check the key id, ARN or alias, and that the client's region is the key's region${detail}`,
      );
    case 'DisabledException':
      return make(
        'key-disabled',
        `kms:${call} failed: KMS key "${keyId}" is disabled. Enable it (aws kms enable-key) or configure another key${detail}`,
      );
    case 'KMSInvalidStateException':
      return /deletion/i.test(e.message ?? '')
        ? make(
            'key-pending-deletion',
            `kms:${call} failed: KMS key "${keyId}" is pending deletion. Cancel the deletion (aws kms cancel-key-deletion) and enable the key before its window ends, or data under it is lost${detail}`,
          )
        : make(
            'key-disabled',
            `kms:${call} failed: KMS key "${keyId}" is not in a usable state (disabled, pending import, or its custom key store is disconnected)${detail}`,
          );
    case 'AccessDeniedException':
    case 'UnrecognizedClientException':
    case 'InvalidSignatureException':
    case 'ExpiredTokenException':
    case 'CredentialsProviderError':
    case 'InvalidGrantTokenException':
      return make(
        'access-denied',
        `kms:${call} was denied for KMS key "${keyId}" (${name}). The caller needs kms:${call} on this key, allowed by the key policy and IAM for this encryption context, and valid credentials; see docs/kms.md${detail}`,
      );
    case 'InvalidCiphertextException':
      return make(
        'invalid-ciphertext',
        `kms:${call} failed: KMS rejected the encrypted data key for key "${keyId}". It was altered, or it was made with another encryption context (another table or tenant?)${detail}`,
      );
    case 'IncorrectKeyException':
      return make(
        'unknown-master-key',
        `kms:${call} failed: the data key was not wrapped by KMS key "${keyId}". Add the key that wrapped it to decryptKeyIds, or enable discovery${detail}`,
      );
    case 'InvalidKeyUsageException':
      return make(
        'not-allowed',
        `kms:${call} failed: KMS key "${keyId}" cannot do symmetric encryption; use a SYMMETRIC_DEFAULT ENCRYPT_DECRYPT key${detail}`,
      );
    case 'ThrottlingException':
    case 'LimitExceededException':
    case 'TooManyRequestsException': {
      const attempts = e.$metadata?.attempts;
      return make(
        'throttled',
        `kms:${call} for key "${keyId}" was throttled by KMS${attempts ? ` after ${attempts} attempts` : ''}. Wrap the keyring in CachingKeyring to make fewer calls, let the SDK retry more (maxAttempts), or raise the KMS request quota${detail}`,
      );
    }
    default: {
      if (KEY_STORE_NAME.test(name)) {
        return make(
          'key-disabled',
          `kms:${call} failed: the key store of KMS key "${keyId}" cannot use the key (${name}); its external or CloudHSM key store is disconnected or refused. Reconnect it${detail}`,
        );
      }
      if (isTransient(e, name)) {
        const network = e.code !== undefined && NETWORK_CODES.has(e.code);
        return make(
          'unavailable',
          `kms:${call} for key "${keyId}" failed: ${network ? `KMS endpoint unreachable (${e.code})` : `${name}${detail}`}. Retry later; check the endpoint, region and network`,
        );
      }
      return make(
        'unknown-error',
        `kms:${call} for key "${keyId}" failed with an error fieldseal does not recognise (${name}); not treated as a temporary outage, so no cached key is served past its age${detail}`,
      );
    }
  }
}
