import type { DataSource, QueryRunner } from 'typeorm';

/**
 * Runs `action` once, just before the next statement matching `match` is sent on any query
 * runner of `dataSource`'s driver: the way the tests put a concurrent change between
 * fieldseal's read of a row and its write.
 */
export function beforeNext(dataSource: DataSource, match: RegExp, action: () => Promise<void>): void {
  const runner = dataSource.createQueryRunner();
  const proto = Object.getPrototypeOf(runner) as QueryRunner;
  void runner.release();
  const original = proto.query;
  proto.query = async function (this: QueryRunner, sql: string, ...rest: unknown[]) {
    if (!match.test(sql)) return (original as (...a: unknown[]) => unknown).call(this, sql, ...rest);
    proto.query = original;
    await action();
    return (original as (...a: unknown[]) => unknown).call(this, sql, ...rest);
  } as QueryRunner['query'];
}
