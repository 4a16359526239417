import type { FieldCatalog } from '../query/context.js';
import type { ModelInfo } from './encryption-schema.js';

/** The part of Prisma's merged extension list this adapter reads: computed fields per model. */
export interface ClientExtensions {
  getAllComputedFields(
    model: string,
  ): Readonly<Record<string, { readonly needs: readonly string[] }>> | undefined;
}

/** Prisma's runtime data model, as far as the catalog reads it. */
export interface RuntimeModels {
  readonly [model: string]: { readonly fields: readonly { readonly name: string }[] };
}

/**
 * The field names of every model, from the client's runtime data model, plus the result
 * extensions of the client a request was sent through (which may be applied after fieldseal).
 * Without a runtime data model every name counts as a field: nothing can be checked then.
 */
export function fieldCatalog(
  models: RuntimeModels | undefined,
  extensions: ClientExtensions | undefined,
): FieldCatalog {
  const computed = (model: ModelInfo) => extensions?.getAllComputedFields(model.name);
  return {
    isField: (model, name) => !models?.[model.name] || fieldsOf(models, model.name).has(name),
    isComputed: (model, name) => computed(model)?.[name] !== undefined,
    computedNames: (model) => Object.keys(computed(model) ?? {}),
    needsOf: (model, name) => computed(model)?.[name]?.needs,
  };
}

const cache = new WeakMap<object, Map<string, ReadonlySet<string>>>();

function fieldsOf(models: RuntimeModels, model: string): ReadonlySet<string> {
  let byModel = cache.get(models);
  if (!byModel) {
    byModel = new Map();
    cache.set(models, byModel);
  }
  let fields = byModel.get(model);
  if (!fields) {
    fields = new Set(models[model]?.fields.map((field) => field.name));
    byModel.set(model, fields);
  }
  return fields;
}
