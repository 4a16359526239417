import { randomBytes } from 'node:crypto';
import { type EncryptionContext, openBlob, parseBlob, sealBlob } from './ciphertext-format.js';
import type { KeyMaterialVersion, StoredKey } from './key-model.js';
import type { KeyStore } from './key-store.js';
import { invalidCiphertext, KmsError, notFound, validation } from './kms-error.js';
import type { Operation } from './operation.js';
import {
  checkAlgorithm,
  optionalBoolean,
  optionalContext,
  optionalInteger,
  optionalString,
  type RequestBody,
  requireBlob,
  requireString,
} from './request-fields.js';

const ALGORITHM = 'SYMMETRIC_DEFAULT';

function rejectUnsupported(body: RequestBody): void {
  if (body.Recipient !== undefined && body.Recipient !== null) {
    throw new KmsError(
      'UnsupportedOperationException',
      'kms-local does not support Recipient (Nitro Enclaves).',
    );
  }
}

/** Ends a request that asked for `DryRun` once its checks passed, as KMS does. */
function dryRun(body: RequestBody): void {
  if (optionalBoolean(body, 'DryRun') === true) {
    throw new KmsError(
      'DryRunOperationException',
      'The request would have succeeded, but the DryRun option is set.',
    );
  }
}

function encryptUnder(store: KeyStore, key: StoredKey, plaintext: Uint8Array, context: EncryptionContext) {
  store.assertUsable(key);
  const material = store.currentMaterial(key);
  const blob = sealBlob({
    keyId: key.keyId,
    materialVersion: material.version,
    material: Buffer.from(material.material, 'base64'),
    plaintext,
    context,
  });
  return { blob, material };
}

/** Decrypts a blob; `keyRef`, when given, must name the key that made it. */
function decryptBlob(store: KeyStore, blob: Buffer, context: EncryptionContext, keyRef: string | undefined) {
  const parsed = parseBlob(blob);
  if (keyRef !== undefined && store.find(keyRef, true).keyId !== parsed.keyId) {
    throw new KmsError(
      'IncorrectKeyException',
      'The key ID in the request does not identify a KMS key that can perform this operation.',
    );
  }
  const key = store.byId(parsed.keyId);
  if (!key) throw notFound(`Key '${store.keyArn(parsed.keyId)}' does not exist`);
  store.assertUsable(key);
  const material: KeyMaterialVersion | undefined = store.materialVersion(key, parsed.materialVersion);
  if (!material) throw invalidCiphertext();
  const plaintext = openBlob(parsed, Buffer.from(material.material, 'base64'), context);
  return { key, material, plaintext };
}

function dataKeyLength(body: RequestBody): number {
  const spec = optionalString(body, 'KeySpec');
  const bytes = optionalInteger(body, 'NumberOfBytes', 1, 1024);
  if ((spec === undefined) === (bytes === undefined)) {
    throw validation('Please specify either number of bytes or key spec, but not both.');
  }
  if (bytes !== undefined) return bytes;
  if (spec === 'AES_256') return 32;
  if (spec === 'AES_128') return 16;
  throw validation(
    `Value '${spec}' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set: [AES_256, AES_128]`,
  );
}

function generate(store: KeyStore, body: RequestBody) {
  rejectUnsupported(body);
  const key = store.find(requireString(body, 'KeyId'), true);
  const length = dataKeyLength(body);
  const context = optionalContext(body, 'EncryptionContext');
  store.assertUsable(key);
  dryRun(body);
  const plaintext = randomBytes(length);
  const { blob, material } = encryptUnder(store, key, plaintext, context);
  return { plaintext, blob, key, material };
}

const generateDataKey: Operation = (store, body) => {
  const { plaintext, blob, key, material } = generate(store, body);
  return {
    CiphertextBlob: blob.toString('base64'),
    Plaintext: plaintext.toString('base64'),
    KeyId: store.keyArn(key.keyId),
    KeyMaterialId: material.id,
  };
};

const generateDataKeyWithoutPlaintext: Operation = (store, body) => {
  const { plaintext, blob, key, material } = generate(store, body);
  plaintext.fill(0);
  return {
    CiphertextBlob: blob.toString('base64'),
    KeyId: store.keyArn(key.keyId),
    KeyMaterialId: material.id,
  };
};

const encrypt: Operation = (store, body) => {
  const key = store.find(requireString(body, 'KeyId'), true);
  const plaintext = requireBlob(body, 'Plaintext', 1, 4096);
  const context = optionalContext(body, 'EncryptionContext');
  checkAlgorithm(body, 'EncryptionAlgorithm');
  store.assertUsable(key);
  dryRun(body);
  const { blob } = encryptUnder(store, key, plaintext, context);
  return {
    CiphertextBlob: blob.toString('base64'),
    KeyId: store.keyArn(key.keyId),
    EncryptionAlgorithm: ALGORITHM,
  };
};

const decrypt: Operation = (store, body) => {
  rejectUnsupported(body);
  const blob = requireBlob(body, 'CiphertextBlob', 1, 6144);
  checkAlgorithm(body, 'EncryptionAlgorithm');
  const context = optionalContext(body, 'EncryptionContext');
  const { key, material, plaintext } = decryptBlob(store, blob, context, optionalString(body, 'KeyId'));
  dryRun(body);
  return {
    KeyId: store.keyArn(key.keyId),
    Plaintext: plaintext.toString('base64'),
    EncryptionAlgorithm: ALGORITHM,
    KeyMaterialId: material.id,
  };
};

/** Decrypts under the source key and context and encrypts under the destination ones, all server-side. */
const reEncrypt: Operation = (store, body) => {
  const blob = requireBlob(body, 'CiphertextBlob', 1, 6144);
  const destination = store.find(requireString(body, 'DestinationKeyId'), true);
  checkAlgorithm(body, 'SourceEncryptionAlgorithm');
  checkAlgorithm(body, 'DestinationEncryptionAlgorithm');
  const sourceContext = optionalContext(body, 'SourceEncryptionContext');
  const destinationContext = optionalContext(body, 'DestinationEncryptionContext');
  const source = decryptBlob(store, blob, sourceContext, optionalString(body, 'SourceKeyId'));
  store.assertUsable(destination);
  dryRun(body);
  const { blob: out, material } = encryptUnder(store, destination, source.plaintext, destinationContext);
  source.plaintext.fill(0);
  return {
    CiphertextBlob: out.toString('base64'),
    SourceKeyId: store.keyArn(source.key.keyId),
    KeyId: store.keyArn(destination.keyId),
    SourceEncryptionAlgorithm: ALGORITHM,
    DestinationEncryptionAlgorithm: ALGORITHM,
    SourceKeyMaterialId: source.material.id,
    DestinationKeyMaterialId: material.id,
  };
};

/** Cryptographic operations, by name. */
export const CRYPTO_OPERATIONS: Readonly<Record<string, Operation>> = {
  GenerateDataKey: generateDataKey,
  GenerateDataKeyWithoutPlaintext: generateDataKeyWithoutPlaintext,
  Encrypt: encrypt,
  Decrypt: decrypt,
  ReEncrypt: reEncrypt,
};
