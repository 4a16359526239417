import { unsupported } from '../errors.js';
import type { ModelInfo } from '../setup/encryption-schema.js';
import {
  ARGUMENT_ROLES,
  COUNT_SELECTION_KEYS,
  COUNTED_RELATION_KEYS,
  LOGICAL_KEYS,
} from './argument-keys.js';
import { rewriteWhere } from './blind-index-filter.js';
import { asList, isPlainObject, type QueryContext, refuse } from './context.js';

type Role = (typeof ARGUMENT_ROLES)[keyof typeof ARGUMENT_ROLES];
const AGGREGATES = ['_min', '_max', '_avg', '_sum'];

/**
 * Visits every argument of a model operation that can hold a filter, at any depth (relation
 * arguments inside `select`/`include`, `_count` selections, relation filters, `orderBy` through
 * relations): equality on an encrypted field becomes a blind-index lookup, anything else that
 * would compare, sort or aggregate ciphertext is refused, and so is any key it does not know.
 * Runs before the query; mutates `args` (Prisma hands each extension its own copy).
 */
export function checkArguments(
  ctx: QueryContext,
  model: ModelInfo,
  operation: string,
  args: Record<string, unknown>,
): void {
  for (const [key, value] of Object.entries(args)) {
    if (value === undefined) continue;
    const role: Role | undefined = (ARGUMENT_ROLES as Record<string, Role>)[key];
    if (role === undefined)
      throw unsupported(
        'unknown-operation',
        `Argument "${key}" of ${model.name}.${operation} is not known to @fieldseal/prisma, so the query was not run`,
        model,
      );
    if (role === 'filter') args[key] = rewriteWhere(ctx, model, value);
    else if (role === 'having') checkHaving(ctx, model, value);
    else if (role === 'order') checkOrderBy(ctx, model, value);
    else if (role === 'field-list') {
      for (const field of asList(value))
        if (typeof field === 'string' && model.encrypted.has(field))
          refuse(key === 'by' ? 'unsupported-aggregate' : 'unsupported-ordering', model, field, key);
    } else if (role === 'selection') {
      // `count({ select })` selects counts of fields (counting ciphertext is counting plaintext).
      if (operation !== 'count') checkSelection(ctx, model, value);
    } else if (role === 'aggregate' && isPlainObject(value)) checkAggregateFields(model, key, value);
  }
}

/** `select`/`include`: relation arguments and `_count` selections hold filters of their own. */
function checkSelection(ctx: QueryContext, model: ModelInfo, selection: unknown): void {
  if (!isPlainObject(selection)) return;
  for (const [key, value] of Object.entries(selection)) {
    if (!value) continue;
    const relation = model.relations.get(key);
    if (relation) {
      const related = ctx.schema.model(relation.model);
      if (related?.touchesEncryption && isPlainObject(value))
        checkArguments(ctx, related, `${key} (relation of ${model.name})`, value);
    } else if (key === '_count') checkCountSelection(ctx, model, value);
    else if (!ctx.fields.isField(model, key) && !ctx.fields.isComputed(model, key))
      throw unsupported(
        'unknown-operation',
        `Selection "${key}" of ${model.name} is neither a field nor a computed field known to @fieldseal/prisma`,
        model,
      );
  }
}

/** `_count: { select: { posts: { where } } }`: each counted relation's filter is a filter on it. */
function checkCountSelection(ctx: QueryContext, model: ModelInfo, value: unknown): void {
  if (!isPlainObject(value)) return;
  for (const [key, select] of Object.entries(value)) {
    if (!(COUNT_SELECTION_KEYS as readonly string[]).includes(key))
      throw unsupported('unknown-operation', `"_count.${key}" of ${model.name} is not known`, model);
    if (!isPlainObject(select)) continue;
    for (const [field, counted] of Object.entries(select)) {
      const relation = model.relations.get(field);
      if (!relation || !isPlainObject(counted)) continue;
      const related = ctx.schema.model(relation.model);
      for (const [arg, filter] of Object.entries(counted)) {
        if (!(COUNTED_RELATION_KEYS as readonly string[]).includes(arg))
          throw unsupported('unknown-operation', `"_count.select.${field}.${arg}" is not known`, model);
        counted[arg] = rewriteWhere(ctx, related, filter);
      }
    }
  }
}

/** Refuses ordering by an encrypted field, through to-one relations and `_relevance` too. */
export function checkOrderBy(ctx: QueryContext, model: ModelInfo | undefined, orderBy: unknown): void {
  if (!model?.touchesEncryption) return;
  for (const item of asList(orderBy)) {
    if (!isPlainObject(item)) continue;
    for (const [key, value] of Object.entries(item)) {
      if (model.encrypted.has(key)) refuse('unsupported-ordering', model, key, 'orderBy');
      const relation = model.relations.get(key);
      if (relation) {
        // To-one: an orderBy of the related model. To-many: `{ _count: 'asc' }`, no field named.
        if (isPlainObject(value)) checkOrderBy(ctx, ctx.schema.model(relation.model), value);
      } else if (key === '_relevance' && isPlainObject(value)) {
        for (const field of asList(value.fields))
          if (typeof field === 'string' && model.encrypted.has(field))
            refuse('unsupported-ordering', model, field, 'Relevance ordering');
      } else if (AGGREGATES.includes(key) && isPlainObject(value)) checkAggregateFields(model, key, value);
      else if (key !== '_count' && !ctx.fields.isField(model, key))
        throw unsupported('unknown-operation', `orderBy "${key}" of ${model.name} is not known`, model);
    }
  }
}

/** `_min`/`_max`/`_avg`/`_sum` of an encrypted field would compute on ciphertext. */
function checkAggregateFields(model: ModelInfo, aggregate: string, fields: Record<string, unknown>): void {
  for (const [field, on] of Object.entries(fields))
    if (on && model.encrypted.has(field)) refuse('unsupported-aggregate', model, field, aggregate);
}

/** `having` compares aggregates of fields: refused on any encrypted field. */
function checkHaving(ctx: QueryContext, model: ModelInfo, having: unknown): void {
  if (!isPlainObject(having)) return;
  for (const [key, value] of Object.entries(having)) {
    if (model.encrypted.has(key)) refuse('unsupported-aggregate', model, key, 'having');
    if ((LOGICAL_KEYS as readonly string[]).includes(key))
      for (const item of asList(value)) checkHaving(ctx, model, item);
    else if (!ctx.fields.isField(model, key))
      throw unsupported('unknown-operation', `having "${key}" of ${model.name} is not known`, model);
  }
}
