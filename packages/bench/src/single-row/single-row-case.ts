/** The operations timed on one row, in the order one iteration runs them. */
export const SINGLE_ROW_OPS = [
  'insert',
  'findById',
  'findByIndex',
  'updateEncrypted',
  'updatePlain',
  'delete',
] as const;
export type SingleRowOp = (typeof SINGLE_ROW_OPS)[number];

/** What each op does, for tables and charts. */
export const OP_TITLES: Readonly<Record<SingleRowOp, string>> = {
  insert: 'insert one',
  findById: 'find by id',
  findByIndex: 'find by email (blind index)',
  updateEncrypted: 'update one encrypted field',
  updatePlain: 'update one plain field',
  delete: 'delete one',
};

export type Dialect = 'postgres' | 'sqlite';
export type Orm = 'typeorm' | 'prisma';
/** `plain`: the ORM alone; `fieldseal`: our adapter; `peer`: the static-key library for that ORM. */
export type Variant = 'plain' | 'fieldseal' | 'peer';

/** One row's values: a plain `name` and the three encrypted columns. */
export interface Person {
  readonly name: string;
  readonly email: string;
  readonly ssn: string | null;
  readonly note: string | null;
}

/** A row as read back (the plaintext, whatever the case stores). */
export interface ReadRow extends Person {
  readonly id: number;
}

/**
 * One ORM setup the benchmark drives, each op written the way an application would call it.
 * `findByIndex` is absent where the setup cannot look a row up by an encrypted value
 * (typeorm-encrypted: random IVs, no hash column).
 */
export interface SingleRowCase {
  readonly orm: Orm;
  readonly variant: Variant;
  readonly dialect: Dialect;
  /** e.g. `TypeORM 1.1 + @fieldseal/typeorm`. */
  readonly label: string;
  insert(person: Person): Promise<number>;
  findById(id: number): Promise<ReadRow | null>;
  findByIndex?: (email: string) => Promise<ReadRow | null>;
  updateEncrypted(id: number, note: string): Promise<void>;
  updatePlain(id: number, name: string): Promise<void>;
  delete(id: number): Promise<void>;
  close(): Promise<void>;
}

/** Short names, for chart axes. */
export const OP_SHORT: Readonly<Record<SingleRowOp, string>> = {
  insert: 'insert',
  findById: 'find by id',
  findByIndex: 'find by email',
  updateEncrypted: 'update encrypted',
  updatePlain: 'update plain',
  delete: 'delete',
};

/** The row of iteration `i` (unique email, so unique indexes never collide). */
export function personOf(run: string, i: number): Person {
  return {
    name: `user ${i}`,
    email: `user-${run}-${i}@example.com`,
    ssn: `${String(i % 1000).padStart(3, '0')}-45-${String(i % 10_000).padStart(4, '0')}`,
    note: `customer since ${2000 + (i % 25)}, prefers email contact`,
  };
}
