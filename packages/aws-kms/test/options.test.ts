import { ConfigError } from '@fieldseal/core';
import { describe, expect, it } from 'vitest';
import { AwsKmsKeyring, type AwsKmsKeyringOptions } from '../src/index.js';
import { clientFor, startServer } from './helpers.js';

const ARN = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';

function configError(options: unknown): ConfigError {
  try {
    new AwsKmsKeyring(options as AwsKmsKeyringOptions);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('options are checked at construction', () => {
  it.each([
    ['keyId', {}],
    ['keyId', { keyId: 'my-key' }],
    ['keyId', { keyId: 'arn:aws:s3:::bucket' }],
    ['decryptKeyIds[1]', { keyId: ARN, decryptKeyIds: ['alias/ok', ''] }],
    ['decryptKeyIds', { keyId: ARN, decryptKeyIds: ['alias/old'], discovery: true }],
    ['region', { keyId: ARN, region: 'Europe' }],
    ['endpoint', { keyId: ARN, endpoint: 'not a url' }],
    ['grantTokens', { keyId: ARN, grantTokens: 'token' }],
    ['encryptionContext', { keyId: ARN, encryptionContext: { n: 1 } }],
    ['discovery', { keyId: ARN, discovery: 'yes' }],
    ['client', { keyId: ARN, client: {} }],
  ])('rejects a bad %s with a ConfigError naming it', (option, options) => {
    expect(configError(options).option).toBe(option);
  });

  it('refuses region, endpoint or clientConfig next to a client (they would be silently ignored)', async () => {
    const client = clientFor(await startServer());
    expect(configError({ keyId: ARN, client, region: 'eu-west-1' }).option).toBe('region');
    expect(configError({ keyId: ARN, client, endpoint: 'http://127.0.0.1:1' }).option).toBe('endpoint');
  });

  it.each([
    '1234abcd-12ab-34cd-56ef-1234567890ab',
    ARN,
    'alias/billing',
    'arn:aws:kms:eu-west-1:111122223333:alias/billing',
    'mrk-1234abcd12ab34cd56ef1234567890ab',
    'arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab',
  ])('accepts keyId %s', (keyId) => {
    const keyring = new AwsKmsKeyring({ keyId, region: 'eu-west-1' });
    expect(keyring.keyId).toBe(keyId);
    keyring.destroy();
  });
});
