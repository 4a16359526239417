import { type BlindIndex, isKeyringError, KeyringError, type RowEnvelope } from '@fieldseal/core';

/**
 * Rethrows a failure to open the blind-index key so it says which key it was and who uses it
 * (the keyring's own message speaks of "a data key"); keyring errors keep their code and cause.
 */
export function blindIndexKeyError(error: unknown, models: readonly string[]): unknown {
  if (!isKeyringError(error)) return error;
  return new KeyringError(
    error.code,
    `The blind-index key (option blindIndexKey, used by model ${models.join(', ')}) could not be opened with this keyring: ${error.message}. Was it made by BlindIndex.generateKey with the same master key?`,
    { cause: error, ...(error.keyId === undefined ? {} : { keyId: error.keyId }) },
  );
}

/**
 * The start-up self-check, run once before the first query that touches encrypted fields: opens
 * the blind-index key (a keyring with the wrong master key fails here, before it writes rows the
 * rest of the app cannot read) and round-trips a probe data key through the keyring.
 */
export async function selfCheck(
  envelope: RowEnvelope,
  openIndex: () => Promise<BlindIndex | undefined>,
): Promise<void> {
  await openIndex();
  // A key made for the probe only: `longLived` makes a caching keyring make it fresh and never
  // cache it, so the probe takes no cache slot and shares no key with rows.
  const context = envelope.contextFor('@fieldseal/prisma self-check');
  const made = await envelope.keyring.generateDataKey(context, { longLived: true });
  const expected = Buffer.from(made.plaintextKey);
  const opened = Buffer.from(await envelope.keyring.decryptDataKey(made.encryptedKey, context));
  const same = expected.equals(opened);
  expected.fill(0);
  opened.fill(0);
  if (!same)
    throw new KeyringError(
      'unwrap-failed',
      'The keyring returned a different data key than it made (self-check)',
    );
}
