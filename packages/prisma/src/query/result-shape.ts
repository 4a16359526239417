import type { ModelInfo } from '../setup/encryption-schema.js';
import { isPlainObject, type QueryContext } from './context.js';

/**
 * How to decrypt what a query returns: which model each level is, whether it holds encrypted
 * values, the fields fieldseal added to the selection (to remove again), and the relations below.
 */
export interface ResultShape {
  readonly model: ModelInfo;
  readonly decrypt: boolean;
  readonly strip: readonly string[];
  readonly relations: ReadonlyMap<string, ResultShape>;
}

/**
 * Makes sure every returned row that holds encrypted values also returns its data key and id
 * (adding them to `select`, or un-omitting them, when the app left them out), follows `select`
 * and `include` into relations at any depth, and rewrites the relations' own filters.
 * Mutates `args` (Prisma hands each extension its own copy). `undefined`: nothing to decrypt.
 */
export function prepareSelection(
  ctx: QueryContext,
  model: ModelInfo | undefined,
  args: Record<string, unknown>,
): ResultShape | undefined {
  if (!model?.touchesEncryption) return undefined;
  const relations = new Map<string, ResultShape>();
  const strip: string[] = [];
  // The tenant too: core needs it to open a tenant-scoped row (stripped again like the data key).
  const needed =
    model.dataKey === undefined
      ? []
      : [model.dataKey, ...model.idFields, ...(model.tenant === undefined ? [] : [model.tenant])];
  let decrypt = false;
  const select = isPlainObject(args.select) ? args.select : undefined;
  if (select) {
    followRelations(ctx, model, select, relations);
    // A result extension's field is computed after every query extension returned, from fields
    // Prisma adds to the query later: select the encrypted ones here so they arrive decrypted
    // (Prisma removes them again, since the app did not select them).
    for (const key of Object.keys(select))
      if (select[key] && ctx.fields.isComputed(model, key))
        for (const need of ctx.fields.needsOf(model, key) ?? []) if (!select[need]) select[need] = true;
    decrypt = [...model.encrypted.keys()].some((field) => Boolean(select[field]));
    if (decrypt) {
      for (const field of needed) {
        if (select[field]) continue;
        select[field] = true;
        strip.push(field);
      }
    }
  } else {
    const omit = isPlainObject(args.omit) ? args.omit : undefined;
    const globalOmit = ctx.globalOmit?.[lowerFirst(model.name)];
    const omitted = (field: string) =>
      omit?.[field] === true || (globalOmit?.[field] === true && omit?.[field] !== false);
    decrypt = [...model.encrypted.keys()].some((field) => !omitted(field));
    if (!decrypt) {
      // Every encrypted field omitted, but a computed field may need one: Prisma un-omits it later.
      const needed = computedNeeds(ctx, model, omitted).filter((need) => model.encrypted.has(need));
      if (needed.length > 0) {
        args.omit = {
          ...(isPlainObject(args.omit) ? args.omit : {}),
          ...Object.fromEntries(needed.map((need) => [need, false])),
        };
        decrypt = true;
      }
    }
    if (decrypt) {
      for (const field of needed) {
        if (omit?.[field] !== true && !(globalOmit?.[field] === true && omit?.[field] !== false)) continue;
        args.omit = { ...(isPlainObject(args.omit) ? args.omit : {}), [field]: false };
        strip.push(field);
      }
    }
    if (isPlainObject(args.include)) followRelations(ctx, model, args.include, relations);
  }
  if (!decrypt && relations.size === 0) return undefined;
  return { model, decrypt, strip, relations };
}

/** What the not-omitted computed fields of `model` need. */
function computedNeeds(ctx: QueryContext, model: ModelInfo, omitted: (field: string) => boolean): string[] {
  const names = ctx.fields.computedNames(model).filter((name) => !omitted(name));
  return names.flatMap((name) => ctx.fields.needsOf(model, name) ?? []);
}

function followRelations(
  ctx: QueryContext,
  model: ModelInfo,
  selection: Record<string, unknown>,
  out: Map<string, ResultShape>,
): void {
  for (const [field, value] of Object.entries(selection)) {
    const relation = model.relations.get(field);
    if (!relation || !value) continue;
    const related = ctx.schema.model(relation.model);
    if (!related?.touchesEncryption) continue;
    const nested = isPlainObject(value) ? value : {};
    const shape = prepareSelection(ctx, related, nested);
    if (!shape) continue;
    selection[field] = nested;
    out.set(field, shape);
  }
}

/** The shape of what a fluent call (`findUnique(...).posts()`) returns: the one at the end of its data path. */
export function shapeAtPath(
  shape: ResultShape | undefined,
  dataPath: readonly unknown[] | undefined,
): ResultShape | undefined {
  let current = shape;
  for (let i = 1; i < (dataPath?.length ?? 0) && current; i += 2)
    current = current.relations.get(String(dataPath?.[i]));
  return current;
}

/** Prisma's client property name of a model (`User` → `user`). */
export function lowerFirst(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}
