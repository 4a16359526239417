import { ConfigError } from '@fieldseal/core';
import type { DMMF } from '@prisma/generator-helper';
import { describe, expect, it } from 'vitest';
import { AnnotationError, fieldEncryption, metadataFromDmmf } from '../src/index.js';
import { keyring } from './helpers/fixture.js';

// `/// @tenant` at generate time and in hand-written metadata: every mistake is refused, naming model and field.

const field = (name: string, type: string, documentation?: string, extra: Partial<DMMF.Field> = {}) => ({
  name,
  kind: 'scalar',
  type,
  isList: false,
  isId: name === 'id',
  isUnique: false,
  ...(documentation ? { documentation } : {}),
  ...extra,
});
const model = (name: string, fields: object[]) =>
  ({
    models: [
      { name, dbName: null, schema: null, uniqueFields: [], uniqueIndexes: [], primaryKey: null, fields },
    ],
    enums: [],
    types: [],
    indexes: [],
  }) as unknown as DMMF.Datamodel;
const base = [
  field('id', 'Int'),
  field('memo', 'String', '@encrypted'),
  field('dataKey', 'String', '@dataKey'),
];
const problemsOf = (datamodel: DMMF.Datamodel): readonly string[] => {
  try {
    metadataFromDmmf(datamodel);
  } catch (error) {
    expect(error).toBeInstanceOf(AnnotationError);
    return (error as AnnotationError).problems;
  }
  return [];
};

describe('/// @tenant annotation', () => {
  it('a String or Int field is recorded as the model’s tenant (with its @map column)', () => {
    const meta = metadataFromDmmf(
      model('Invoice', [...base, field('org', 'String', '@tenant', { dbName: 'org_id' })]),
    );
    expect(meta.models.Invoice).toMatchObject({ tenant: 'org', columns: { org: 'org_id' } });
    expect(
      metadataFromDmmf(model('Line', [...base, field('shard', 'Int', '@tenant')])).models.Line?.tenant,
    ).toBe('shard');
  });

  it.each([
    [
      'two tenant fields',
      [field('a', 'String', '@tenant'), field('b', 'String', '@tenant')],
      'Invoice: one @tenant field per model, found a, b',
    ],
    [
      'a DateTime',
      [field('at', 'DateTime', '@tenant')],
      'Invoice.at: @tenant needs a plain String or Int field',
    ],
    [
      'a list',
      [field('tags', 'String', '@tenant', { isList: true })],
      'Invoice.tags: @tenant needs a plain String or Int field',
    ],
    [
      'an encrypted field',
      [field('org', 'String', '@encrypted @tenant')],
      'Invoice.org: a @tenant field cannot also be @encrypted',
    ],
    ['the data-key field', [], 'Invoice.dataKey: a @tenant field cannot also be the @dataKey field'],
    ['a typo', [field('org', 'String', '@tenantId')], 'Invoice.org: unknown annotation "@tenantId"'],
  ])('refuses %s, naming model and field', (_what, extra, message) => {
    const fields =
      _what === 'the data-key field'
        ? [
            field('id', 'Int'),
            field('memo', 'String', '@encrypted'),
            field('dataKey', 'String', '@dataKey @tenant'),
          ]
        : [...base, ...extra];
    expect(problemsOf(model('Invoice', fields)).join('\n')).toContain(message);
  });

  it('refuses a tenant on a model with nothing encrypted', () => {
    expect(
      problemsOf(model('Plain', [field('id', 'Int'), field('org', 'String', '@tenant')])).join('\n'),
    ).toContain('Plain.org: @tenant scopes encrypted fields, but model Plain has no @encrypted field');
  });

  it('hand-written metadata naming an encrypted field or the data key as tenant is a ConfigError at setup', () => {
    for (const tenant of ['memo', 'dataKey', ''])
      expect(() =>
        fieldEncryption({
          keyring,
          metadata: {
            version: 1,
            models: { Invoice: { dataKey: 'dataKey', tenant, encrypted: { memo: {} } } },
          },
        }),
      ).toThrow(ConfigError);
  });
});
