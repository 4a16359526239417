import {
  DecryptCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyWithoutPlaintextCommand,
  IncorrectKeyException,
  InvalidCiphertextException,
  InvalidKeyUsageException,
  KMSServiceException,
} from '@aws-sdk/client-kms';
import { describe, expect, it } from 'vitest';
import { clientFor, createKey, rawCall, rejection, startServer } from './helpers.js';

const context = { 'fieldseal:table': 'users', tenant: 't-1' };

describe('cryptographic operations over the real SDK', () => {
  it('GenerateDataKey returns a 32-byte key whose blob Decrypt turns back into it', async () => {
    const server = await startServer();
    const kms = clientFor(server);
    const { arn } = await createKey(kms);
    const generated = await kms.send(
      new GenerateDataKeyCommand({ KeyId: arn, KeySpec: 'AES_256', EncryptionContext: context }),
    );
    expect(generated.Plaintext).toHaveLength(32);
    expect(generated.KeyId).toBe(arn);
    const decrypted = await kms.send(
      new DecryptCommand({ CiphertextBlob: generated.CiphertextBlob, EncryptionContext: context }),
    );
    expect(
      Buffer.from(decrypted.Plaintext as Uint8Array).equals(Buffer.from(generated.Plaintext as Uint8Array)),
    ).toBe(true);
    expect(decrypted.KeyId).toBe(arn);
    expect(decrypted.KeyMaterialId).toBe(generated.KeyMaterialId);
  });

  it('the same context in another key order decrypts (the context is canonicalised)', async () => {
    const server = await startServer();
    const kms = clientFor(server);
    const { keyId } = await createKey(kms);
    const { CiphertextBlob } = await kms.send(
      new EncryptCommand({
        KeyId: keyId,
        Plaintext: Buffer.from('hi'),
        EncryptionContext: { a: '1', b: '2' },
      }),
    );
    const out = await kms.send(new DecryptCommand({ CiphertextBlob, EncryptionContext: { b: '2', a: '1' } }));
    expect(Buffer.from(out.Plaintext as Uint8Array).toString()).toBe('hi');
  });

  it.each([
    ['a changed value', { ...context, tenant: 't-2' }],
    ['an extra pair', { ...context, extra: 'x' }],
    ['a missing pair', { 'fieldseal:table': 'users' }],
    ['no context', undefined],
  ])('a different context (%s) fails with InvalidCiphertextException', async (_, other) => {
    const server = await startServer();
    const kms = clientFor(server);
    const { keyId } = await createKey(kms);
    const { CiphertextBlob } = await kms.send(
      new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256', EncryptionContext: context }),
    );
    const error = await rejection(kms.send(new DecryptCommand({ CiphertextBlob, EncryptionContext: other })));
    expect(error).toBeInstanceOf(InvalidCiphertextException);
    expect(error.$metadata?.httpStatusCode).toBe(400);
  });

  it('an altered blob fails with InvalidCiphertextException', async () => {
    const server = await startServer();
    const kms = clientFor(server);
    const { keyId } = await createKey(kms);
    const { CiphertextBlob } = await kms.send(
      new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('secret') }),
    );
    const blob = Buffer.from(CiphertextBlob as Uint8Array);
    blob[blob.length - 20] = (blob[blob.length - 20] as number) ^ 1;
    expect(await rejection(kms.send(new DecryptCommand({ CiphertextBlob: blob })))).toBeInstanceOf(
      InvalidCiphertextException,
    );
    const garbage = await rejection(
      kms.send(new DecryptCommand({ CiphertextBlob: Buffer.from('not a blob at all') })),
    );
    expect(garbage).toBeInstanceOf(InvalidCiphertextException);
  });

  it('Decrypt naming another key than the one that encrypted fails with IncorrectKeyException', async () => {
    const server = await startServer();
    const kms = clientFor(server);
    const first = await createKey(kms);
    const second = await createKey(kms);
    const { CiphertextBlob } = await kms.send(
      new EncryptCommand({ KeyId: first.keyId, Plaintext: Buffer.from('x') }),
    );
    const error = await rejection(kms.send(new DecryptCommand({ CiphertextBlob, KeyId: second.arn })));
    expect(error).toBeInstanceOf(IncorrectKeyException);
    const ok = await kms.send(new DecryptCommand({ CiphertextBlob, KeyId: first.arn }));
    expect(ok.KeyId).toBe(first.arn);
  });

  it('GenerateDataKeyWithoutPlaintext returns only a blob, which Decrypt accepts', async () => {
    const server = await startServer();
    const kms = clientFor(server);
    const { keyId } = await createKey(kms);
    const out = await kms.send(
      new GenerateDataKeyWithoutPlaintextCommand({
        KeyId: keyId,
        NumberOfBytes: 16,
        EncryptionContext: context,
      }),
    );
    expect('Plaintext' in out).toBe(false);
    const decrypted = await kms.send(
      new DecryptCommand({ CiphertextBlob: out.CiphertextBlob, EncryptionContext: context }),
    );
    expect(decrypted.Plaintext).toHaveLength(16);
  });

  it('rejects malformed input with ValidationException (both or neither of KeySpec and NumberOfBytes, plaintext over 4096 bytes)', async () => {
    const server = await startServer();
    const kms = clientFor(server);
    const { keyId } = await createKey(kms);
    const both = await rejection(
      kms.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256', NumberOfBytes: 32 })),
    );
    expect(both.name).toBe('ValidationException');
    expect(both).toBeInstanceOf(KMSServiceException);
    const neither = await rejection(kms.send(new GenerateDataKeyCommand({ KeyId: keyId })));
    expect(neither.name).toBe('ValidationException');
    const big = await rejection(
      kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: new Uint8Array(4097) })),
    );
    expect(big.name).toBe('ValidationException');
    const algorithm = await rejection(
      kms.send(
        new EncryptCommand({
          KeyId: keyId,
          Plaintext: new Uint8Array(1),
          EncryptionAlgorithm: 'RSAES_OAEP_SHA_256',
        }),
      ),
    );
    expect(algorithm).toBeInstanceOf(InvalidKeyUsageException);
  });

  it('answers errors in AWS wire shape: __type, message, status code and x-amzn-errortype', async () => {
    const server = await startServer();
    const missing = await rawCall(server, 'DescribeKey', { KeyId: '00000000-0000-4000-8000-000000000000' });
    expect(missing.status).toBe(404);
    expect(missing.json.__type).toBe('NotFoundException');
    expect(typeof missing.json.message).toBe('string');
    const unknown = await rawCall(server, 'ImportKeyMaterial', {});
    expect([unknown.status, unknown.json.__type]).toEqual([400, 'UnknownOperationException']);
    const notJson = await rawCall(server, 'ListKeys', '{oops');
    expect([notJson.status, notJson.json.__type]).toEqual([400, 'SerializationException']);
    const badBase64 = await rawCall(server, 'Decrypt', { CiphertextBlob: '***' });
    expect(badBase64.json.__type).toBe('SerializationException');
  });

  it('never echoes plaintext or key material in error messages', async () => {
    const server = await startServer();
    const kms = clientFor(server);
    const { keyId } = await createKey(kms);
    const secret = Buffer.from('top-secret-value');
    const { CiphertextBlob } = await kms.send(
      new EncryptCommand({ KeyId: keyId, Plaintext: secret, EncryptionContext: context }),
    );
    const error = await rejection(kms.send(new DecryptCommand({ CiphertextBlob, EncryptionContext: {} })));
    expect(error.message).not.toContain('top-secret');
    expect(error.message).not.toContain(Buffer.from(CiphertextBlob as Uint8Array).toString('base64'));
  });
});
