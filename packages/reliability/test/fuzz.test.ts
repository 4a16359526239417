/**
 * Fuzzing (fast-check) of everything that parses untrusted or configured input: stored values
 * (decryptValue, parseValue, decryptRow), data-key columns (parseDataKey), local master-key text,
 * CachingKeyring, RowEnvelope, BlindIndex and AwsKmsKeyring options, and Prisma encryption
 * metadata. The only outcomes allowed are success or a FieldsealError subclass (typed, with a
 * code) — never a TypeError, RangeError or any other exception, and never a decryption that
 * returns something other than the original plaintext. At least 100,000 cases in CI; ten times
 * more under `pnpm test:soak`.
 */
import { randomBytes } from 'node:crypto';
import { AwsKmsKeyring } from '@fieldseal/aws-kms';
import { CachingKeyring } from '@fieldseal/cache';
import {
  BlindIndex,
  ConfigError,
  decryptValue,
  deriveDataKey,
  encryptValue,
  FieldsealError,
  LocalKeyring,
  parseDataKey,
  parseValue,
  RowEnvelope,
} from '@fieldseal/core';
import { fieldEncryption } from '@fieldseal/prisma';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { scale } from './support/soak.js';

const cases: Record<string, number> = {};
afterAll(() => {
  const total = Object.values(cases).reduce((a, b) => a + b, 0);
  console.info(`[reliability figures] fuzz ${JSON.stringify({ total, ...cases })}`);
  expect(total).toBeGreaterThanOrEqual(100_000);
});

/** Runs `fn`; returns 'ok' or 'typed', rethrows anything that is not a FieldsealError (fails the property). */
function typedOnly(fn: () => unknown): 'ok' | 'typed' {
  try {
    fn();
    return 'ok';
  } catch (error) {
    if (error instanceof FieldsealError && typeof error.code === 'string' && error.code.length > 0)
      return 'typed';
    throw error;
  }
}

async function typedOnlyAsync(fn: () => Promise<unknown>): Promise<'ok' | 'typed'> {
  try {
    await fn();
    return 'ok';
  } catch (error) {
    if (error instanceof FieldsealError && typeof error.code === 'string' && error.code.length > 0)
      return 'typed';
    throw error;
  }
}

function run<T>(name: string, arbitrary: fc.Arbitrary<T>, runs: number, check: (value: T) => void): void {
  let n = 0;
  fc.assert(
    fc.property(arbitrary, (value) => {
      n++;
      check(value);
    }),
    { numRuns: runs },
  );
  cases[name] = n;
}

const key = deriveDataKey(randomBytes(32));
const place = { table: 'customer', column: 'email' };
const valid = encryptValue(key, place, 'fuzz-plaintext') as string;
const validBinary = encryptValue(key, place, Uint8Array.from([1, 2, 3]), { output: 'binary' }) as Uint8Array;

/** Strings shaped like stored values: prefixes, base64url bodies, and edits of a valid value. */
const storedText = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc
    .tuple(
      fc.constantFrom('fs1:', 'fs2:', 'fs01:', 'fs999:', 'fs1', 'FS1:', ''),
      fc.stringMatching(/^[A-Za-z0-9_=+/-]{0,120}$/),
    )
    .map(([p, b]) => p + b),
  fc.tuple(fc.nat(), fc.string({ minLength: 1, maxLength: 2 })).map(([at, s]) => {
    const i = at % valid.length;
    return valid.slice(0, i) + s + valid.slice(i + 1);
  }),
  fc.nat().map((at) => valid.slice(0, at % (valid.length + 1))),
);

const storedBytes = fc.oneof(
  fc.uint8Array({ maxLength: 120 }),
  fc.uint8Array({ maxLength: 120 }).map((b) => Buffer.concat([Buffer.from('fs1:'), b])),
  fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })).map(([at, x]) => {
    const copy = Buffer.from(validBinary);
    copy[at % copy.length] = (copy[at % copy.length] as number) ^ x;
    return copy;
  }),
);

