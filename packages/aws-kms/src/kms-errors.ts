import { KeyringError, type KeyringErrorCode } from '@fieldseal/core';

/** The KMS call that failed, as named in IAM (`kms:Decrypt`, …). */
export type KmsCall = 'GenerateDataKey' | 'Decrypt' | 'ReEncrypt';

interface SdkErrorLike {
  readonly name?: string;
  readonly message?: string;
  readonly code?: string;
  readonly $metadata?: { readonly attempts?: number };
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
]);

/**
 * Turns an error from the KMS client into a `KeyringError` whose message says what happened
 * and what to do, keeping the original as `cause`. Messages hold key ids, never key bytes.
 */
export function toKeyringError(error: unknown, call: KmsCall, keyId: string): KeyringError {
  if (error instanceof KeyringError) return error;
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
        : make('unavailable', `kms:${call} failed: KMS key "${keyId}" is not in a usable state${detail}`);
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
      const network = e.code !== undefined && NETWORK_CODES.has(e.code);
      return make(
        'unavailable',
        `kms:${call} for key "${keyId}" failed: ${network ? `KMS endpoint unreachable (${e.code})` : `${name}${detail}`}. Retry later; check the endpoint, region and network`,
      );
    }
  }
}
