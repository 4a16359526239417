/**
 * An error answered in AWS KMS's wire shape: `{"__type": "<type>", "message": "…"}` with
 * the status code AWS's model gives the type, so `@aws-sdk/client-kms` raises the same
 * exception class it raises against the real service.
 */
export class KmsError extends Error {
  /** The AWS exception name sent as `__type`, e.g. `NotFoundException`. */
  readonly type: string;
  /** The HTTP status code sent with it. */
  readonly status: number;

  constructor(type: string, message: string, status: number = statusOf(type)) {
    super(message);
    this.name = 'KmsError';
    this.type = type;
    this.status = status;
  }

  /** The JSON body sent to the client. */
  toJSON(): { readonly __type: string; readonly message: string } {
    return { __type: this.type, message: this.message };
  }
}

/** Status codes of the exceptions this server answers, as in the SDK's model. */
const STATUS_BY_TYPE: Readonly<Record<string, number>> = {
  NotFoundException: 404,
  DisabledException: 409,
  KMSInvalidStateException: 409,
  AlreadyExistsException: 409,
  InvalidCiphertextException: 400,
  IncorrectKeyException: 400,
  InvalidKeyUsageException: 400,
  InvalidAliasNameException: 400,
  InvalidArnException: 400,
  InvalidMarkerException: 400,
  ValidationException: 400,
  SerializationException: 400,
  UnknownOperationException: 400,
  UnsupportedOperationException: 400,
  LimitExceededException: 400,
  ThrottlingException: 400,
  DryRunOperationException: 412,
  AccessDeniedException: 400,
  KeyUnavailableException: 500,
  CustomKeyStoreInvalidStateException: 400,
  XksProxyUriUnreachableException: 400,
  XksProxyInvalidResponseException: 400,
  XksKeyNotFoundException: 400,
  KMSInternalException: 500,
  DependencyTimeoutException: 503,
};

/** The status code for an exception type; unknown types are treated as server faults (500). */
export function statusOf(type: string): number {
  return STATUS_BY_TYPE[type] ?? 500;
}

/** `NotFoundException`: the key or alias does not exist. */
export function notFound(message: string): KmsError {
  return new KmsError('NotFoundException', message);
}

/** `ValidationException`: a request member is missing or out of range. */
export function validation(message: string): KmsError {
  return new KmsError('ValidationException', message);
}

/** `InvalidCiphertextException`: the blob is malformed, altered or bound to another context. */
export function invalidCiphertext(): KmsError {
  // KMS says the same thing for tampering and for a wrong encryption context, on purpose.
  return new KmsError(
    'InvalidCiphertextException',
    'The ciphertext is invalid or the encryption context does not match.',
  );
}
