import { ConfigError } from '@fieldseal/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fieldEncryption, UnsupportedOperationError } from '../src/index.js';
import { openDatabase, type TestDatabase } from './helpers/databases.js';
import { blindIndexKey, encrypted, keyring, metadata } from './helpers/fixture.js';

describe('misuse is loud', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await openDatabase('sqlite');
  });
  afterAll(async () => db?.drop());

  it('the client $extends was called on refuses queries on encrypted models (the discarded-client mistake)', async () => {
    const base = db.client();
    const prisma = encrypted(base);
    await prisma.user.create({ data: { email: 'a@x.io' } });
    const error = await base.user.create({ data: { email: 'plain@x.io' } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedOperationError);
    expect((error as UnsupportedOperationError).code).toBe('unprotected-client');
    await expect(base.user.findMany()).rejects.toThrow(/without the fieldEncryption extension/);
    await expect(base.post.findMany()).rejects.toThrow(UnsupportedOperationError);
    // Models that lead nowhere near encrypted fields, and raw SQL, stay usable.
    expect((await base.audit.create({ data: { action: 'x' } })).action).toBe('x');
    expect(await db.rows('User')).toHaveLength(1);
  });

  it('applying the extension twice is refused instead of encrypting twice', async () => {
    const twice = encrypted(encrypted(db.client()) as never);
    const error = await twice.user.findMany().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
  });

  it('writes that need a data key are refused inside a batch $transaction, and nothing is written', async () => {
    const prisma = encrypted(db.client());
    const user = await prisma.user.create({ data: { email: 'b@x.io' } });
    const error = await prisma
      .$transaction([
        prisma.audit.create({ data: { action: 'batch' } }),
        prisma.user.update({ where: { id: user.id }, data: { ssn: 's' } }),
      ])
      .catch((e: unknown) => e);
    expect((error as UnsupportedOperationError).code).toBe('batch-transaction');
    expect((await db.rows('Audit')).filter((row) => row.action === 'batch')).toHaveLength(0);
    // Updates of plain fields need no key, so they run in a batch (a result that cannot be
    // decrypted after the batch committed: CommittedWriteResultError, see committed-creates.test.ts).
    const [updated] = await prisma.$transaction([
      prisma.user.update({ where: { id: user.id }, data: { name: 'n' }, select: { id: true, name: true } }),
    ]);
    expect(updated).toEqual({ id: user.id, name: 'n' });
  });

  it('configuration errors name the option', () => {
    expect(() => fieldEncryption({ keyring, metadata })).toThrow(/blindIndexKey/);
    expect(() =>
      fieldEncryption({
        keyring,
        blindIndexKey,
        metadata: { version: 1, models: { User: { encrypted: { email: {} } } } },
      }),
    ).toThrow(/no data-key field/);
    expect(() => fieldEncryption({ keyring, blindIndexKey, metadata: { version: 2 } as never })).toThrow(
      ConfigError,
    );
  });

  it.each([
    ['models that is null', { version: 1, models: null }, 'metadata'],
    ['a model entry that is null', { version: 1, models: { User: null } }, 'metadata.models.User'],
    [
      'an encrypted-field entry that is null',
      { version: 1, models: { User: { dataKey: 'dataKey', encrypted: { email: null } } } },
      'metadata.models.User.encrypted.email',
    ],
    [
      'idFields that is a string',
      { version: 1, models: { User: { idFields: 'id' } } },
      'metadata.models.User.idFields',
    ],
    [
      'a column that is a number',
      { version: 1, models: { User: { dataKey: 'k', encrypted: { email: { column: 7 } } } } },
      'metadata.models.User.encrypted.email.column',
    ],
    [
      'a normalize without a blind index',
      { version: 1, models: { User: { dataKey: 'k', encrypted: { email: { normalize: ['trim'] } } } } },
      'metadata.models.User.encrypted.email.normalize',
    ],
    [
      'an unknown normalizer',
      {
        version: 1,
        models: { User: { dataKey: 'k', encrypted: { email: { blindIndex: 'ei', normalize: ['nope'] } } } },
      },
      'metadata.models.User.encrypted.email.normalize',
    ],
    [
      'a relation without a model',
      { version: 1, models: { User: { relations: { posts: {} } } } },
      'metadata.models.User.relations.posts',
    ],
  ])(
    'hand-written metadata with %s is a ConfigError naming the place, not a TypeError',
    (_what, bad, option) => {
      const error = (() => {
        try {
          fieldEncryption({ keyring, blindIndexKey, metadata: bad as never });
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).option).toBe(option);
    },
  );

  it('metadata that does not match the client fails when applied', () => {
    const stale = {
      version: 1 as const,
      models: { ...metadata.models, User: { ...metadata.models.User, encrypted: { email: {}, phone: {} } } },
    };
    expect(() => encrypted(db.client(), { metadata: stale })).toThrow(/User\.phone/);
    const { Post: _post, ...withoutPost } = metadata.models;
    const missing = {
      version: 1 as const,
      models: {
        ...withoutPost,
        User: { ...metadata.models.User, relations: { profile: metadata.models.User?.relations?.profile } },
      },
    };
    expect(() => encrypted(db.client(), { metadata: missing as never })).toThrow(
      /not in the metadata|missing/,
    );
  });
});
