import { relative, sep } from 'node:path';
import type { DMMF, GeneratorConfig } from '@prisma/generator-helper';
import type { FieldEncryptionMetadata } from '../setup/metadata.js';

/** One helper: a model's encrypted field whose blind index is unique on its own. */
interface UniqueLookup {
  readonly model: string;
  readonly field: string;
  readonly index: string;
  /** What the app passes: the encrypted field's own type (`Bytes` is `Uint8Array` in Prisma 7). */
  readonly valueType: 'string' | 'Uint8Array';
}

/** Encrypted fields whose blind-index column is `@unique` (or a one-field `@@unique`, or the `@id`). */
export function uniqueLookups(datamodel: DMMF.Datamodel, metadata: FieldEncryptionMetadata): UniqueLookup[] {
  const lookups: UniqueLookup[] = [];
  for (const model of datamodel.models) {
    const encrypted = metadata.models[model.name]?.encrypted ?? {};
    for (const [field, info] of Object.entries(encrypted)) {
      const index = info.blindIndex;
      if (index === undefined) continue;
      const column = model.fields.find((f) => f.name === index);
      const unique =
        column?.isUnique === true ||
        column?.isId === true ||
        model.uniqueFields.some((fields) => fields.length === 1 && fields[0] === index) ||
        (model.primaryKey?.fields.length === 1 && model.primaryKey.fields[0] === index);
      const bytes = model.fields.find((f) => f.name === field)?.type === 'Bytes';
      if (unique)
        lookups.push({ model: model.name, field, index, valueType: bytes ? 'Uint8Array' : 'string' });
    }
  }
  return lookups;
}

/**
 * Where the app's generated client exports `Prisma`, as seen from fieldseal's output directory:
 * the `clientImport` generator option if set, else the `prisma-client` (`<output>/client.js`) or
 * `prisma-client-js` generator of the same schema. Undefined when there is neither.
 */
export function clientImportPath(
  self: GeneratorConfig,
  others: readonly GeneratorConfig[],
  output: string,
): string | undefined {
  const configured = self.config.clientImport;
  if (typeof configured === 'string' && configured !== '') return configured;
  const client = others.find((g) => ['prisma-client', 'prisma-client-js'].includes(g.provider.value ?? ''));
  const clientOutput = client?.output?.value;
  if (!client || !clientOutput) return undefined;
  const nodeModules = `${sep}node_modules${sep}`;
  if (client.provider.value === 'prisma-client-js' && clientOutput.includes(nodeModules))
    return '@prisma/client';
  let path = relative(output, clientOutput).split(sep).join('/');
  if (!path.startsWith('.')) path = `./${path}`;
  return client.provider.value === 'prisma-client' ? `${path}/client.js` : `${path}/index.js`;
}

const lowerFirst = (name: string) => name.charAt(0).toLowerCase() + name.slice(1);
const upperFirst = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);

/** The helper's name: `userByEmail` for `User.email`. */
export const helperName = (model: string, field: string) => `${lowerFirst(model)}By${upperFirst(field)}`;

/**
 * unique.ts: for each encrypted field with a unique blind index, a function returning the
 * `WhereUniqueInput` `{ field: value }`. Prisma's types know only the index column as unique,
 * fieldseal's extension rewrites the field onto it at run time, so the one cast lives here.
 */
export function uniqueHelpersSource(
  lookups: readonly UniqueLookup[],
  clientImport: string,
  header: string,
): string {
  const lines = [header, `import type { Prisma } from '${clientImport}';`, ''];
  for (const { model, field, index, valueType } of lookups) {
    const type = `Prisma.${model}WhereUniqueInput`;
    lines.push(
      '/**',
      ` * The ${model} whose encrypted \`${field}\` equals \`${field}\`, as a unique where for findUnique(OrThrow),`,
      ' * update, upsert, delete, connect and connectOrCreate. The fieldseal extension looks it up',
      ` * through the @unique blind index \`${index}\`; without the extension Prisma refuses it (no unique field).`,
      ' */',
      `export function ${helperName(model, field)}(${field}: ${valueType}): ${type} {`,
      `  return { ${field} } as unknown as ${type};`,
      '}',
      '',
    );
  }
  if (lookups.length === 0) lines.push('// No encrypted field has a @unique blind index.', 'export {};', '');
  return lines.join('\n');
}
