import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DMMF } from '@prisma/generator-helper';
import { describe, expect, it } from 'vitest';
import { AnnotationError, metadataFromDmmf } from '../src/index.js';
import { fieldEncryptionMetadata } from './generated/sqlite/fieldseal/metadata.js';

type FieldSpec = Partial<DMMF.Field> & { name: string };
const scalar = (
  name: string,
  type: string,
  documentation?: string,
  extra: Partial<DMMF.Field> = {},
): FieldSpec => ({
  name,
  kind: 'scalar',
  type,
  isList: false,
  isId: false,
  isUnique: false,
  ...(documentation ? { documentation } : {}),
  ...extra,
});
const datamodel = (...models: { name: string; fields: FieldSpec[]; dbName?: string }[]): DMMF.Datamodel =>
  ({
    models: models.map((model) => ({
      dbName: model.dbName ?? null,
      schema: null,
      uniqueFields: [],
      uniqueIndexes: [],
      primaryKey: null,
      ...model,
    })),
    enums: [],
    types: [],
    indexes: [],
  }) as unknown as DMMF.Datamodel;
const id = scalar('id', 'Int', undefined, { isId: true });
const problems = (model: DMMF.Datamodel): readonly string[] => {
  try {
    metadataFromDmmf(model);
  } catch (error) {
    expect(error).toBeInstanceOf(AnnotationError);
    return (error as AnnotationError).problems;
  }
  throw new Error('expected an AnnotationError');
};

