import { parseBlob } from './ciphertext-format.js';
import type { KeyStore } from './key-store.js';
import { KmsError } from './kms-error.js';
import { type KmsPolicy, type PolicyRequest, policyAllows } from './policy.js';
import { optionalContext, type RequestBody, requireBlob, requireString } from './request-fields.js';

/** The IAM actions a cryptographic request needs, each on its key ARN with its context. */
function policyRequests(store: KeyStore, operation: string, body: RequestBody): PolicyRequest[] {
  const named = (member: string) => store.keyArn(store.find(requireString(body, member), true).keyId);
  // Decrypt and ReEncrypt are authorised on the key that made the blob, as in KMS.
  const blobKey = () => store.keyArn(parseBlob(requireBlob(body, 'CiphertextBlob', 1, 6144)).keyId);
  switch (operation) {
    case 'Decrypt':
      return [
        { action: 'Decrypt', resource: blobKey(), context: optionalContext(body, 'EncryptionContext') },
      ];
    case 'ReEncrypt':
      return [
        {
          action: 'ReEncryptFrom',
          resource: blobKey(),
          context: optionalContext(body, 'SourceEncryptionContext'),
        },
        {
          action: 'ReEncryptTo',
          resource: named('DestinationKeyId'),
          context: optionalContext(body, 'DestinationEncryptionContext'),
        },
      ];
    default:
      return [
        { action: operation, resource: named('KeyId'), context: optionalContext(body, 'EncryptionContext') },
      ];
  }
}

/**
 * Throws `AccessDeniedException` unless `policy` allows every action the request needs — what
 * KMS answers when IAM denies, so a documented policy can be tried against real calls.
 */
export function authorize(policy: KmsPolicy, store: KeyStore, operation: string, body: RequestBody): void {
  for (const request of policyRequests(store, operation, body)) {
    if (!policyAllows(policy, request)) {
      throw new KmsError(
        'AccessDeniedException',
        `User: kms-local-caller is not authorized to perform: kms:${request.action} on resource: ${request.resource} because no identity-based policy allows the kms:${request.action} action (encryption context ${JSON.stringify(request.context)})`,
      );
    }
  }
}
