import type { ModelInfo } from '../setup/encryption-schema.js';
import { asList, isPlainObject, type QueryContext, refuse } from './context.js';
import { rewriteWhere } from './blind-index-filter.js';

const AGGREGATES = ['_min', '_max', '_avg', '_sum'] as const;

/**
 * Rewrites `where` and `cursor` and refuses `orderBy`/`distinct` on encrypted fields, for the
 * arguments of a model query at any level (top level, or an included relation's arguments).
 */
export function prepareFilters(ctx: QueryContext, model: ModelInfo, args: Record<string, unknown>): void {
  if (args.where !== undefined) args.where = rewriteWhere(ctx, model, args.where);
  if (args.cursor !== undefined) args.cursor = rewriteWhere(ctx, model, args.cursor);
  if (args.orderBy !== undefined) checkOrderBy(ctx, model, args.orderBy);
  if (args.distinct !== undefined) {
    for (const field of asList(args.distinct))
      if (typeof field === 'string' && model.encrypted.has(field))
        refuse('unsupported-ordering', model, field, 'distinct');
  }
}

/** Refuses ordering by an encrypted field, including through to-one relations and `_relevance`. */
export function checkOrderBy(ctx: QueryContext, model: ModelInfo | undefined, orderBy: unknown): void {
  if (!model?.touchesEncryption) return;
  for (const item of asList(orderBy)) {
    if (!isPlainObject(item)) continue;
    for (const [key, value] of Object.entries(item)) {
      if (model.encrypted.has(key)) refuse('unsupported-ordering', model, key, 'orderBy');
      const relation = model.relations.get(key);
      if (relation && isPlainObject(value)) checkOrderBy(ctx, ctx.schema.model(relation.model), value);
      if (key === '_relevance' && isPlainObject(value)) {
        for (const field of asList(value.fields))
          if (typeof field === 'string' && model.encrypted.has(field))
            refuse('unsupported-ordering', model, field, 'Relevance ordering');
      }
      if ((AGGREGATES as readonly string[]).includes(key) && isPlainObject(value))
        checkAggregateFields(model, key, value);
    }
  }
}

/**
 * `aggregate`, `groupBy` and `count`: `_count` of an encrypted field is allowed (non-null
 * ciphertext counts as non-null plaintext does); `_min`/`_max`/`_avg`/`_sum`, `groupBy` by an
 * encrypted field and `having` on one are refused.
 */
export function prepareAggregate(ctx: QueryContext, model: ModelInfo, args: Record<string, unknown>): void {
  prepareFilters(ctx, model, args);
  for (const key of AGGREGATES) if (isPlainObject(args[key])) checkAggregateFields(model, key, args[key]);
  if (isPlainObject(args.select)) {
    for (const key of AGGREGATES)
      if (isPlainObject(args.select[key])) checkAggregateFields(model, key, args.select[key]);
  }
  for (const field of asList(args.by))
    if (typeof field === 'string' && model.encrypted.has(field))
      refuse('unsupported-aggregate', model, field, 'groupBy');
  if (isPlainObject(args.having)) checkHaving(model, args.having);
}

function checkAggregateFields(model: ModelInfo, aggregate: string, fields: Record<string, unknown>): void {
  for (const [field, on] of Object.entries(fields))
    if (on && model.encrypted.has(field)) refuse('unsupported-aggregate', model, field, aggregate);
}

function checkHaving(model: ModelInfo, having: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(having)) {
    if (model.encrypted.has(key)) refuse('unsupported-aggregate', model, key, 'having');
    if ((key === 'AND' || key === 'OR' || key === 'NOT') && value)
      for (const item of asList(value)) if (isPlainObject(item)) checkHaving(model, item);
  }
}
