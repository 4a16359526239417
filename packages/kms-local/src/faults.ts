import { KmsLocalConfigError } from './config-error.js';
import { KmsError } from './kms-error.js';

/** Make the next `count` KMS requests fail with `errorType`. */
export interface FailNext {
  /** How many requests fail. */
  readonly count: number;
  /** The AWS exception answered. Defaults to `KMSInternalException` (status 500, retried by the SDK). */
  readonly errorType?: string;
  /** Only requests to these operations fail (and count down). Defaults to every operation. */
  readonly operations?: readonly string[];
}

/** Fault and load knobs; every field is optional in updates and keeps its value when absent. */
export interface FaultSettings {
  /** Added to every KMS request, in milliseconds. Defaults to 0. */
  readonly latencyMs: number;
  /** Up to this many more milliseconds, uniformly random, per request. Defaults to 0. */
  readonly jitterMs: number;
  /**
   * Cryptographic requests per second (Encrypt, Decrypt, ReEncrypt, GenerateDataKey*), like
   * KMS's shared quota; over it the server answers `ThrottlingException`. Bursts of up to one
   * second's worth pass. 0 means unlimited. Defaults to 0.
   */
  readonly rateLimit: number;
  /** Pending injected failures, or `null` when none. */
  readonly failNext: FailNext | null;
}

const DEFAULTS: FaultSettings = Object.freeze({ latencyMs: 0, jitterMs: 0, rateLimit: 0, failNext: null });

function nonNegative(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new KmsLocalConfigError(option, 'must be a finite number >= 0');
  }
  return value;
}

function checkFailNext(value: unknown): FailNext | null {
  if (value === null) return null;
  if (typeof value !== 'object')
    throw new KmsLocalConfigError('failNext', 'must be { count, errorType?, operations? } or null');
  const { count, errorType, operations } = value as Record<string, unknown>;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) {
    throw new KmsLocalConfigError('failNext.count', 'must be an integer >= 0');
  }
  if (errorType !== undefined && (typeof errorType !== 'string' || !/^\w+$/.test(errorType))) {
    throw new KmsLocalConfigError(
      'failNext.errorType',
      'must be an exception name such as ThrottlingException',
    );
  }
  if (
    operations !== undefined &&
    (!Array.isArray(operations) || !operations.every((op) => typeof op === 'string'))
  ) {
    throw new KmsLocalConfigError('failNext.operations', 'must be an array of operation names');
  }
  if (count === 0) return null;
  return Object.freeze({
    count,
    ...(errorType === undefined ? {} : { errorType }),
    ...(operations === undefined ? {} : { operations: Object.freeze([...operations]) }),
  });
}

/** Validates a partial update of the fault settings. */
export function checkFaultSettings(update: unknown): Partial<FaultSettings> {
  if (update === null || typeof update !== 'object' || Array.isArray(update)) {
    throw new KmsLocalConfigError('faults', 'must be an object');
  }
  const input = update as Record<string, unknown>;
  const out: { -readonly [K in keyof FaultSettings]?: FaultSettings[K] } = {};
  if (input.latencyMs !== undefined) out.latencyMs = nonNegative('latencyMs', input.latencyMs);
  if (input.jitterMs !== undefined) out.jitterMs = nonNegative('jitterMs', input.jitterMs);
  if (input.rateLimit !== undefined) out.rateLimit = nonNegative('rateLimit', input.rateLimit);
  if (input.failNext !== undefined) out.failNext = checkFailNext(input.failNext);
  return out;
}

/** The live fault state of one server: latency, a token bucket, and pending failures. */
export class Faults {
  private current: FaultSettings = DEFAULTS;
  private tokens = 0;
  private refilledAt = 0;

  constructor(private readonly now: () => number = Date.now) {}

  get settings(): FaultSettings {
    return this.current;
  }

  /** Applies a (validated) partial update; returns the new settings. */
  update(update: unknown): FaultSettings {
    const checked = checkFaultSettings(update);
    this.current = Object.freeze({ ...this.current, ...checked });
    if (checked.rateLimit !== undefined) {
      this.tokens = checked.rateLimit;
      this.refilledAt = this.now();
    }
    return this.current;
  }

  reset(): FaultSettings {
    this.current = DEFAULTS;
    return this.current;
  }

  /** Milliseconds to wait before answering. */
  delay(): number {
    const { latencyMs, jitterMs } = this.current;
    return latencyMs + (jitterMs > 0 ? Math.random() * jitterMs : 0);
  }

  /** Takes a token from the bucket; false when the rate limit is exceeded. */
  admit(): boolean {
    const rate = this.current.rateLimit;
    if (rate === 0) return true;
    const now = this.now();
    this.tokens = Math.min(rate, this.tokens + ((now - this.refilledAt) * rate) / 1000);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** The injected failure for this request, if one is pending for `operation`. */
  takeFailure(operation: string): KmsError | undefined {
    const pending = this.current.failNext;
    if (!pending || (pending.operations && !pending.operations.includes(operation))) return undefined;
    const rest = pending.count - 1;
    this.current = Object.freeze({
      ...this.current,
      failNext: rest > 0 ? { ...pending, count: rest } : null,
    });
    const type = pending.errorType ?? 'KMSInternalException';
    return new KmsError(type, `Injected failure (${type}) from kms-local's failNext setting.`);
  }
}
