import { InstanceChecker, type ObjectLiteral } from 'typeorm';
import { encodeOrThrow } from './entity-cipher.js';
import type { EncryptedField, EntityPlan } from './entity-plan.js';

/** One equality on an encrypted property: the comparable forms of the values it accepts. */
interface Check {
  readonly field: EncryptedField;
  readonly allowed: ReadonlySet<string>;
}

/**
 * What a lookup through blind indexes asked for, to re-check after decryption: branches
 * (OR) of equalities (AND). A blind index is a truncated hash: two values can share one, and
 * the database then returns the other value's row; the re-check drops it.
 */
export type Recheck = readonly (readonly Check[])[];

/** The re-check of a top-level where, or undefined when it has no encrypted equality. */
export function recheckOf(plan: EntityPlan, where: unknown): Recheck | undefined {
  if (where === null || typeof where !== 'object') return undefined;
  const branches = (Array.isArray(where) ? where : [where]).map((branch) => checksOf(plan, branch));
  return branches.some((checks) => checks.length > 0) ? branches : undefined;
}

function checksOf(plan: EntityPlan, branch: unknown): Check[] {
  if (branch === null || typeof branch !== 'object' || InstanceChecker.isFindOperator(branch)) return [];
  const checks: Check[] = [];
  for (const [property, condition] of Object.entries(branch as ObjectLiteral)) {
    const field = plan.encrypted.get(property);
    if (!field || !plan.indexBySource.has(property) || condition === null || condition === undefined)
      continue;
    let values: readonly unknown[] = [condition];
    if (InstanceChecker.isFindOperator(condition)) {
      if (condition.type === 'equal') values = [condition.value];
      else if (condition.type === 'in') values = condition.value as unknown as readonly unknown[];
      else continue;
    }
    checks.push({ field, allowed: new Set(values.map((v) => comparable(plan, field, v))) });
  }
  return checks;
}

/** Normalized text of a value, as its blind index hashes it. */
function comparable(plan: EntityPlan, field: EncryptedField, value: unknown): string {
  if (value === null || value === undefined) return '\u0000null';
  const encoded = encodeOrThrow(plan, field, value);
  if (typeof encoded !== 'string') return Buffer.from(encoded).toString('base64');
  const normalize = plan.indexBySource.get(field.property)?.normalize;
  return normalize ? normalize(encoded) : encoded;
}

/** Keeps the (decrypted) entities that meet every re-check. */
export function applyRechecks(plan: EntityPlan, rechecks: readonly Recheck[], entities: ObjectLiteral[]) {
  return entities.filter((entity) =>
    rechecks.every((branches) =>
      branches.some((checks) =>
        checks.every((check) => {
          const loaded = check.field.metadata.getEntityValue(entity);
          // Not selected: nothing to re-check against.
          if (loaded === undefined) return true;
          let value: unknown;
          try {
            value = comparable(plan, check.field, loaded);
          } catch {
            return false;
          }
          return check.allowed.has(value as string);
        }),
      ),
    ),
  );
}
