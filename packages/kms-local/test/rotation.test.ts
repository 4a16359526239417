import {
  DecryptCommand,
  DescribeKeyCommand,
  DisabledException,
  DisableKeyCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GetKeyRotationStatusCommand,
  IncorrectKeyException,
  InvalidCiphertextException,
  ReEncryptCommand,
  RotateKeyOnDemandCommand,
} from '@aws-sdk/client-kms';
import { describe, expect, it } from 'vitest';
import { clientFor, createKey, rejection, startServer } from './helpers.js';

const bytes = (value: Uint8Array | undefined) => Buffer.from(value as Uint8Array);

describe('rotation and re-encryption', () => {
  it('RotateKeyOnDemand makes new material current while blobs under the old material keep decrypting', async () => {
    const kms = clientFor(await startServer());
    const { keyId } = await createKey(kms);
    const before = await kms.send(
      new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256', EncryptionContext: { a: '1' } }),
    );
    await kms.send(new RotateKeyOnDemandCommand({ KeyId: keyId }));
    const after = await kms.send(
      new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256', EncryptionContext: { a: '1' } }),
    );
    expect(after.KeyMaterialId).not.toBe(before.KeyMaterialId);
    const described = await kms.send(new DescribeKeyCommand({ KeyId: keyId }));
    expect(described.KeyMetadata?.CurrentKeyMaterialId).toBe(after.KeyMaterialId);
    for (const generated of [before, after]) {
      const out = await kms.send(
        new DecryptCommand({ CiphertextBlob: generated.CiphertextBlob, EncryptionContext: { a: '1' } }),
      );
      expect(bytes(out.Plaintext).equals(bytes(generated.Plaintext))).toBe(true);
      expect(out.KeyMaterialId).toBe(generated.KeyMaterialId);
    }
  });

  it('RotateKeyOnDemand on a disabled key fails with DisabledException', async () => {
    const kms = clientFor(await startServer());
    const { keyId } = await createKey(kms);
    await kms.send(new DisableKeyCommand({ KeyId: keyId }));
    expect(await rejection(kms.send(new RotateKeyOnDemandCommand({ KeyId: keyId })))).toBeInstanceOf(
      DisabledException,
    );
  });

  it('automatic rotation adds material once the rotation period has passed', async () => {
    let now = Date.now();
    const kms = clientFor(await startServer({ now: () => now }));
    const { keyId } = await createKey(kms);
    await kms.send(new EnableKeyRotationCommand({ KeyId: keyId, RotationPeriodInDays: 90 }));
    const status = await kms.send(new GetKeyRotationStatusCommand({ KeyId: keyId }));
    expect(status.KeyRotationEnabled).toBe(true);
    expect(status.NextRotationDate?.getTime()).toBe(now + 90 * 86_400_000);
    const first = (await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata
      ?.CurrentKeyMaterialId;
    const { CiphertextBlob } = await kms.send(
      new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('old') }),
    );
    now += 90 * 86_400_000;
    const second = (await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata
      ?.CurrentKeyMaterialId;
    expect(second).not.toBe(first);
    expect(bytes((await kms.send(new DecryptCommand({ CiphertextBlob }))).Plaintext).toString()).toBe('old');
  });

  it('ReEncrypt moves a blob to another key and context without returning plaintext', async () => {
    const kms = clientFor(await startServer());
    const source = await createKey(kms);
    const destination = await createKey(kms);
    const generated = await kms.send(
      new GenerateDataKeyCommand({ KeyId: source.keyId, KeySpec: 'AES_256', EncryptionContext: { v: '1' } }),
    );
    const moved = await kms.send(
      new ReEncryptCommand({
        CiphertextBlob: generated.CiphertextBlob,
        SourceEncryptionContext: { v: '1' },
        DestinationKeyId: destination.keyId,
        DestinationEncryptionContext: { v: '2' },
      }),
    );
    expect(moved).toMatchObject({ SourceKeyId: source.arn, KeyId: destination.arn });
    expect('Plaintext' in moved).toBe(false);
    const out = await kms.send(
      new DecryptCommand({ CiphertextBlob: moved.CiphertextBlob, EncryptionContext: { v: '2' } }),
    );
    expect(out.KeyId).toBe(destination.arn);
    expect(bytes(out.Plaintext).equals(bytes(generated.Plaintext))).toBe(true);
    const oldContext = await rejection(
      kms.send(new DecryptCommand({ CiphertextBlob: moved.CiphertextBlob, EncryptionContext: { v: '1' } })),
    );
    expect(oldContext).toBeInstanceOf(InvalidCiphertextException);
  });

  it('ReEncrypt checks the source: wrong context is InvalidCiphertextException, wrong SourceKeyId is IncorrectKeyException', async () => {
    const kms = clientFor(await startServer());
    const source = await createKey(kms);
    const other = await createKey(kms);
    const { CiphertextBlob } = await kms.send(
      new EncryptCommand({ KeyId: source.keyId, Plaintext: Buffer.from('x'), EncryptionContext: { a: '1' } }),
    );
    const wrongContext = await rejection(
      kms.send(new ReEncryptCommand({ CiphertextBlob, DestinationKeyId: other.keyId })),
    );
    expect(wrongContext).toBeInstanceOf(InvalidCiphertextException);
    const wrongKey = await rejection(
      kms.send(
        new ReEncryptCommand({
          CiphertextBlob,
          SourceKeyId: other.keyId,
          SourceEncryptionContext: { a: '1' },
          DestinationKeyId: other.keyId,
        }),
      ),
    );
    expect(wrongKey).toBeInstanceOf(IncorrectKeyException);
  });

  it('ReEncrypt to a disabled destination key fails with DisabledException', async () => {
    const kms = clientFor(await startServer());
    const source = await createKey(kms);
    const destination = await createKey(kms);
    await kms.send(new DisableKeyCommand({ KeyId: destination.keyId }));
    const { CiphertextBlob } = await kms.send(
      new EncryptCommand({ KeyId: source.keyId, Plaintext: Buffer.from('x') }),
    );
    expect(
      await rejection(
        kms.send(new ReEncryptCommand({ CiphertextBlob, DestinationKeyId: destination.keyId })),
      ),
    ).toBeInstanceOf(DisabledException);
  });
});