describe('value parser fuzz', () => {
  it('decryptValue / parseValue on text: a typed error, or exactly the original plaintext', () => {
    run('valueText', storedText, scale(25_000, 250_000), (text) => {
      typedOnly(() => parseValue(text));
      let out: unknown;
      const outcome = typedOnly(() => {
        out = decryptValue(key, place, text);
      });
      if (outcome === 'ok') expect(out).toBe('fuzz-plaintext');
    });
  });

  it('decryptValue on bytes: a typed error, or exactly the original bytes', () => {
    run('valueBytes', storedBytes, scale(15_000, 150_000), (bytes) => {
      let out: unknown;
      if (typedOnly(() => (out = decryptValue(key, place, bytes))) === 'ok') {
        expect(Buffer.from(out as Uint8Array).equals(Buffer.from([1, 2, 3]))).toBe(true);
      }
    });
  });

  it('decryptValue on values of any JavaScript type: typed errors only', () => {
    run('valueAnything', fc.anything(), scale(5_000, 50_000), (value) => {
      typedOnly(() => decryptValue(key, place, value as string));
    });
  });

  it('RowEnvelope.decryptRow on random rows (values and data-key columns of any shape): typed errors only', async () => {
    const keyring = LocalKeyring.fromString(LocalKeyring.generateKeyText('fuzz'));
    const envelope = new RowEnvelope({ keyring });
    const good = await envelope.encryptRow({ table: 'customer', values: { email: 'row-plaintext' } });
    const dataKeyArb = fc.oneof(
      fc.constant(good.dataKey),
      fc.anything(),
      fc.stringMatching(/^fsk[0-9]:[A-Za-z0-9_-]{0,90}$/),
      fc.tuple(fc.nat(), fc.string({ minLength: 1, maxLength: 1 })).map(([at, s]) => {
        const i = at % good.dataKey.length;
        return good.dataKey.slice(0, i) + s + good.dataKey.slice(i + 1);
      }),
    );
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(
          fc.constantFrom('email', 'ssn', 'x'),
          fc.oneof(storedText, storedBytes, fc.constant(good.values.email), fc.anything()),
          { maxKeys: 3 },
        ),
        dataKeyArb,
        fc.constantFrom('strict', 'tolerant') as fc.Arbitrary<'strict' | 'tolerant'>,
        async (values, dataKey, readMode) => {
          n++;
          let out: Record<string, unknown> = {};
          const outcome = await typedOnlyAsync(async () => {
            out = await envelope.decryptRow({ table: 'customer', values, dataKey, readMode });
          });
          if (outcome === 'ok') {
            for (const [column, value] of Object.entries(out)) {
              const stored = values[column];
              // Either decrypted to the one plaintext ever written, or passed through as stored (null, or tolerant legacy).
              if (value !== stored) expect(value, column).toBe('row-plaintext');
            }
          }
        },
      ),
      { numRuns: scale(10_000, 100_000) },
    );
    cases.decryptRow = n;
  });
});

