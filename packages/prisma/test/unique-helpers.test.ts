import type { DMMF, GeneratorConfig } from '@prisma/generator-helper';
import { describe, expect, it } from 'vitest';
import { clientImportPath, uniqueHelpersSource, uniqueLookups } from '../src/generate/unique-helpers.js';
import { metadataFromDmmf } from '../src/index.js';

const field = (name: string, documentation?: string, extra: Partial<DMMF.Field> = {}) => ({
  name,
  kind: 'scalar',
  type: 'String',
  isList: false,
  isId: false,
  isUnique: false,
  ...(documentation ? { documentation } : {}),
  ...extra,
});
const model = (name: string, fields: ReturnType<typeof field>[], uniqueFields: string[][] = []) => ({
  name,
  dbName: null,
  schema: null,
  primaryKey: null,
  uniqueIndexes: [],
  uniqueFields,
  fields: [field('id', undefined, { type: 'Int', isId: true }), field('dataKey', '@dataKey'), ...fields],
});
const datamodel = (...models: ReturnType<typeof model>[]) =>
  ({ models, enums: [], types: [], indexes: [] }) as unknown as DMMF.Datamodel;
const generator = (provider: string, output: string, config: Record<string, string> = {}) =>
  ({
    name: provider,
    provider: { value: provider },
    output: { value: output },
    config,
  }) as unknown as GeneratorConfig;

describe('unique.ts: which fields get a helper', () => {
  const dm = datamodel(
    model('User', [
      field('email', '@encrypted'),
      field('emailIndex', '@blindIndex(email)', { isUnique: true }),
      field('phone', '@encrypted'),
      field('phoneIndex', '@blindIndex(phone)'),
      field('ssn', '@encrypted'),
    ]),
    model('Patient', [field('ssn', '@encrypted'), field('ssnIndex', '@blindIndex(ssn)')], [['ssnIndex']]),
    model('Device', [
      field('token', '@encrypted', { type: 'Bytes' }),
      field('tokenIndex', '@blindIndex(token)', { isUnique: true }),
    ]),
    model(
      'Visit',
      [field('code', '@encrypted'), field('codeIndex', '@blindIndex(code)'), field('day')],
      [['codeIndex', 'day']],
    ),
  );
  const lookups = uniqueLookups(dm, metadataFromDmmf(dm));

  it('an encrypted field whose blind index is @unique or a one-field @@unique; not a plain or compound index, nor no index', () => {
    expect(lookups).toEqual([
      { model: 'User', field: 'email', index: 'emailIndex', valueType: 'string' },
      { model: 'Patient', field: 'ssn', index: 'ssnIndex', valueType: 'string' },
      { model: 'Device', field: 'token', index: 'tokenIndex', valueType: 'Uint8Array' },
    ]);
  });

  it('each helper is typed with the model WhereUniqueInput of the given client import', () => {
    const source = uniqueHelpersSource(lookups, '../client/client.js', '/* header */');
    expect(source).toContain("import type { Prisma } from '../client/client.js';");
    expect(source).toContain('export function userByEmail(email: string): Prisma.UserWhereUniqueInput {');
    expect(source).toContain('export function patientBySsn(ssn: string): Prisma.PatientWhereUniqueInput {');
    expect(source).not.toMatch(/ByPhone|ByCode/);
  });

  it('a Bytes field takes a Uint8Array: a string would hash differently and silently match no row', () => {
    const source = uniqueHelpersSource(lookups, '../client/client.js', '/* header */');
    expect(source).toContain(
      'export function deviceByToken(token: Uint8Array): Prisma.DeviceWhereUniqueInput {',
    );
  });
});

describe("unique.ts: where the app's client is imported from", () => {
  const out = '/app/prisma/generated/fieldseal';
  it('the prisma-client generator: its client.js, relative to the fieldseal output', () => {
    const self = generator('fieldseal-prisma', out);
    expect(clientImportPath(self, [generator('prisma-client', '/app/prisma/generated/client')], out)).toBe(
      '../client/client.js',
    );
    expect(clientImportPath(self, [generator('prisma-client', '/app/src/db')], out)).toBe(
      '../../../src/db/client.js',
    );
  });
  it('prisma-client-js: @prisma/client in node_modules, else the output index.js', () => {
    const self = generator('fieldseal-prisma', out);
    expect(
      clientImportPath(self, [generator('prisma-client-js', '/app/node_modules/.prisma/client')], out),
    ).toBe('@prisma/client');
    expect(
      clientImportPath(self, [generator('prisma-client-js', '/app/prisma/generated/fieldseal/js')], out),
    ).toBe('./js/index.js');
  });
  it('the clientImport option wins; no client generator and no option means no unique.ts', () => {
    const configured = generator('fieldseal-prisma', out, { clientImport: '~/db/client' });
    expect(clientImportPath(configured, [generator('prisma-client', '/x')], out)).toBe('~/db/client');
    expect(clientImportPath(generator('fieldseal-prisma', out), [], out)).toBeUndefined();
  });
});
