import {
  DecryptionError,
  type DecryptionErrorCode,
  describeLocation,
  FieldsealError,
  isDecryptionError,
  isKeyringError,
  type Keyring,
  KeyringError,
  type KeyringErrorCode,
  type RewrappingKeyring,
} from '@fieldseal/core';

/**
 * A keyring whose failures are this copy of core's error classes. A `.ts` config is loaded
 * through tsx, which gives it its own copy of `@fieldseal/core`: its keyring throws *that*
 * copy's `KeyringError`, which `instanceof` checks in this copy (the row envelope's among them)
 * do not recognise, so a row's `unknown-master-key` became a generic outage. Errors are
 * recognised by core's brand and rebuilt here with their code, key id, place and cause.
 */
export function withLocalErrors<K extends Keyring>(keyring: K): K {
  const wrapped: Keyring & Partial<RewrappingKeyring> & { inner: Keyring } = {
    name: keyring.name,
    inner: keyring,
    generateDataKey: (context, hint) => keyring.generateDataKey(context, hint).catch(rethrowLocal),
    decryptDataKey: (key, context) => keyring.decryptDataKey(key, context).catch(rethrowLocal),
  };
  if (typeof keyring.keyIdOf === 'function') {
    const keyIdOf = keyring.keyIdOf.bind(keyring);
    wrapped.keyIdOf = (key) => keyIdOf(key);
  }
  const rewrapping = keyring as Partial<RewrappingKeyring>;
  if (typeof rewrapping.reEncryptDataKey === 'function') {
    const reEncrypt = rewrapping.reEncryptDataKey.bind(keyring);
    wrapped.reEncryptDataKey = (key, context, options) =>
      reEncrypt(key, context, options).catch(rethrowLocal);
  }
  if (typeof rewrapping.currentKeyIds === 'function') {
    const current = rewrapping.currentKeyIds.bind(keyring);
    wrapped.currentKeyIds = (destination) => current(destination).catch(rethrowLocal);
  }
  return wrapped as unknown as K;
}

/** `error` as this copy's class when it is a fieldseal keyring or decryption error of another copy. */
export function localError(error: unknown): unknown {
  if (error instanceof FieldsealError) return error;
  if (isKeyringError(error)) {
    return new KeyringError(error.code as KeyringErrorCode, ownMessage(error), {
      cause: error,
      ...(error.location ? { location: error.location } : {}),
      ...(error.keyId ? { keyId: error.keyId } : {}),
    });
  }
  if (isDecryptionError(error)) {
    return new DecryptionError(error.code as DecryptionErrorCode, ownMessage(error), {
      cause: error,
      ...(error.location ? { location: error.location } : {}),
    });
  }
  return error;
}

function rethrowLocal(error: unknown): never {
  throw localError(error);
}

/** The message without the place suffix the constructor appended (it is appended again). */
function ownMessage(error: FieldsealError): string {
  const suffix = describeLocation(error.location);
  return suffix && error.message.endsWith(suffix) ? error.message.slice(0, -suffix.length) : error.message;
}
