/**
 * Regression tests for bugs this suite found in other packages (see docs/reliability.md,
 * "Findings"): lone surrogates silently changed, hand-written Prisma metadata failing with a
 * TypeError. Both fixed; these keep them fixed end to end.
 */
import { randomBytes } from 'node:crypto';
import {
  decryptValue,
  deriveDataKey,
  EncryptionError,
  encryptValue,
  FieldsealError,
  LocalKeyring,
} from '@fieldseal/core';
import { fieldEncryption } from '@fieldseal/prisma';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Customer } from './support/entities.js';
import { openTypeormDb, type TypeormDb } from './support/typeorm-db.js';

describe('core: strings with lone UTF-16 surrogates', () => {
  const key = deriveDataKey(randomBytes(32));
  const place = { table: 'customer', column: 'email' };

  it('are refused with a typed EncryptionError instead of being stored as U+FFFD (silent change of the value)', () => {
    const value = 'broken \uD800 surrogate';
    let stored: string | undefined;
    let error: unknown;
    try {
      stored = encryptValue(key, place, value) as string;
    } catch (e) {
      error = e;
    }
    if (stored !== undefined) {
      // The bug: encrypted, and decrypted to a *different* string ("broken \uFFFD surrogate").
      expect(decryptValue(key, place, stored)).toBe(value);
    }
    expect(error).toBeInstanceOf(EncryptionError);
  });

  describe('through TypeORM', () => {
    let db: TypeormDb;
    beforeAll(async () => {
      db = await openTypeormDb('sqlite', LocalKeyring.fromString(LocalKeyring.generateKeyText('bugs')));
    });
    afterAll(async () => db?.drop());

    it('a saved lone surrogate reads back as itself, or the save fails with a typed error', async () => {
      const customers = db.dataSource.getRepository(Customer);
      const email = 'lone-\uDC00@x.example';
      let id: number | undefined;
      try {
        id = (await customers.save(customers.create({ handle: 'lone', email, ssn: null }))).id;
      } catch (error) {
        expect(error).toBeInstanceOf(FieldsealError);
        return;
      }
      expect((await customers.findOneByOrFail({ id })).email).toBe(email);
    });
  });
});

describe('prisma: metadata validation', () => {
  const keyring = LocalKeyring.fromString(LocalKeyring.generateKeyText('meta'));
  const cases: Array<[string, unknown]> = [
    ['a model entry that is null', { version: 1, models: { User: null } }],
    ['models that is null', { version: 1, models: null }],
    [
      'an encrypted-field entry that is null',
      { version: 1, models: { User: { dataKey: 'dataKey', encrypted: { email: null } } } },
    ],
    ['idFields that is a string, not an array', { version: 1, models: { User: { idFields: 'id' } } }],
  ];
  for (const [what, metadata] of cases) {
    it(`rejects ${what} with a ConfigError (was: TypeError)`, () => {
      expect(() => fieldEncryption({ keyring, metadata: metadata as never })).toThrow(FieldsealError);
    });
  }
});
