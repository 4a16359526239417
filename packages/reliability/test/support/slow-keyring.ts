import type { DataKeyHint, DataKeyMaterial, EncryptionContext, Keyring } from '@fieldseal/core';

/**
 * A real keyring behind a fixed delay per call, like a remote KMS: keeps a multi-row write inside
 * its transaction long enough for a fault (a killed connection) to land in the middle of it.
 */
export class SlowKeyring implements Keyring {
  readonly name: string;
  constructor(
    readonly inner: Keyring,
    readonly delayMs: number,
  ) {
    this.name = inner.name;
  }

  async generateDataKey(context: EncryptionContext, hint?: DataKeyHint): Promise<DataKeyMaterial> {
    await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    return this.inner.generateDataKey(context, hint);
  }

  async decryptDataKey(encryptedKey: Uint8Array, context: EncryptionContext): Promise<Uint8Array> {
    await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    return this.inner.decryptDataKey(encryptedKey, context);
  }

  keyIdOf(encryptedKey: Uint8Array): string | undefined {
    return this.inner.keyIdOf?.(encryptedKey);
  }
}
