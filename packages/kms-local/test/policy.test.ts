import { DecryptCommand, EncryptCommand, ReEncryptCommand } from '@aws-sdk/client-kms';
import { describe, expect, it } from 'vitest';
import { KmsLocalConfigError } from '../src/index.js';
import { checkPolicy, type KmsPolicy, policyAllows } from '../src/policy.js';
import { clientFor, createKey, rejection, startServer } from './helpers.js';

const arn = 'arn:aws:kms:us-east-1:000000000000:key/k';
const allow = (
  Condition: KmsPolicy['Statement'][number]['Condition'],
  Action = 'kms:Decrypt',
): KmsPolicy => ({
  Statement: [{ Effect: 'Allow', Action, Resource: arn, ...(Condition ? { Condition } : {}) }],
});
const ask = (policy: KmsPolicy, context: Record<string, string>, action = 'Decrypt') =>
  policyAllows(policy, { action, resource: arn, context });

describe('IAM policy evaluation (the subset kms-local supports)', () => {
  it('StringEquals needs the key present with an allowed value; condition key names ignore case, values do not', () => {
    const policy = allow({ StringEquals: { 'kms:EncryptionContext:Table': ['a', 'b'] } });
    expect(ask(policy, { table: 'a' })).toBe(true);
    expect(ask(policy, { table: 'A' })).toBe(false);
    expect(ask(policy, {})).toBe(false);
  });

  it('ForAllValues passes an empty context and refuses any key outside the list; ForAnyValue needs one inside', () => {
    const all = allow({ 'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': ['a', 'b'] } });
    expect([ask(all, {}), ask(all, { a: '1' }), ask(all, { a: '1', c: '2' })]).toEqual([true, true, false]);
    const any = allow({ 'ForAnyValue:StringEquals': { 'kms:EncryptionContextKeys': ['a'] } });
    expect([ask(any, {}), ask(any, { a: '1', c: '2' })]).toEqual([false, true]);
  });

  it('StringLike and action wildcards match; an explicit Deny wins over an Allow; other actions and resources are not allowed', () => {
    const policy: KmsPolicy = {
      Statement: [
        {
          Effect: 'Allow',
          Action: 'kms:*',
          Resource: '*',
          Condition: { StringLike: { 'kms:EncryptionContext:t': 'ten-*' } },
        },
        {
          Effect: 'Deny',
          Action: 'kms:Decrypt',
          Resource: arn,
          Condition: { StringEquals: { 'kms:EncryptionContext:t': 'ten-9' } },
        },
      ],
    };
    expect(ask(policy, { t: 'ten-1' }, 'GenerateDataKey')).toBe(true);
    expect(ask(policy, { t: 'ten-9' }, 'Decrypt')).toBe(false);
    expect(ask(policy, { t: 'other' }, 'Decrypt')).toBe(false);
    expect(ask(allow(undefined), {}, 'Encrypt')).toBe(false);
  });

  it('refuses, when loaded, an operator or condition key it cannot evaluate (never half-evaluates)', () => {
    expect(() => checkPolicy(allow({ NumericEquals: { 'kms:EncryptionContext:a': '1' } }))).toThrow(
      KmsLocalConfigError,
    );
    expect(() => checkPolicy(allow({ StringEquals: { 'aws:SourceIp': '1.2.3.4' } }))).toThrow(
      KmsLocalConfigError,
    );
    expect(() => checkPolicy({})).toThrow(KmsLocalConfigError);
  });

  it('the server applies it: denied calls get AccessDeniedException; ReEncrypt needs ReEncryptFrom and ReEncryptTo', async () => {
    const server = await startServer({
      policy: {
        Statement: [
          {
            Effect: 'Allow',
            Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:CreateKey', 'kms:ReEncryptFrom'],
            Resource: '*',
            Condition: { StringEquals: { 'kms:EncryptionContext:t': 'ok' } },
          },
        ],
      },
    });
    const kms = clientFor(server);
    const { arn: key } = await createKey(kms); // management calls are not evaluated
    const ok = await kms.send(
      new EncryptCommand({ KeyId: key, Plaintext: Buffer.from('x'), EncryptionContext: { t: 'ok' } }),
    );
    const denied = await rejection(
      kms.send(
        new EncryptCommand({ KeyId: key, Plaintext: Buffer.from('x'), EncryptionContext: { t: 'no' } }),
      ),
    );
    expect(denied.name).toBe('AccessDeniedException');
    expect(denied.message).toContain('kms:Encrypt');
    await kms.send(new DecryptCommand({ CiphertextBlob: ok.CiphertextBlob, EncryptionContext: { t: 'ok' } }));
    const reEncrypt = await rejection(
      kms.send(
        new ReEncryptCommand({
          CiphertextBlob: ok.CiphertextBlob,
          SourceEncryptionContext: { t: 'ok' },
          DestinationKeyId: key,
          DestinationEncryptionContext: { t: 'ok' },
        }),
      ),
    );
    expect(reEncrypt.message).toContain('kms:ReEncryptTo');
  });
});
