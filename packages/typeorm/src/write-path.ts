import {
  type EntityMetadata,
  InsertQueryBuilder,
  type InsertResult,
  type ObjectLiteral,
  type QueryRunner,
  UpdateQueryBuilder,
} from 'typeorm';
import type { EntityPlan } from './entity-plan.js';
import { leaving, UnsupportedOperationError } from './errors.js';
import { type InsertBuilder, sealInsert } from './insert-path.js';
import { planOfMetadata, runtimeOf } from './runtime.js';
import { runUpdate, type UpdateBuilder } from './update-path.js';
import { sealed, unprotected, writesProtected } from './value-sets.js';

type Builder = (InsertQueryBuilder<ObjectLiteral> | UpdateQueryBuilder<ObjectLiteral>) & {
  obtainQueryRunner(): QueryRunner;
  queryRunner?: QueryRunner;
};

const PATCHED = Symbol.for('fieldseal.typeorm.write-path');

function planOfBuilder(builder: Builder): EntityPlan | undefined {
  const alias = builder.expressionMap.mainAlias;
  return alias?.hasMetadata ? planOfMetadata(alias.metadata) : undefined;
}

/**
 * Patches TypeORM's insert and update builders, once per process: every INSERT and UPDATE
 * of every data source goes through them (save with any options, insert, update, upsert,
 * QueryBuilder, transactions, query runners). For entities with encrypted columns:
 * - `execute()` runs the before-listeners and subscribers itself, *then* encrypts (the last
 *   step before the SQL is built), then runs TypeORM's own execute with listeners off, then
 *   the after-listeners on the caller's plaintext objects;
 * - the SQL builders (`createValuesExpression`, `createUpdateExpression`) are a tripwire: a
 *   value set that writes an encrypted or managed column and was not sealed by fieldseal is
 *   refused, whatever path brought it there.
 */
export function patchWritePath(): void {
  const insert = InsertQueryBuilder.prototype as unknown as Record<string | symbol, unknown>;
  if (insert[PATCHED]) return;
  insert[PATCHED] = true;
  const update = UpdateQueryBuilder.prototype as unknown as Record<string, unknown>;

  const insertExecute = insert.execute as (this: Builder) => Promise<unknown>;
  insert.execute = async function (this: InsertBuilder & Builder) {
    const plan = planOfBuilder(this);
    if (!plan) return insertExecute.call(this);
    const valueSets = this.getValueSets();
    if (valueSets.length === 0 && !this.expressionMap.insertFromSelect) return insertExecute.call(this);
    if (valueSets.every((valueSet) => sealed.has(valueSet))) return insertExecute.call(this);
    return withListeners(this, plan, 'Insert', valueSets, async (runtime) => {
      const restore = await sealInsert(runtime, plan, this);
      try {
        const result = (await insertExecute.call(this)) as InsertResult;
        restore(result);
        return result;
      } catch (error) {
        restore(undefined);
        throw error;
      }
    });
  };

  const updateExecute = update.execute as (this: Builder) => Promise<unknown>;
  update.execute = async function (this: UpdateBuilder & Builder) {
    const plan = planOfBuilder(this);
    const valuesSet = this.expressionMap.valuesSet as ObjectLiteral | undefined;
    if (!plan || !valuesSet || typeof valuesSet !== 'object' || sealed.has(valuesSet))
      return updateExecute.call(this);
    return withListeners(this, plan, 'Update', [valuesSet], (runtime, queryRunner) =>
      runUpdate(runtime, plan, this, queryRunner, () => updateExecute.call(this) as never),
    );
  };

  const values = insert.createValuesExpression as (this: InsertBuilder) => string;
  insert.createValuesExpression = function (this: InsertBuilder & Builder) {
    const plan = planOfBuilder(this);
    if (plan) for (const valueSet of this.getValueSets()) tripwire(this, plan, valueSet, 'An INSERT');
    return values.call(this);
  };
  const updateExpression = update.createUpdateExpression as (this: Builder) => string;
  update.createUpdateExpression = function (this: Builder) {
    const plan = planOfBuilder(this);
    const valuesSet = this.expressionMap.valuesSet as ObjectLiteral | undefined;
    if (plan && valuesSet && typeof valuesSet === 'object') tripwire(this, plan, valuesSet, 'An UPDATE');
    return updateExpression.call(this);
  };
}

function tripwire(builder: Builder, plan: EntityPlan, valueSet: ObjectLiteral, what: string): void {
  if (sealed.has(valueSet) || !writesProtected(plan, valueSet)) return;
  if (!runtimeOf(builder.connection)) throw unprotected(plan, what);
  throw new UnsupportedOperationError(
    'unsupported-operation',
    `${what} of encrypted columns that fieldseal did not encrypt: build and run writes with execute() (getQuery()/getQueryAndParameters() sent through query() bypass encryption)`,
    { entity: plan.entity, location: { table: plan.table } },
  );
}

/**
 * Runs the before-listeners (when the builder calls them), then `work` with listeners off,
 * then the after-listeners. Errors leave the adapter through `leaving()`, the one place they do.
 */
async function withListeners<T>(
  builder: Builder,
  plan: EntityPlan,
  event: 'Insert' | 'Update',
  valueSets: readonly ObjectLiteral[],
  work: (runtime: NonNullable<ReturnType<typeof runtimeOf>>, queryRunner: QueryRunner) => Promise<T>,
): Promise<T> {
  const map = builder.expressionMap;
  const runtime = runtimeOf(builder.connection);
  const owned = !builder.queryRunner;
  const queryRunner = builder.obtainQueryRunner();
  if (owned) builder.setQueryRunner(queryRunner);
  const callListeners = map.callListeners;
  const listeners = callListeners === true && map.mainAlias?.hasMetadata === true;
  try {
    if (!runtime) throw unprotected(plan, event === 'Insert' ? 'An insert' : 'An update');
    const metadata = map.mainAlias?.metadata as EntityMetadata;
    if (listeners)
      await Promise.all(
        valueSets.map((v) => queryRunner.broadcaster.broadcast(`Before${event}`, metadata, v)),
      );
    map.callListeners = false;
    let result: T;
    try {
      result = await work(runtime, queryRunner);
    } finally {
      map.callListeners = callListeners;
    }
    if (listeners)
      await Promise.all(
        valueSets.map((v) => queryRunner.broadcaster.broadcast(`After${event}`, metadata, v)),
      );
    return result;
  } catch (error) {
    throw leaving(builder.connection, error);
  } finally {
    if (owned) {
      (builder as { queryRunner?: QueryRunner | undefined }).queryRunner = undefined;
      await queryRunner.release();
    }
  }
}
