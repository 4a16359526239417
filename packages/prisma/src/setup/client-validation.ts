import { ConfigError } from '@fieldseal/core';
import type { EncryptionSchema } from './encryption-schema.js';

interface RuntimeField {
  readonly name: string;
  readonly kind: string;
  readonly type: string;
}

interface RuntimeClient {
  readonly _runtimeDataModel?: {
    readonly models?: Readonly<Record<string, { readonly fields: readonly RuntimeField[] }>>;
  };
}

/**
 * Checks the metadata against the generated client it is applied to, so stale or hand-written
 * metadata fails when the extension is applied rather than by leaving a column in plaintext:
 * every named field exists with the right type, and every relation that leads to encrypted
 * fields is known (nested writes and `include`s are followed through them), with both its sides.
 */
export function validateAgainstClient(schema: EncryptionSchema, client: unknown): void {
  const models = (client as RuntimeClient)._runtimeDataModel?.models;
  if (!models) return;
  const fail = (message: string): never => {
    throw new ConfigError(
      'metadata',
      `${message}; run \`prisma generate\` so the fieldseal metadata matches the client`,
    );
  };
  for (const model of schema.models) {
    const runtime = models[model.name];
    if (!runtime) fail(`model ${model.name} is not in this Prisma Client`);
    const fields = new Map(runtime?.fields.map((field) => [field.name, field]));
    const expect = (name: string, types: readonly string[], role: string) => {
      const field = fields.get(name);
      if (field?.kind !== 'scalar' || !types.includes(field.type))
        fail(`${model.name}.${name} (${role}) must be a ${types.join(' or ')} field`);
    };
    for (const field of model.encrypted.values())
      expect(field.name, [field.binary ? 'Bytes' : 'String'], 'encrypted');
    if (model.dataKey) expect(model.dataKey, ['String'], 'data key');
    for (const index of model.indexOf.keys()) expect(index, ['String'], 'blind index');
    for (const id of model.idFields) if (!fields.has(id)) fail(`${model.name}.${id} (id) does not exist`);
    for (const relation of model.relations.values()) {
      const field = fields.get(relation.field);
      if (field?.kind !== 'object' || field.type !== relation.model)
        fail(`${model.name}.${relation.field} is not a relation to ${relation.model}`);
      if (schema.model(relation.model)?.touchesEncryption && !schema.backRelation(model, relation)) {
        fail(
          `the other side of relation ${model.name}.${relation.field} is missing from the metadata of ${relation.model}`,
        );
      }
    }
  }
  for (const [name, runtime] of Object.entries(models)) {
    for (const field of runtime.fields) {
      if (field.kind !== 'object' || !schema.model(field.type)?.touchesEncryption) continue;
      if (!schema.model(name)?.relations.has(field.name))
        fail(
          `relation ${name}.${field.name} leads to encrypted model ${field.type} but is not in the metadata`,
        );
    }
  }
}