describe('data-key column and config parsing fuzz', () => {
  it('parseDataKey: typed errors only, and what parses re-encodes', () => {
    const arb = fc.oneof(
      fc.anything(),
      fc.string({ maxLength: 60 }).map((s) => `fsk1:${s}`),
      fc.uint8Array({ maxLength: 80 }).map((b) => `fsk1:${Buffer.from(b).toString('base64url')}`),
    );
    run('parseDataKey', arb, scale(15_000, 150_000), (text) => {
      typedOnly(() => parseDataKey(text));
    });
  });

  it('LocalKeyring.fromString: ConfigError or a working keyring', () => {
    const entry = fc.oneof(
      fc
        .tuple(fc.string({ maxLength: 12 }), fc.uint8Array({ minLength: 28, maxLength: 36 }))
        .map(([id, k]) => `${id}:${Buffer.from(k).toString('base64')}`),
      fc
        .tuple(
          fc.stringMatching(/^[A-Za-z0-9._/-]{1,10}$/),
          fc.uint8Array({ minLength: 32, maxLength: 32 }),
          fc.string({ maxLength: 3 }),
        )
        .map(([id, k, junk]) => `${id}:${Buffer.from(k).toString('base64')}${junk}`),
      fc.string({ maxLength: 60 }),
    );
    const text = fc
      .array(entry, { maxLength: 3 })
      .chain((entries) => fc.constantFrom(',', '\n', ' , ', '\n#c\n').map((sep) => entries.join(sep)));
    run('localKeyText', text, scale(15_000, 150_000), (value) => {
      const outcome = typedOnly(() => LocalKeyring.fromString(value));
      if (outcome === 'typed') {
        try {
          LocalKeyring.fromString(value);
        } catch (error) {
          expect(error).toBeInstanceOf(ConfigError);
        }
      }
    });
  });

  it('CachingKeyring options: ConfigError or a cache whose options hold the values given', () => {
    const inner = LocalKeyring.fromString(LocalKeyring.generateKeyText('opts'));
    const number = fc.oneof(fc.double(), fc.integer(), fc.constant(undefined), fc.anything());
    const arb = fc.oneof(
      fc.record(
        {
          maxAge: number,
          maxUses: number,
          maxBytes: number,
          capacity: number,
          decryptMaxAge: number,
          decryptGracePeriod: number,
          onEvent: fc.oneof(
            fc.constant(() => {}),
            fc.anything(),
          ),
          now: fc.oneof(fc.constant(Date.now), fc.anything()),
        },
        { requiredKeys: [] },
      ),
      fc.anything(),
    );
    run('cachingKeyringOptions', arb, scale(10_000, 100_000), (options) => {
      let cache: CachingKeyring | undefined;
      typedOnly(() => {
        cache = new CachingKeyring(inner, options as never);
      });
      if (cache) {
        const o = cache.options;
        expect(o.maxAge > 0 && o.maxUses >= 1 && o.capacity >= 1 && o.decryptGracePeriod >= 0).toBe(true);
        cache.close();
      }
    });
  });

  it('RowEnvelope and BlindIndex options: ConfigError (or other typed errors) only', async () => {
    const keyring = LocalKeyring.fromString(LocalKeyring.generateKeyText('opts'));
    const wrappedKey = await BlindIndex.generateKey(keyring);
    run(
      'rowEnvelopeOptions',
      fc.record(
        {
          keyring: fc.oneof(fc.constant(keyring), fc.anything()),
          encryptionContext: fc.anything(),
          readMode: fc.anything(),
        },
        { requiredKeys: [] },
      ),
      scale(5_000, 50_000),
      (options) => {
        typedOnly(() => new RowEnvelope(options as never));
      },
    );
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          {
            keyring: fc.constant(keyring),
            wrappedKey: fc.oneof(fc.constant(wrappedKey), fc.anything()),
            bytes: fc.anything(),
          },
          { requiredKeys: ['keyring'] },
        ),
        async (options) => {
          n++;
          await typedOnlyAsync(() => BlindIndex.open(options as never));
        },
      ),
      { numRuns: scale(2_000, 20_000) },
    );
    cases.blindIndexOptions = n;
  });

  it('AwsKmsKeyring options: ConfigError only (no KMS call is made)', () => {
    const arn = 'arn:aws:kms:us-east-1:111122223333:key/0b6d5d4e-2f1c-4a8e-9c3b-7d2e1f0a9b8c';
    const arb = fc.oneof(
      fc.anything(),
      fc.record(
        {
          keyId: fc.oneof(fc.constant(arn), fc.string(), fc.anything()),
          region: fc.oneof(fc.constant('eu-west-1'), fc.string(), fc.anything()),
          endpoint: fc.oneof(fc.constant('http://127.0.0.1:1'), fc.string(), fc.anything()),
          grantTokens: fc.anything(),
          encryptionContext: fc.anything(),
          decryptKeyIds: fc.oneof(fc.array(fc.oneof(fc.constant(arn), fc.string())), fc.anything()),
          discovery: fc.anything(),
        },
        { requiredKeys: [] },
      ),
    );
    run('awsKmsKeyringOptions', arb, scale(5_000, 50_000), (options) => {
      let made: AwsKmsKeyring | undefined;
      typedOnly(() => {
        made = new AwsKmsKeyring(options as never);
      });
      made?.destroy();
    });
  });

  it('Prisma encryption metadata (shapes as typed, values arbitrary): ConfigError or a working extension', () => {
    const keyring = LocalKeyring.fromString(LocalKeyring.generateKeyText('meta'));
    const name = fc.oneof(
      fc.constantFrom('id', 'email', 'ssn', 'dataKey', 'emailIndex'),
      fc.string({ maxLength: 6 }),
    );
    const leaf = fc.oneof(fc.constant(undefined), name, fc.anything());
    const model = fc.record(
      {
        table: leaf,
        idFields: fc.array(leaf, { maxLength: 2 }),
        dataKey: leaf,
        encrypted: fc.dictionary(
          name,
          fc.record(
            {
              type: fc.oneof(fc.constantFrom('String', 'Bytes'), fc.anything()),
              column: leaf,
              blindIndex: leaf,
            },
            { requiredKeys: [] },
          ),
          { maxKeys: 3 },
        ),
        relations: fc.dictionary(
          name,
          fc.record({ model: leaf, list: fc.anything(), name: leaf }, { requiredKeys: [] }),
          { maxKeys: 2 },
        ),
      },
      { requiredKeys: [] },
    );
    const metadata = fc.oneof(
      fc.record({
        version: fc.oneof(fc.constant(1), fc.anything()),
        models: fc.dictionary(fc.constantFrom('User', 'Post', 'A'), model, { maxKeys: 3 }),
      }),
      fc.anything(),
    );
    run('prismaMetadata', metadata, scale(10_000, 100_000), (value) => {
      typedOnly(() => fieldEncryption({ keyring, metadata: value as never, blindIndexKey: 'fsk1:AAAA' }));
    });
  });
});