/** Runs `prisma generate` with the fieldseal generator on `models`; its output when it fails, '' when it succeeds. */
function generateOutput(models: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'fs-gen-'));
  try {
    const generator = join(import.meta.dirname, '..', 'bin', 'fieldseal-prisma.js');
    writeFileSync(
      join(dir, 'schema.prisma'),
      `generator fieldseal {\n  provider = "node ${generator}"\n  output = "./out"\n}\ndatasource db {\n  provider = "sqlite"\n}\n${models}`,
    );
    const cli = createRequire(import.meta.url).resolve('prisma/build/index.js');
    execFileSync(process.execPath, [cli, 'generate', '--schema', join(dir, 'schema.prisma')], {
      cwd: dir,
      stdio: 'pipe',
      env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: '/bin/true', PRISMA_HIDE_UPDATE_MESSAGE: '1' },
    });
    return '';
  } catch (error) {
    return (
      String((error as { stderr?: Buffer }).stderr ?? '') +
      String((error as { stdout?: Buffer }).stdout ?? '')
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('the generator reads annotations', () => {
  it('the generated metadata of the test schema names encrypted fields, data keys, blind indexes and both sides of relations', () => {
    expect(fieldEncryptionMetadata.models.User).toEqual({
      idFields: ['id'],
      dataKey: 'dataKey',
      encrypted: {
        email: { type: 'String', blindIndex: 'emailIndex', normalize: ['trim', 'lowercase'] },
        ssn: { type: 'String' },
      },
      relations: {
        posts: { model: 'Post', list: true, name: 'PostToUser' },
        profile: { model: 'Profile', list: false, name: 'ProfileToUser' },
      },
    });
    expect(fieldEncryptionMetadata.models.Profile?.encrypted?.avatar).toEqual({ type: 'Bytes' });
    expect(fieldEncryptionMetadata.models.Audit).toEqual({ idFields: ['id'] });
  });

  it('@map and @@map names are kept, since values are bound to the table and column', () => {
    const metadata = metadataFromDmmf(
      datamodel({
        name: 'Account',
        dbName: 'accounts',
        fields: [
          id,
          scalar('iban', 'String', '@encrypted', { dbName: 'iban_ct' }),
          scalar('dk', 'String', '@dataKey'),
        ],
      }),
    );
    expect(metadata.models.Account).toEqual({
      table: 'accounts',
      idFields: ['id'],
      dataKey: 'dk',
      encrypted: { iban: { type: 'String', column: 'iban_ct' } },
    });
  });

  it('a model with encrypted fields and no data-key column is an error that says what to add', () => {
    expect(
      problems(datamodel({ name: 'User', fields: [id, scalar('email', 'String', '@encrypted')] })),
    ).toEqual([
      'User: has @encrypted fields (email) but no data-key column; add `dataKey String? /// @dataKey` to model User',
    ]);
  });

  it('wrong types, unique ciphertext, dangling blind indexes and typos are all reported at once', () => {
    const found = problems(
      datamodel({
        name: 'User',
        fields: [
          id,
          scalar('age', 'Int', '@encrypted'),
          scalar('email', 'String', '@encrypted', { isUnique: true }),
          scalar('phone', 'String', '@encrpyted'),
          scalar('nameIndex', 'String', '@blindIndex(name)'),
          scalar('name', 'String'),
          scalar('dk', 'String', '@dataKey'),
        ],
      }),
    );
    expect(found).toHaveLength(4);
    expect(found.join('\n')).toMatch(/User\.age: @encrypted needs a String or Bytes field, not Int/);
    expect(found.join('\n')).toMatch(/User\.email: @encrypted fields cannot be @id or @unique/);
    expect(found.join('\n')).toMatch(/User\.phone: unknown annotation "@encrpyted"/);
    expect(found.join('\n')).toMatch(/User\.nameIndex: @blindIndex\(name\) must name an @encrypted field/);
  });

  it('an @encrypted field with @default is an error (the database would store the default in plaintext)', () => {
    const found = problems(
      datamodel({
        name: 'User',
        fields: [
          id,
          scalar('ssn', 'String', '@encrypted', { hasDefaultValue: true, default: 'none' }),
          scalar('dk', 'String', '@dataKey'),
        ],
      }),
    );
    expect(found).toEqual([
      'User.ssn: @encrypted fields cannot have @default (the database would store it in plaintext); set the value in your create instead',
    ]);
  });

  it('@blindIndex(field, normalize: "…") records the steps; unknown steps and malformed annotations are reported', () => {
    const ok = metadataFromDmmf(
      datamodel({
        name: 'User',
        fields: [
          id,
          scalar('email', 'String', '@encrypted'),
          scalar('emailIndex', 'String', '@blindIndex(email, normalize: " nfkc, trim ,lowercase")'),
          scalar('dk', 'String', '@dataKey'),
        ],
      }),
    );
    expect(ok.models.User?.encrypted?.email).toEqual({
      type: 'String',
      blindIndex: 'emailIndex',
      normalize: ['nfkc', 'trim', 'lowercase'],
    });
    const found = problems(
      datamodel({
        name: 'User',
        fields: [
          id,
          scalar('email', 'String', '@encrypted'),
          scalar('ssn', 'String', '@encrypted'),
          scalar('emailIndex', 'String', '@blindIndex(email, normalize: "trim,casefold")'),
          scalar('ssnIndex', 'String', '@blindIndex(ssn, lowercase)'),
          scalar('dk', 'String', '@dataKey'),
        ],
      }),
    );
    expect(found).toHaveLength(2);
    expect(found.join('\n')).toMatch(
      /User\.emailIndex: @blindIndex normalize: .*unknown normalizer "casefold"/,
    );
    expect(found.join('\n')).toMatch(/User\.ssnIndex: malformed @blindIndex/);
  });

  it('prisma generate fails with the message when the data-key column is missing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fs-gen-'));
    try {
      const generator = join(import.meta.dirname, '..', 'bin', 'fieldseal-prisma.js');
      writeFileSync(
        join(dir, 'schema.prisma'),
        `generator fieldseal {\n  provider = "node ${generator}"\n  output = "./out"\n}\ndatasource db {\n  provider = "sqlite"\n}\nmodel User {\n  id Int @id\n  email String /// @encrypted\n}\n`,
      );
      const cli = createRequire(import.meta.url).resolve('prisma/build/index.js');
      let output = '';
      try {
        execFileSync(process.execPath, [cli, 'generate', '--schema', join(dir, 'schema.prisma')], {
          cwd: dir,
          stdio: 'pipe',
          env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: '/bin/true', PRISMA_HIDE_UPDATE_MESSAGE: '1' },
        });
      } catch (error) {
        output =
          String((error as { stderr?: Buffer }).stderr ?? '') +
          String((error as { stdout?: Buffer }).stdout ?? '');
      }
      expect(output).toContain('add `dataKey String? /// @dataKey` to model User');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('prisma generate fails on two-slash comments that look like annotations, naming model and field', () => {
    const output = generateOutput(
      'model User {\n  id Int @id\n  email String // @encrypted\n  ssn String? //@Encrypted\n  note String? // plain comment\n  org String // @tenant\n  dataKey String? /// @dataKey\n  // @blindIndex(email)\n}\n',
    );
    // A dropped @tenant leaves rows unbound to their tenant: as silent as a dropped @encrypted.
    expect(output).toContain('User.org: "//" comment with @tenant');
    expect(output).toContain('User.email: "//" comment with @encrypted');
    expect(output).toContain('User.ssn: "//" comment with @Encrypted');
    expect(output).toMatch(/User: "\/\/" comment with @blindIndex/);
    expect(output).not.toContain('User.note');
    expect(output).not.toContain('User.dataKey');
  });

  it('the generator writes metadata.ts and metadata.json with the same content', () => {
    const dir = join(import.meta.dirname, 'generated', 'sqlite', 'fieldseal');
    const json = JSON.parse(readFileSync(join(dir, 'metadata.json'), 'utf8'));
    expect(json).toEqual(fieldEncryptionMetadata);
  });
});
