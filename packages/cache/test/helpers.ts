import {
  type DataKeyHint,
  type DataKeyMaterial,
  type EncryptionContext,
  type Keyring,
  LocalKeyring,
} from '@fieldseal/core';

/** A real LocalKeyring that records each call, the clock at the time, and can be told to fail. */
export class RecordingKeyring implements Keyring {
  readonly name = 'recording';
  readonly inner = LocalKeyring.fromString(LocalKeyring.generateKeyText('test'));
  readonly generated: Array<{ material: DataKeyMaterial; at: number }> = [];
  decrypts = 0;
  failWith: Error | undefined;
  delayMs = 0;

  constructor(private readonly clock: () => number = Date.now) {}

  async generateDataKey(context: EncryptionContext, hint?: DataKeyHint): Promise<DataKeyMaterial> {
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.failWith) throw this.failWith;
    const material = await this.inner.generateDataKey(context);
    this.generated.push({ material, at: this.clock() });
    void hint;
    return material;
  }

  async decryptDataKey(encryptedKey: Uint8Array, context: EncryptionContext): Promise<Uint8Array> {
    this.decrypts++;
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.failWith) throw this.failWith;
    return this.inner.decryptDataKey(encryptedKey, context);
  }
}

export class FakeClock {
  t = 1_000_000;
  now = () => this.t;
  advance(ms: number) {
    this.t += ms;
  }
}

/** Lets deferred wipes (setImmediate) run. */
export const nextTurn = () => new Promise<void>((r) => setImmediate(r));
