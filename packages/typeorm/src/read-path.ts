import {
  type EntityMetadata,
  type ObjectLiteral,
  QueryBuilder,
  type QueryRunner,
  SelectQueryBuilder,
} from 'typeorm';
import { Broadcaster } from 'typeorm/subscriber/Broadcaster.js';
import { BroadcasterResult } from 'typeorm/subscriber/BroadcasterResult.js';
import { UnsupportedOperationError } from './errors.js';
import { collectLoaded, decryptLoaded } from './load-decrypt.js';
import { applyRechecks, type Recheck, recheckOf } from './recheck.js';
import { planOfMetadata, runtimeOf } from './runtime.js';
import { rewriteFindOptions, rewriteWhere } from './where-rewriter.js';

const PATCHED = Symbol.for('fieldseal.typeorm.read-path');
const DECRYPTED = Symbol('fieldseal.decrypted');
const rechecks = new WeakMap<object, Recheck[] | null>();

type Select = SelectQueryBuilder<ObjectLiteral> & { queryRunner?: QueryRunner };
// biome-ignore lint/suspicious/noExplicitAny: TypeORM's protected methods, patched in place
type Method = (this: any, ...args: any[]) => any;
type WithRunner = { readonly queryRunner: QueryRunner };

/**
 * Patches TypeORM's read side, once per process, keyed by data source at call time (so a
 * destroy()/initialize() changes nothing):
 * - the load broadcast decrypts every hydrated entity (relations included) *before* entity
 *   `@AfterLoad` listeners and subscribers run, so they see plaintext;
 * - find options and QueryBuilder object conditions on encrypted properties become blind-index
 *   conditions (or are refused), and results are re-checked after decryption;
 * - ORDER BY an encrypted column is refused.
 */
export function patchReadPath(): void {
  const broadcaster = Broadcaster.prototype as unknown as Record<string | symbol, Method>;
  if (broadcaster[PATCHED]) return;
  broadcaster[PATCHED] = (() => undefined) as Method;

  const load = broadcaster.broadcastLoadEvent as Method;
  broadcaster.broadcastLoadEvent = function (
    this: WithRunner,
    result: BroadcasterResult,
    metadata: EntityMetadata,
    entities: unknown[],
  ) {
    if ((result as unknown as Record<symbol, unknown>)[DECRYPTED])
      return load.call(this, result, metadata, entities);
    const loaded = collectLoaded(metadata, entities);
    if (loaded.length === 0) return load.call(this, result, metadata, entities);
    const runtime = runtimeOf(this.queryRunner.connection);
    const inner = new BroadcasterResult();
    (inner as unknown as Record<symbol, unknown>)[DECRYPTED] = true;
    result.count++;
    result.promises.push(
      (async () => {
        if (!runtime) throw unprotectedRead(loaded[0]?.plan.entity as string);
        await decryptLoaded(runtime, this.queryRunner, loaded);
        load.call(this, inner, metadata, entities);
        await inner.wait();
      })(),
    );
  };

  const select = SelectQueryBuilder.prototype as unknown as Record<string, Method>;
  const setFindOptions = select.setFindOptions as Method;
  select.setFindOptions = function (this: Select, options: unknown) {
    const runtime = runtimeOf(this.connection);
    const metadata = this.expressionMap.mainAlias?.hasMetadata
      ? this.expressionMap.mainAlias.metadata
      : undefined;
    if (!runtime || !metadata) return setFindOptions.call(this, options);
    const plan = planOfMetadata(metadata);
    const where = (options as { where?: unknown } | undefined)?.where;
    if (plan) addRecheck(this, recheckOf(plan, where));
    return setFindOptions.call(this, rewriteFindOptions(runtime, metadata, options));
  };

  const query = QueryBuilder.prototype as unknown as Record<string, Method>;
  const getWhereCondition = query.getWhereCondition as Method;
  query.getWhereCondition = function (this: Select, where: unknown) {
    if (
      where === null ||
      typeof where !== 'object' ||
      typeof (where as { whereFactory?: unknown }).whereFactory === 'function'
    )
      return getWhereCondition.call(this, where);
    const metadata = this.expressionMap.mainAlias?.hasMetadata
      ? this.expressionMap.mainAlias.metadata
      : undefined;
    const runtime = runtimeOf(this.connection);
    if (!metadata || !runtime) return getWhereCondition.call(this, where);
    const plan = planOfMetadata(metadata);
    if (plan && this.expressionMap.queryType === 'select') addRecheck(this, recheckOf(plan, where));
    return getWhereCondition.call(this, rewriteWhere(runtime, metadata, where));
  };
  const orWhere = select.orWhere as Method;
  select.orWhere = function (this: Select, ...args: unknown[]) {
    // An OR across calls is not re-checked per call: drop the re-check rather than misapply it.
    rechecks.set(this, null);
    return orWhere.apply(this, args);
  };

  const orderBy = select.createOrderByExpression as Method;
  select.createOrderByExpression = function (this: Select) {
    for (const key of Object.keys(this.expressionMap.allOrderBys)) refuseOrder(this, key);
    return orderBy.call(this);
  };

  const execute = select.executeEntitiesAndRawResults as Method;
  select.executeEntitiesAndRawResults = async function (this: Select, queryRunner: QueryRunner) {
    const result = (await execute.call(this, queryRunner)) as { entities: ObjectLiteral[]; raw: unknown[] };
    const metadata = this.expressionMap.mainAlias?.hasMetadata
      ? this.expressionMap.mainAlias.metadata
      : undefined;
    const plan = metadata ? planOfMetadata(metadata) : undefined;
    if (!metadata) return result;
    // callListeners(false) skips the load broadcast: decrypt anyway, never hand back ciphertext.
    if (this.expressionMap.callListeners === false) {
      const loaded = collectLoaded(metadata, result.entities);
      const runtime = runtimeOf(this.connection);
      if (loaded.length > 0 && !runtime) throw unprotectedRead(loaded[0]?.plan.entity as string);
      if (runtime && loaded.length > 0) await decryptLoaded(runtime, queryRunner, loaded);
    }
    const checks = rechecks.get(this);
    if (plan && checks) result.entities = applyRechecks(plan, checks, result.entities);
    return result;
  };
}

function addRecheck(builder: object, recheck: Recheck | undefined): void {
  if (!recheck) return;
  const list = rechecks.get(builder);
  if (list === null) return;
  rechecks.set(builder, [...(list ?? []), recheck]);
}

function refuseOrder(builder: Select, key: string): void {
  const bare = key.replace(/[`"[\]]/g, '');
  const dot = bare.indexOf('.');
  const aliasName = dot < 0 ? builder.expressionMap.mainAlias?.name : bare.slice(0, dot);
  const property = dot < 0 ? bare : bare.slice(dot + 1);
  const alias = builder.expressionMap.aliases.find((a) => a.name === aliasName && a.hasMetadata);
  const plan = alias ? planOfMetadata(alias.metadata) : undefined;
  if (!plan) return;
  for (const field of plan.encrypted.values()) {
    if (field.property !== property && field.column !== property) continue;
    throw new UnsupportedOperationError(
      'unsupported-ordering',
      'Encrypted properties cannot be sorted by the database (orderBy sorts ciphertext); sort after loading',
      {
        entity: plan.entity,
        property: field.property,
        location: { table: plan.table, column: field.column },
      },
    );
  }
}

function unprotectedRead(entity: string): UnsupportedOperationError {
  return new UnsupportedOperationError(
    'unprotected-client',
    'A load of an entity with @Encrypted() columns through a data source without field encryption; call fieldEncryption(dataSource, …) first',
    { entity },
  );
}
