import type {
  BeforeQueryEvent,
  EntitySubscriberInterface,
  InsertEvent,
  LoadEvent,
  ObjectLiteral,
  UpdateEvent,
} from 'typeorm';
import { encryptForRow, readRowKeys } from './data-key-claim.js';
import { type EntityPlan, rowIdOf } from './entity-plan.js';
import { UnsupportedOperationError } from './errors.js';
import { planOf, type Runtime } from './runtime.js';
import { type EncryptedValueType, encodeValue, ValueTypeMismatch } from './value-codec.js';

/**
 * The TypeORM subscriber doing the per-entity work: encrypts before every insert and update
 * TypeORM broadcasts (save, insert, QueryBuilder), decrypts after every load, and refuses
 * writes it cannot make safe — before anything reaches the database.
 * Registered by `fieldEncryption()`; not meant to be listed in DataSource options.
 */
export class EncryptionSubscriber implements EntitySubscriberInterface<ObjectLiteral> {
  readonly #runtime: Runtime;
  readonly #tables: ReadonlySet<string>;

  constructor(runtime: Runtime) {
    this.#runtime = runtime;
    this.#tables = new Set([...runtime.plans.values()].map((plan) => plan.table.toLowerCase()));
  }

  /** New row (save, insert, QueryBuilder insert): one fresh data key for all its encrypted values. */
  async beforeInsert(event: InsertEvent<ObjectLiteral>): Promise<void> {
    const plan = planOf(this.#runtime, event.metadata);
    const entity = event.entity as ObjectLiteral | undefined;
    if (!plan || !entity || this.#runtime.internal.has(entity)) return;
    for (const index of plan.indexes.values()) {
      const value = entity[index.property];
      if (value !== undefined && value !== null)
        throw managedWritten(plan, index.property, 'a blind-index column');
    }
    const write = await this.#runtime.cipher.encrypt(plan, entity, undefined);
    this.#apply(plan, entity, write.values, write.dataKey);
  }

  async afterInsert(event: InsertEvent<ObjectLiteral>): Promise<void> {
    if (event.entity) this.#runtime.swap.settle(event.entity);
  }

  /**
   * `save()` of an existing entity arrives with `databaseEntity` (loaded, decrypted) and the
   * changed columns: encrypt those under the row's key. A bare update (`update()`,
   * QueryBuilder) arrives with only the values set and no rows: fieldseal's own per-row
   * writes are let through; any other non-null encrypted value is refused.
   */
  async beforeUpdate(event: UpdateEvent<ObjectLiteral>): Promise<void> {
    const plan = planOf(this.#runtime, event.metadata);
    const entity = event.entity;
    if (!plan || !entity || this.#runtime.internal.has(entity)) return;
    if (!event.databaseEntity) return this.#refuseBareUpdate(plan, entity);
    const database = event.databaseEntity;
    // Decide what changed here, not from event.updatedColumns: an entity listener may have
    // changed a property after TypeORM computed them, and anything TypeORM later finds
    // changed but fieldseal did not encrypt would be written as plaintext.
    const changed: ObjectLiteral = {};
    const unchanged: ObjectLiteral = {};
    for (const field of plan.encrypted.values()) {
      const value = entity[field.property];
      const stored = database[field.property];
      if (value === undefined || value === stored) continue;
      // Equal but not identical (two Date objects): hand TypeORM the loaded one, so it sees no change.
      if (sameEncoding(field.type, value, stored)) unchanged[field.property] = stored;
      else changed[field.property] = value;
    }
    for (const index of plan.indexes.values()) {
      const value = entity[index.property];
      if (value !== undefined && value !== database[index.property] && !(index.source in changed)) {
        throw managedWritten(plan, index.property, 'a blind-index column');
      }
    }
    const storedKey = (database[plan.dataKey.property] as string | null | undefined) ?? null;
    if (Object.keys(changed).length === 0) {
      // Never let a stale or edited copy of the data key overwrite the row's.
      const managed =
        entity[plan.dataKey.property] === undefined ? {} : { [plan.dataKey.property]: storedKey };
      this.#runtime.swap.swap(entity, unchanged, managed);
      return;
    }
    const id = plan.metadata.getEntityIdMap(database) as ObjectLiteral;
    const write = await encryptForRow(
      this.#runtime,
      event.manager,
      plan,
      { id, dataKey: storedKey },
      changed,
      rowIdOf(plan, database),
    );
    this.#apply(plan, entity, { ...unchanged, ...write.values }, write.dataKey);
  }

  async afterUpdate(event: UpdateEvent<ObjectLiteral>): Promise<void> {
    if (event.entity) this.#runtime.swap.settle(event.entity);
  }

  /** Decrypts in place every entity TypeORM hydrates (find, relations, QueryBuilder getMany). */
  async afterLoad(entity: ObjectLiteral, event?: LoadEvent<ObjectLiteral>): Promise<void> {
    const plan = event ? planOf(this.#runtime, event.metadata) : undefined;
    if (!plan || !event) return;
    let present = false;
    let ciphertext = false;
    for (const field of plan.encrypted.values()) {
      const value = entity[field.property];
      if (value === undefined) continue;
      present = true;
      if (value !== null) ciphertext = true;
    }
    if (!present) return;
    const rowId = rowIdOf(plan, entity);
    let dataKey = entity[plan.dataKey.property];
    if (dataKey === undefined && ciphertext) {
      // A partial select without the data-key column: fetch it rather than fail.
      if (rowId === undefined) {
        throw new UnsupportedOperationError(
          'unsupported-operation',
          'Encrypted columns were selected without the primary key, so the row data key cannot be found; select the primary key too',
          {
            entity: plan.entity,
            location: { table: plan.table },
          },
        );
      }
      const [row] = await readRowKeys(event.manager, plan, {
        ids: [plan.metadata.getEntityIdMap(entity) as ObjectLiteral],
      });
      dataKey = row?.dataKey ?? null;
    }
    Object.assign(
      entity,
      await this.#runtime.cipher.decrypt(plan, entity, dataKey, rowId, this.#runtime.readMode),
    );
  }

  /**
   * Last line of defence for INSERT … ON CONFLICT/ON DUPLICATE KEY UPDATE built with the
   * QueryBuilder (`orUpdate()`): its update branch would overwrite some encrypted columns of an
   * existing row under another data key. `repository.upsert()` is intercepted and never emits it.
   */
  beforeQuery(event: BeforeQueryEvent): void {
    const query = event.query;
    if (query.length < 7 || !/^\s*INSERT\s/i.test(query)) return;
    if (!/\bON\s+CONFLICT\b[\s\S]*\bDO\s+UPDATE\b|\bON\s+DUPLICATE\s+KEY\s+UPDATE\b/i.test(query)) return;
    const table = /^\s*INSERT\s+INTO\s+((?:[`"[]?[\w$]+[`"\]]?\.)*)[`"[]?([\w$]+)/i.exec(query)?.[2];
    if (!table || !this.#tables.has(table.toLowerCase())) return;
    const plan = [...this.#runtime.plans.values()].find(
      (p) => p.table.toLowerCase() === table.toLowerCase(),
    ) as EntityPlan;
    throw new UnsupportedOperationError(
      'unsupported-operation',
      'INSERT … ON CONFLICT DO UPDATE (QueryBuilder orUpdate) on a table with encrypted columns could mix two data keys in one row; use repository.upsert() or save()',
      { entity: plan.entity, location: { table: plan.table } },
    );
  }

  #refuseBareUpdate(plan: EntityPlan, values: ObjectLiteral): void {
    const nulled: ObjectLiteral = {};
    for (const property of Object.keys(values)) {
      const value = values[property];
      if (value === undefined) continue;
      if (plan.indexes.has(property)) throw managedWritten(plan, property, 'a blind-index column');
      if (property === plan.dataKey.property) throw managedWritten(plan, property, 'the data-key column');
      const field = plan.encrypted.get(property);
      if (!field) continue;
      if (value !== null) {
        throw new UnsupportedOperationError(
          'unsupported-operation',
          'A QueryBuilder update().set() of an encrypted column cannot be encrypted: the rows it touches, and so their data keys, are unknown here; use repository.update(criteria, values) or save()',
          { entity: plan.entity, property, location: { table: plan.table, column: field.column } },
        );
      }
      // Clearing a value clears its blind index too, or lookups would still find the row.
      const index = plan.indexBySource.get(property);
      if (index && values[index.property] === undefined) nulled[index.property] = null;
    }
    if (Object.keys(nulled).length > 0) this.#runtime.swap.swap(values, nulled, {});
  }

  #apply(
    plan: EntityPlan,
    entity: ObjectLiteral,
    values: Readonly<Record<string, unknown>>,
    dataKey: string,
  ): void {
    const encrypted: Record<string, unknown> = {};
    const managed: Record<string, unknown> = { [plan.dataKey.property]: dataKey };
    for (const [property, value] of Object.entries(values)) {
      if (plan.encrypted.has(property)) encrypted[property] = value;
      else managed[property] = value;
    }
    this.#runtime.swap.swap(entity, encrypted, managed);
  }
}

function managedWritten(plan: EntityPlan, property: string, what: string): UnsupportedOperationError {
  const column = plan.indexes.get(property)?.column ?? plan.dataKey.column;
  return new UnsupportedOperationError(
    'forbidden-write',
    `"${property}" is ${what} that fieldseal maintains; the application must not write it`,
    {
      entity: plan.entity,
      property,
      location: { table: plan.table, column },
    },
  );
}

function sameEncoding(type: EncryptedValueType, a: unknown, b: unknown): boolean {
  if (a === null || b === null || b === undefined) return false;
  const left = encodeValue(type, a);
  const right = encodeValue(type, b);
  if (left instanceof ValueTypeMismatch || right instanceof ValueTypeMismatch) return false;
  if (typeof left === 'string' || typeof right === 'string') return left === right;
  return Buffer.from(left).equals(Buffer.from(right));
}
