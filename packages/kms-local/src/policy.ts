import { KmsLocalConfigError } from './config-error.js';

/** One statement of an IAM policy, in the subset kms-local evaluates. */
export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  /** `kms:Decrypt`, `kms:GenerateDataKey*`, `kms:*`, … (case-insensitive, `*` and `?` wildcards). */
  readonly Action: string | readonly string[];
  /** Key ARNs (wildcards allowed) or `*`. An alias ARN matches nothing, as in IAM. */
  readonly Resource: string | readonly string[];
  /**
   * Operators `StringEquals`, `StringLike`, `ForAllValues:StringEquals`, `ForAnyValue:StringEquals`
   * on `kms:EncryptionContext:<key>` and `kms:EncryptionContextKeys`. Anything else is refused
   * when the policy is loaded, so a policy is never half-evaluated.
   */
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;
}

/** An IAM (identity) policy applied to every cryptographic request: `{ Version, Statement }`. */
export interface KmsPolicy {
  readonly Version?: string;
  readonly Statement: readonly PolicyStatement[];
}

/** What a request asks: one IAM action on one key, with one encryption context. */
export interface PolicyRequest {
  readonly action: string;
  readonly resource: string;
  readonly context: Readonly<Record<string, string>>;
}

const OPERATORS = new Set([
  'stringequals',
  'stringlike',
  'forallvalues:stringequals',
  'forallvalues:stringlike',
  'foranyvalue:stringequals',
  'foranyvalue:stringlike',
]);
const CONTEXT_PREFIX = 'kms:encryptioncontext:';
const CONTEXT_KEYS = 'kms:encryptioncontextkeys';

const list = (value: string | readonly string[]): readonly string[] =>
  typeof value === 'string' ? [value] : value;

function wildcard(pattern: string, value: string, ignoreCase: boolean): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`, ignoreCase ? 'is' : 's').test(value);
}

/** Checks a policy's shape and operators; throws `KmsLocalConfigError` naming what is unsupported. */
export function checkPolicy(policy: unknown): KmsPolicy {
  const statements = (policy as KmsPolicy | null)?.Statement;
  if (!Array.isArray(statements)) throw new KmsLocalConfigError('policy', 'must be { "Statement": [ … ] }');
  statements.forEach((s: PolicyStatement, i) => {
    if (s.Effect !== 'Allow' && s.Effect !== 'Deny')
      throw new KmsLocalConfigError(`policy.Statement[${i}].Effect`, 'must be "Allow" or "Deny"');
    if (s.Action === undefined || s.Resource === undefined)
      throw new KmsLocalConfigError(`policy.Statement[${i}]`, 'needs Action and Resource');
    for (const [operator, pairs] of Object.entries(s.Condition ?? {})) {
      if (!OPERATORS.has(operator.toLowerCase()))
        throw new KmsLocalConfigError(
          `policy.Statement[${i}].Condition`,
          `operator ${operator} is not supported`,
        );
      for (const key of Object.keys(pairs)) {
        const k = key.toLowerCase();
        if (!k.startsWith(CONTEXT_PREFIX) && k !== CONTEXT_KEYS)
          throw new KmsLocalConfigError(
            `policy.Statement[${i}].Condition`,
            `condition key ${key} is not supported`,
          );
      }
    }
  });
  return policy as KmsPolicy;
}

/** The request's values for a condition key: `undefined` when the context lacks that key. */
function valuesOf(key: string, context: Readonly<Record<string, string>>): readonly string[] | undefined {
  const k = key.toLowerCase();
  if (k === CONTEXT_KEYS) return Object.keys(context);
  const wanted = k.slice(CONTEXT_PREFIX.length);
  // Condition key names are case-insensitive in IAM; the values compared are not.
  const found = Object.keys(context).find((name) => name.toLowerCase() === wanted);
  return found === undefined ? undefined : [context[found] as string];
}

function conditionHolds(
  operator: string,
  key: string,
  allowed: readonly string[],
  request: PolicyRequest,
): boolean {
  const [qualifier, test] = operator.includes(':')
    ? operator.toLowerCase().split(':')
    : ['', operator.toLowerCase()];
  const matches = (value: string) =>
    allowed.some((pattern) => (test === 'stringlike' ? wildcard(pattern, value, false) : pattern === value));
  const values = valuesOf(key, request.context);
  if (qualifier === 'forallvalues') return (values ?? []).every(matches);
  if (values === undefined || values.length === 0) return false;
  return qualifier === 'foranyvalue' ? values.some(matches) : values.every(matches);
}

function statementMatches(s: PolicyStatement, request: PolicyRequest): boolean {
  if (!list(s.Action).some((a) => wildcard(a, `kms:${request.action}`, true))) return false;
  if (!list(s.Resource).some((r) => wildcard(r, request.resource, false))) return false;
  return Object.entries(s.Condition ?? {}).every(([operator, pairs]) =>
    Object.entries(pairs).every(([key, allowed]) => conditionHolds(operator, key, list(allowed), request)),
  );
}

/** True when the policy allows the request: some Allow statement matches and no Deny does. */
export function policyAllows(policy: KmsPolicy, request: PolicyRequest): boolean {
  const matching = policy.Statement.filter((s) => statementMatches(s, request));
  return matching.some((s) => s.Effect === 'Allow') && !matching.some((s) => s.Effect === 'Deny');
}
