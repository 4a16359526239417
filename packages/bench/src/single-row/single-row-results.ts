import type { Dialect, Orm, SingleRowOp, Variant } from './single-row-case.js';

/** Latency and statements of one op of one case. */
export interface OpResult {
  /** Median latency, microseconds. */
  readonly p50Us: number;
  /** 99th percentile latency, microseconds. */
  readonly p99Us: number;
  readonly samples: number;
  /**
   * Median CPU time of this process per op, microseconds (`process.cpuUsage`, user + system):
   * the ORM's, the adapter's and the driver's work, without the database server's and without
   * the time other processes held the CPU, so it stays comparable on a loaded machine.
   */
  readonly cpuUs: number;
  /** SQL statements the op issued (counted at the driver; `BEGIN`/`COMMIT` included). */
  readonly statements: number;
  /**
   * Calls into the driver: round trips to PostgreSQL (node-postgres sends one query per round
   * trip); calls into the in-process library for SQLite.
   */
  readonly roundTrips: number;
  /** The statements of one op, as sent (shortened), in order. */
  readonly sql: readonly string[];
}

/** One case's figures. */
export interface SingleRowResult {
  readonly dialect: Dialect;
  readonly orm: Orm;
  readonly variant: Variant;
  readonly label: string;
  /** By op; an op the case cannot do (a peer without lookups by value) is absent. */
  readonly ops: Partial<Record<SingleRowOp, OpResult>>;
}

/** Options of a single-row run (defaults in `runSingleRow`). */
export interface SingleRowOptions {
  /** Defaults to `['postgres', 'sqlite']`. */
  readonly dialects?: readonly Dialect[];
  /** Defaults to `['typeorm', 'prisma']`. */
  readonly orms?: readonly Orm[];
  /** Iterations (each runs every op once) per case per round. Defaults to 100. */
  readonly iterations?: number;
  /** Measured rounds, after one warm-up round; cases interleaved within each. Defaults to 5. */
  readonly rounds?: number;
  /** Server for the PostgreSQL cases. Defaults to `FIELDSEAL_PG_URL` or the local server. */
  readonly pgUrl?: string;
  /** Called as each case finishes a round. */
  readonly onProgress?: (message: string) => void;
}

/** Everything a single-row run measured, as written to `single-row.json`. */
export interface SingleRowReport {
  readonly kind: 'single-row';
  readonly date: string;
  readonly environment: {
    readonly node: string;
    readonly cpus: number;
    readonly platform: string;
    readonly loadAverage: readonly number[];
  };
  readonly options: {
    readonly dialects: readonly Dialect[];
    readonly orms: readonly Orm[];
    readonly iterations: number;
    readonly rounds: number;
    readonly keyring: string;
  };
  readonly results: readonly SingleRowResult[];
}

/** The plain-ORM result a case is compared with (same ORM and dialect). */
export function plainOf(report: SingleRowReport, result: SingleRowResult): SingleRowResult | undefined {
  return report.results.find(
    (r) => r.dialect === result.dialect && r.orm === result.orm && r.variant === 'plain',
  );
}

/** p50 of `result`'s op over the plain ORM's p50 of the same op, or undefined. */
export function ratioToPlain(
  report: SingleRowReport,
  result: SingleRowResult,
  op: SingleRowOp,
): number | undefined {
  const mine = result.ops[op]?.p50Us;
  const plain = plainOf(report, result)?.ops[op]?.p50Us;
  return mine === undefined || plain === undefined || plain === 0 ? undefined : mine / plain;
}
