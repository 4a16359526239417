// Every key of a Prisma query's arguments that fieldseal knows, by what it can hold. Shared by
// the walker (args-walker.ts, blind-index-filter.ts) and by the test that compares them with
// Prisma's generated input types.

/**
 * What each argument of a model operation can hold, for every argument Prisma 7 accepts.
 * The walker (args-walker.ts) visits each one by its role; an argument missing from this table is refused
 * (a new Prisma argument must be classified here before it can reach the database), and
 * test/args-walker-coverage.test.ts fails when Prisma's generated input types name one.
 */
export const ARGUMENT_ROLES = {
  where: 'filter',
  cursor: 'filter',
  having: 'having',
  orderBy: 'order',
  distinct: 'field-list',
  by: 'field-list',
  select: 'selection',
  include: 'selection',
  omit: 'plain',
  take: 'plain',
  skip: 'plain',
  limit: 'plain',
  skipDuplicates: 'plain',
  relationLoadStrategy: 'plain',
  // Written values: encrypted by the data encryptor, which refuses nested operations it does not know.
  data: 'write',
  create: 'write',
  update: 'write',
  _count: 'count',
  _min: 'aggregate',
  _max: 'aggregate',
  _avg: 'aggregate',
  _sum: 'aggregate',
} as const satisfies Record<string, string>;

/** Keys of a filter (`where`, `having`) that combine filters rather than name a field. */
export const LOGICAL_KEYS = ['AND', 'OR', 'NOT'] as const;
/** Keys of a relation filter, each holding a filter on the related model. */
export const RELATION_FILTER_KEYS = ['some', 'every', 'none', 'is', 'isNot'] as const;
/** Keys of an `orderBy` item besides field and relation names. */
export const ORDER_KEYS = ['_relevance', '_count', '_min', '_max', '_avg', '_sum'] as const;
/** Keys of a `_count` selection (`select: { _count: { select: { posts: { where } } } }`). */
export const COUNT_SELECTION_KEYS = ['select'] as const;
/** Keys of one relation counted in a `_count` selection. */
export const COUNTED_RELATION_KEYS = ['where'] as const;

/** What a model field can hold in a filter: equality operators go to the blind index; the rest is refused. */
export const EQUALITY_OPERATORS = ['equals', 'in', 'notIn', 'not'] as const;

/** Operations of a nested write (`data: { posts: { <op>: … } }`), each handled by the data encryptor. */
export const NESTED_WRITE_OPERATIONS = [
  'create',
  'createMany',
  'connectOrCreate',
  'connect',
  'set',
  'disconnect',
  'delete',
  'deleteMany',
  'update',
  'updateMany',
  'upsert',
] as const;

/** Keys of the objects inside nested writes (`{ where, data }`, `{ where, create, update }`, `{ data, skipDuplicates }`). */
export const NESTED_WRITE_ITEM_KEYS = ['where', 'data', 'create', 'update', 'skipDuplicates'] as const;
