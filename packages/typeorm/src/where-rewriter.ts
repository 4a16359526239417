import { type EntityMetadata, type FindOperator, In, InstanceChecker, type ObjectLiteral } from 'typeorm';
import type { EntityPlan } from './entity-plan.js';
import { UnsupportedOperationError } from './errors.js';
import { planOf, type Runtime } from './runtime.js';

/**
 * Rewrites equality conditions on encrypted properties into conditions on their blind
 * indexes, through relations too: `{ email: 'a@x' }` → `{ emailIndex: '9f…' }`,
 * `{ email: In([a, b]) }` → `{ emailIndex: In([h(a), h(b)]) }`. `IsNull()` and
 * `Not(IsNull())` stay (a null value is stored as NULL). Any other operator, and any
 * condition on an encrypted property without a blind index, throws — ciphertext cannot be
 * compared, and a silent empty result would hide the bug. Returns the input itself when
 * nothing needed rewriting.
 */
export function rewriteWhere(runtime: Runtime, metadata: EntityMetadata, where: unknown): unknown {
  if (where === null || where === undefined || typeof where !== 'object') return where;
  if (Array.isArray(where)) {
    const rewritten = where.map((branch) => rewriteWhere(runtime, metadata, branch));
    return rewritten.some((branch, i) => branch !== where[i]) ? rewritten : where;
  }
  if (InstanceChecker.isFindOperator(where) || where instanceof Date || where instanceof Uint8Array)
    return where;
  const plan = planOf(runtime, metadata);
  const conditions = where as ObjectLiteral;
  let out: ObjectLiteral | undefined;
  const set = (key: string, value: unknown, drop?: string) => {
    out ??= { ...conditions };
    if (drop !== undefined) delete out[drop];
    out[key] = value;
  };
  for (const key of Object.keys(conditions)) {
    const value = conditions[key];
    if (value === undefined) continue;
    if (plan?.encrypted.has(key)) {
      const rewritten = onEncrypted(runtime, plan, key, value);
      if (rewritten) set(rewritten.key, rewritten.value, key);
      continue;
    }
    if (plan?.embedded.has(key)) checkEmbedded(runtime, plan, key, value);
    const relation = metadata.relations.find((r) => r.propertyName === key);
    if (relation && typeof value === 'object' && value !== null && !InstanceChecker.isFindOperator(value)) {
      const nested = rewriteWhere(runtime, relation.inverseEntityMetadata, value);
      if (nested !== value) set(key, nested);
    }
  }
  return out ?? where;
}

/** Conditions inside an embedded entity: its encrypted fields have no blind index, so only IsNull(). */
function checkEmbedded(runtime: Runtime, plan: EntityPlan, path: string, value: unknown): void {
  if (value === null || typeof value !== 'object' || InstanceChecker.isFindOperator(value)) return;
  for (const [key, nested] of Object.entries(value as ObjectLiteral)) {
    if (nested === undefined) continue;
    const property = `${path}.${key}`;
    if (plan.encrypted.has(property)) onEncrypted(runtime, plan, property, nested);
    else checkEmbedded(runtime, plan, property, nested);
  }
}

function onEncrypted(
  runtime: Runtime,
  plan: EntityPlan,
  property: string,
  value: unknown,
): { key: string; value: unknown } | undefined {
  const field = plan.encrypted.get(property);
  const fail = (code: 'unsupported-filter', why: string) =>
    new UnsupportedOperationError(code, why, {
      entity: plan.entity,
      property,
      location: { table: plan.table, ...(field ? { column: field.column } : {}) },
    });
  if (value === null) return undefined;
  let operator: FindOperator<unknown> | undefined;
  if (InstanceChecker.isFindOperator(value)) {
    operator = value;
    if (operator.type === 'isNull') return undefined;
    if (operator.type === 'not' && operator.child?.type === 'isNull') return undefined;
    if (operator.type !== 'equal' && operator.type !== 'in') {
      throw fail(
        'unsupported-filter',
        `Encrypted properties support only equality (a value, Equal(), In()) and IsNull() in conditions, not ${operator.type}()`,
      );
    }
  }
  const index = plan.indexBySource.get(property);
  if (!index) {
    throw fail(
      'unsupported-filter',
      'An encrypted property without a @BlindIndex cannot be searched; add a blind index for equality lookups',
    );
  }
  if (operator?.type === 'in') {
    const values = operator.value as unknown as readonly unknown[];
    return { key: index.property, value: In(values.map((v) => runtime.cipher.indexOf(plan, property, v))) };
  }
  const plain = operator ? operator.value : value;
  return { key: index.property, value: runtime.cipher.indexOf(plan, property, plain) };
}

/**
 * Adds the data-key column (and the primary key) to a find `select` that names encrypted
 * properties, so they can be decrypted; checks `order` for encrypted properties, which
 * cannot be sorted.
 */
export function rewriteFindOptions(runtime: Runtime, metadata: EntityMetadata, options: unknown): unknown {
  if (!options || typeof options !== 'object') return options;
  const find = options as ObjectLiteral;
  const where = rewriteWhere(runtime, metadata, find.where);
  const select = completeSelect(runtime, metadata, find.select);
  checkOrder(runtime, metadata, find.order);
  if (where === find.where && select === find.select) return options;
  return { ...find, where, select };
}

function completeSelect(runtime: Runtime, metadata: EntityMetadata, select: unknown): unknown {
  if (!select || typeof select !== 'object') return select;
  const plan = planOf(runtime, metadata);
  if (Array.isArray(select)) {
    if (!plan || !select.some((p) => plan.encrypted.has(String(p)))) return select;
    const needed = [...metadata.primaryColumns.map((c) => c.propertyName), plan.dataKey.property];
    return [...select, ...needed.filter((p) => !select.includes(p))];
  }
  const object = select as ObjectLiteral;
  let out: ObjectLiteral | undefined;
  for (const key of Object.keys(object)) {
    const relation = metadata.relations.find((r) => r.propertyName === key);
    if (relation && typeof object[key] === 'object') {
      const nested = completeSelect(runtime, relation.inverseEntityMetadata, object[key]);
      if (nested !== object[key]) {
        out ??= { ...object };
        out[key] = nested;
      }
    }
  }
  if (plan && Object.keys(object).some((k) => plan.encrypted.has(k) && object[k])) {
    out ??= { ...object };
    out[plan.dataKey.property] = true;
    for (const column of metadata.primaryColumns) out[column.propertyName] = true;
  }
  return out ?? select;
}

function checkOrder(runtime: Runtime, metadata: EntityMetadata, order: unknown): void {
  if (!order || typeof order !== 'object') return;
  const plan = planOf(runtime, metadata);
  for (const key of Object.keys(order)) {
    if (plan?.encrypted.has(key)) {
      throw new UnsupportedOperationError(
        'unsupported-ordering',
        'Encrypted properties cannot be sorted by the database (order); sort after loading',
        {
          entity: plan.entity,
          property: key,
          location: { table: plan.table, column: plan.encrypted.get(key)?.column as string },
        },
      );
    }
    const relation = metadata.relations.find((r) => r.propertyName === key);
    if (relation) checkOrder(runtime, relation.inverseEntityMetadata, (order as ObjectLiteral)[key]);
  }
}
