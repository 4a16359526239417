import {
  AlreadyExistsException,
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DeleteAliasCommand,
  DescribeKeyCommand,
  DisabledException,
  DisableKeyCommand,
  EnableKeyCommand,
  EncryptCommand,
  InvalidAliasNameException,
  KMSInvalidStateException,
  ListAliasesCommand,
  ListKeysCommand,
  NotFoundException,
  ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms';
import { describe, expect, it } from 'vitest';
import { clientFor, createKey, rejection, startServer } from './helpers.js';

describe('keys and aliases', () => {
  it('CreateKey returns KMS-shaped metadata with an ARN of the server region and epoch-second dates', async () => {
    const server = await startServer({ region: 'eu-west-1' });
    const kms = clientFor(server);
    const { KeyMetadata } = await kms.send(new CreateKeyCommand({ Description: 'orders' }));
    expect(KeyMetadata?.Arn).toBe(`arn:aws:kms:eu-west-1:000000000000:key/${KeyMetadata?.KeyId}`);
    expect(KeyMetadata).toMatchObject({
      KeyState: 'Enabled',
      Enabled: true,
      KeySpec: 'SYMMETRIC_DEFAULT',
      Description: 'orders',
    });
    const created = KeyMetadata?.CreationDate as Date;
    expect(Math.abs(created.getTime() - Date.now())).toBeLessThan(5_000);
    const mrk = await kms.send(new CreateKeyCommand({ MultiRegion: true }));
    expect(mrk.KeyMetadata?.KeyId).toMatch(/^mrk-[0-9a-f]{32}$/);
  });

  it('CreateKey refuses key specs it does not implement with UnsupportedOperationException', async () => {
    const kms = clientFor(await startServer());
    const error = await rejection(
      kms.send(new CreateKeyCommand({ KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT' })),
    );
    expect(error.name).toBe('UnsupportedOperationException');
  });

  it('ListKeys pages with Limit and Marker', async () => {
    const kms = clientFor(await startServer());
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await createKey(kms)).keyId);
    const first = await kms.send(new ListKeysCommand({ Limit: 2 }));
    expect(first.Truncated).toBe(true);
    const second = await kms.send(new ListKeysCommand({ Limit: 2, Marker: first.NextMarker }));
    expect(second.Truncated).toBe(false);
    expect([...(first.Keys ?? []), ...(second.Keys ?? [])].map((k) => k.KeyId)).toEqual(ids);
  });

  it('resolves a key by id, key ARN, alias name and alias ARN', async () => {
    const server = await startServer();
    const kms = clientFor(server);
    const { keyId, arn } = await createKey(kms);
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/orders', TargetKeyId: keyId }));
    const aliasArn = `arn:aws:kms:${server.region}:000000000000:alias/orders`;
    for (const ref of [keyId, arn, 'alias/orders', aliasArn]) {
      const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId: ref }));
      expect(KeyMetadata?.KeyId).toBe(keyId);
      const { KeyId } = await kms.send(new EncryptCommand({ KeyId: ref, Plaintext: Buffer.from('x') }));
      expect(KeyId).toBe(arn);
    }
    const { Aliases } = await kms.send(new ListAliasesCommand({ KeyId: keyId }));
    expect(Aliases?.map((a) => [a.AliasName, a.AliasArn, a.TargetKeyId])).toEqual([
      ['alias/orders', aliasArn, keyId],
    ]);
  });

  it('alias rules: duplicates, reserved names and unknown aliases fail as in KMS; DeleteAlias removes it', async () => {
    const kms = clientFor(await startServer());
    const { keyId } = await createKey(kms);
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/a', TargetKeyId: keyId }));
    expect(
      await rejection(kms.send(new CreateAliasCommand({ AliasName: 'alias/a', TargetKeyId: keyId }))),
    ).toBeInstanceOf(AlreadyExistsException);
    expect(
      await rejection(kms.send(new CreateAliasCommand({ AliasName: 'alias/aws/s3', TargetKeyId: keyId }))),
    ).toBeInstanceOf(InvalidAliasNameException);
    expect(
      await rejection(kms.send(new CreateAliasCommand({ AliasName: 'alias/b', TargetKeyId: 'alias/a' }))),
    ).toBeInstanceOf(NotFoundException);
    await kms.send(new DeleteAliasCommand({ AliasName: 'alias/a' }));
    expect(await rejection(kms.send(new DescribeKeyCommand({ KeyId: 'alias/a' })))).toBeInstanceOf(
      NotFoundException,
    );
  });

  it('an unknown key or a key ARN of another region fails with NotFoundException', async () => {
    const kms = clientFor(await startServer());
    const { keyId } = await createKey(kms);
    const unknown = await rejection(
      kms.send(new DescribeKeyCommand({ KeyId: '11111111-2222-4333-8444-555555555555' })),
    );
    expect(unknown).toBeInstanceOf(NotFoundException);
    expect(unknown.$metadata?.httpStatusCode).toBe(404);
    const otherRegion = `arn:aws:kms:ap-south-1:000000000000:key/${keyId}`;
    expect(await rejection(kms.send(new DescribeKeyCommand({ KeyId: otherRegion })))).toBeInstanceOf(
      NotFoundException,
    );
  });

  it('a disabled key refuses cryptography with DisabledException (409) and works again once enabled', async () => {
    const kms = clientFor(await startServer());
    const { keyId } = await createKey(kms);
    const { CiphertextBlob } = await kms.send(
      new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x') }),
    );
    await kms.send(new DisableKeyCommand({ KeyId: keyId }));
    expect((await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata?.KeyState).toBe('Disabled');
    const error = await rejection(kms.send(new DecryptCommand({ CiphertextBlob })));
    expect(error).toBeInstanceOf(DisabledException);
    expect(error.$metadata?.httpStatusCode).toBe(409);
    expect(
      await rejection(kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x') }))),
    ).toBeInstanceOf(DisabledException);
    await kms.send(new EnableKeyCommand({ KeyId: keyId }));
    expect((await kms.send(new DecryptCommand({ CiphertextBlob }))).Plaintext).toHaveLength(1);
  });

  it('EnableKey and DisableKey take key ids or ARNs, not aliases', async () => {
    const kms = clientFor(await startServer());
    const { keyId } = await createKey(kms);
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/x', TargetKeyId: keyId }));
    expect(await rejection(kms.send(new DisableKeyCommand({ KeyId: 'alias/x' })))).toBeInstanceOf(
      NotFoundException,
    );
  });

  it('a key pending deletion fails with KMSInvalidStateException, can be cancelled (then disabled), and vanishes after its window', async () => {
    let now = Date.now();
    const kms = clientFor(await startServer({ now: () => now }));
    const { keyId, arn } = await createKey(kms);
    const scheduled = await kms.send(new ScheduleKeyDeletionCommand({ KeyId: arn, PendingWindowInDays: 7 }));
    expect(scheduled.KeyState).toBe('PendingDeletion');
    expect(scheduled.DeletionDate?.getTime()).toBe(now + 7 * 86_400_000);
    const error = await rejection(
      kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x') })),
    );
    expect(error).toBeInstanceOf(KMSInvalidStateException);
    expect(error.$metadata?.httpStatusCode).toBe(409);
    await kms.send(new CancelKeyDeletionCommand({ KeyId: keyId }));
    expect((await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata?.KeyState).toBe('Disabled');
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }));
    now += 7 * 86_400_000;
    expect(await rejection(kms.send(new DescribeKeyCommand({ KeyId: keyId })))).toBeInstanceOf(
      NotFoundException,
    );
  });

  it('ScheduleKeyDeletion rejects a window outside 7–30 days with ValidationException', async () => {
    const kms = clientFor(await startServer());
    const { keyId } = await createKey(kms);
    const error = await rejection(
      kms.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 3 })),
    );
    expect(error.name).toBe('ValidationException');
  });
});
