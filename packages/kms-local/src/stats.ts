/** How a request ended. */
export type Outcome = 'ok' | 'error' | 'throttled' | 'injected';

/** Calls per operation since start or the last reset. */
export interface KmsServerStats {
  /** Every KMS request received, by operation (including throttled and failed ones). */
  readonly requests: Readonly<Record<string, number>>;
  /** Requests answered with a KMS error (any cause), by operation. */
  readonly errors: Readonly<Record<string, number>>;
  /** Requests refused by the rate limit, by operation. */
  readonly throttled: Readonly<Record<string, number>>;
  /** Requests failed by `failNext`, by operation. */
  readonly injectedFailures: Readonly<Record<string, number>>;
  /** Sum of `requests`. */
  readonly total: number;
}

/** Counts requests per operation and outcome. */
export class StatsCounter {
  private requests: Record<string, number> = {};
  private errors: Record<string, number> = {};
  private throttled: Record<string, number> = {};
  private injected: Record<string, number> = {};

  record(operation: string, outcome: Outcome): void {
    bump(this.requests, operation);
    if (outcome !== 'ok') bump(this.errors, operation);
    if (outcome === 'throttled') bump(this.throttled, operation);
    if (outcome === 'injected') bump(this.injected, operation);
  }

  snapshot(): KmsServerStats {
    return {
      requests: { ...this.requests },
      errors: { ...this.errors },
      throttled: { ...this.throttled },
      injectedFailures: { ...this.injected },
      total: Object.values(this.requests).reduce((sum, n) => sum + n, 0),
    };
  }

  reset(): void {
    this.requests = {};
    this.errors = {};
    this.throttled = {};
    this.injected = {};
  }
}

function bump(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}
