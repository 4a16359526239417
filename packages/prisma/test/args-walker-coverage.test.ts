import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ARGUMENT_ROLES,
  COUNTED_RELATION_KEYS,
  LOGICAL_KEYS,
  NESTED_WRITE_ITEM_KEYS,
  NESTED_WRITE_OPERATIONS,
  ORDER_KEYS,
  RELATION_FILTER_KEYS,
} from '../src/query/argument-keys.js';

interface InputType {
  readonly name: string;
  readonly fields: readonly {
    readonly name: string;
    readonly inputTypes: readonly { type: string; location: string }[];
  }[];
}
interface OutputField {
  readonly name: string;
  readonly args: readonly { readonly name: string }[];
}
interface Dmmf {
  datamodel: { models: { name: string; fields: { name: string }[] }[] };
  schema: {
    inputObjectTypes: { prisma: InputType[] };
    outputObjectTypes: {
      prisma: { name: string; fields: OutputField[] }[];
      model: { name: string; fields: OutputField[] }[];
    };
  };
}

const here = new URL('.', import.meta.url).pathname;
const require = createRequire(join(here, '..', 'package.json'));

/** Prisma's DMMF for the fixture models, through a test-only generator that writes it out. */
function dmmfFor(provider: string): Dmmf {
  const dir = mkdtempSync(join(tmpdir(), 'fs-dmmf-'));
  try {
    const out = join(dir, 'dmmf.json');
    const schema = [
      `generator dump {\n  provider = "node ${join(here, 'helpers', 'dump-dmmf.mjs')}"\n  output   = "${out}"\n}`,
      `datasource db {\n  provider = "${provider}"\n}`,
      readFileSync(join(here, 'fixtures', 'models.prisma'), 'utf8'),
    ].join('\n');
    writeFileSync(join(dir, 'schema.prisma'), schema);
    execFileSync(
      process.execPath,
      [require.resolve('prisma/build/index.js'), 'generate', '--schema', join(dir, 'schema.prisma')],
      {
        env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: '/bin/true' },
        stdio: 'pipe',
      },
    );
    return JSON.parse(readFileSync(out, 'utf8')) as Dmmf;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const within = (keys: readonly string[]) => (key: string) => keys.includes(key);

// Every input type Prisma generates, by what the walker (or the data encryptor) does with its
// keys. A type name matching no rule is a position nobody classified: the test fails on it.
type Rule = readonly [
  pattern: RegExp,
  knows: (key: string, fields: ReadonlySet<string>, type: InputType) => boolean,
];
const RULES: readonly Rule[] = [
  // Filters: field names, AND/OR/NOT, and compound uniques made of fields.
  [
    /^(?<m>[A-Z]\w*?)(Scalar)?Where(Unique)?(WithAggregates)?Input$/,
    (key, fields, type) => fields.has(key) || within(LOGICAL_KEYS)(key) || compoundOf(type, key, fields),
  ],
  [/^(?<m>[A-Z]\w*?)(List|NullableScalar|Scalar)RelationFilter$/, within(RELATION_FILTER_KEYS)],
  // Ordering: fields, relations, and the aggregate/relevance keys the walker checks.
  [
    /^(?<m>[A-Z]\w*?)OrderBy(WithRelation|WithAggregation)Input$/,
    (key, fields) => fields.has(key) || within(ORDER_KEYS)(key),
  ],
  [/^(?<m>[A-Z]\w*?)OrderByRelationAggregateInput$/, within(['_count'])],
  [/^(?<m>[A-Z]\w*?)(Count|Avg|Max|Min|Sum)OrderByAggregateInput$/, (key, fields) => fields.has(key)],
  [/^(?<m>[A-Z]\w*?)OrderByRelevanceInput$/, within(['fields', 'sort', 'search'])],
  [/^SortOrderInput$/, within(['sort', 'nulls'])],
  // Scalar filters and updates: equality goes to the blind index, any other operator on an
  // encrypted field is refused, and only `set` updates one; plain fields pass as they are.
  [/^(Nested)?\w+?(Nullable)?(WithAggregates)?Filter$/, () => true],
  [/^(Nullable)?\w+FieldUpdateOperationsInput$/, () => true],
  // Write data: fields (encrypted ones encrypted, relations followed); nested writes by operation.
  [
    /^(?<m>[A-Z]\w*?)(Unchecked)?(CreateNested\w*Without\w+Input|Update\w*Without\w+NestedInput)$/,
    within(NESTED_WRITE_OPERATIONS),
  ],
  [
    /^(?<m>[A-Z]\w*?)(Unchecked)?(Create|Update)(Many)?(Mutation)?(Without\w+)?Input$/,
    (key, fields) => fields.has(key),
  ],
  [/^(?<m>[A-Z]\w*?)CreateMany\w+Input$/, (key, fields) => fields.has(key)],
  [
    /^(?<m>[A-Z]\w*?)(CreateOrConnect|UpdateWithWhereUnique|UpdateManyWithWhere|UpsertWithWhereUnique|Upsert|UpdateToOneWithWhere)Without\w+Input$/,
    within(NESTED_WRITE_ITEM_KEYS),
  ],
  [/^(?<m>[A-Z]\w*?)CreateMany\w+InputEnvelope$/, within(NESTED_WRITE_ITEM_KEYS)],
];

function compoundOf(type: InputType, key: string, fields: ReadonlySet<string>): boolean {
  return (
    type.name.endsWith('WhereUniqueInput') &&
    /_/.test(key) &&
    key.split('_').every((part) => fields.has(part))
  );
}

describe.each(['sqlite', 'postgresql', 'mysql'])(
  "the walker knows every key of Prisma's %s input types",
  (provider) => {
    const dmmf = dmmfFor(provider);
    const fieldsOf = new Map(
      dmmf.datamodel.models.map((model) => [model.name, new Set(model.fields.map((f) => f.name))]),
    );

    it('every argument of every model operation, relation and _count selection is classified', () => {
      const unknown: string[] = [];
      // Raw queries ($queryRaw, $executeRaw) are no model operations: fieldseal never sees them.
      for (const root of dmmf.schema.outputObjectTypes.prisma.filter((type) =>
        ['Query', 'Mutation'].includes(type.name),
      ))
        for (const field of root.fields.filter((each) => !/^(query|execute)Raw$/.test(each.name)))
          for (const arg of field.args)
            if (!(arg.name in ARGUMENT_ROLES)) unknown.push(`${field.name}(${arg.name})`);
      for (const type of dmmf.schema.outputObjectTypes.model)
        for (const field of type.fields) {
          const known = type.name.endsWith('CountOutputType')
            ? COUNTED_RELATION_KEYS
            : Object.keys(ARGUMENT_ROLES);
          for (const arg of field.args)
            if (!(known as readonly string[]).includes(arg.name))
              unknown.push(`${type.name}.${field.name}(${arg.name})`);
        }
      expect(unknown).toEqual([]);
    });

    it('every input object type matches a rule, and every key of it is one the rule knows', () => {
      const unclassified: string[] = [];
      const unknownKeys: string[] = [];
      for (const type of dmmf.schema.inputObjectTypes.prisma) {
        const rule = RULES.map(([pattern, knows]) => [pattern.exec(type.name), knows] as const).find(
          ([match]) => match,
        );
        if (!rule) {
          unclassified.push(type.name);
          continue;
        }
        const [match, knows] = rule;
        const model = match?.groups?.m;
        const fields = (model && fieldsOf.get(model)) || new Set<string>();
        for (const field of type.fields)
          if (!knows(field.name, fields, type)) unknownKeys.push(`${type.name}.${field.name}`);
      }
      expect(unclassified).toEqual([]);
      expect(unknownKeys).toEqual([]);
    });
  },
);
