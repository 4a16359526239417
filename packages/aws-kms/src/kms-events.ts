import type { KmsCall } from './kms-errors.js';

/**
 * One thing the keyring saw KMS do; delivered to `onEvent`. Shaped like `CacheEvent` of
 * `@fieldseal/cache` (a `type` tag, `durationMs`, `ok`), so one listener can take both. Never
 * carries key bytes or plaintext.
 */
export type KmsEvent =
  | {
      /** One keyring-level KMS call, after the SDK's retries. */
      readonly type: 'kms-call';
      readonly operation: KmsCall;
      /** The key named in the call (as configured; the ARN only when configured so). */
      readonly keyId: string;
      /** Wall time of the call, retries and their back-off included, in milliseconds. */
      readonly durationMs: number;
      readonly ok: boolean;
      /** The AWS exception name (e.g. `ThrottlingException`) or network code; only when `ok` is false. */
      readonly errorCode?: string;
      /** HTTP attempts the SDK made (1 when it did not retry). */
      readonly attempts: number;
    }
  | {
      /** One attempt answered with throttling (`ThrottlingException` and kin), retried or not. */
      readonly type: 'throttle';
      readonly operation: KmsCall;
      readonly keyId: string;
      /** Which attempt of the call was throttled, from 1. */
      readonly attempt: number;
    }
  | {
      /** The SDK is about to make attempt `attempt` (2 or more) after `errorCode`. */
      readonly type: 'retry';
      readonly operation: KmsCall;
      readonly keyId: string;
      readonly attempt: number;
      readonly errorCode: string;
    };

/** Counters since the keyring was made; see {@link AwsKmsKeyring.stats}. */
export interface KmsStats {
  /** Keyring-level calls per operation (retries inside the SDK count once). */
  readonly calls: Readonly<Record<KmsCall, number>>;
  /** Calls that failed after the SDK's retries. */
  readonly errors: number;
  /** Throttled attempts (each retry that was throttled again counts). */
  readonly throttles: number;
  /** Retries the SDK made. */
  readonly retries: number;
  /** Sum of `durationMs` over every call, in milliseconds. */
  readonly totalDurationMs: number;
}

const THROTTLING = new Set(['ThrottlingException', 'LimitExceededException', 'TooManyRequestsException']);

/** True for the exception names KMS (and the SDK) use for a refused request rate. */
export function isThrottling(errorCode: string): boolean {
  return THROTTLING.has(errorCode);
}

/** The AWS exception name or network code of an SDK error; `Error` when it has neither. */
export function errorCodeOf(error: unknown): string {
  const e = (error ?? {}) as { readonly name?: unknown; readonly code?: unknown };
  if (typeof e.code === 'string' && /^E[A-Z_]+$/.test(e.code)) return e.code;
  return typeof e.name === 'string' && e.name !== '' ? e.name : 'Error';
}

/** Mutable counters behind {@link KmsStats}. */
export class KmsStatsCounter {
  readonly calls: Record<KmsCall, number> = { GenerateDataKey: 0, Decrypt: 0, ReEncrypt: 0 };
  errors = 0;
  throttles = 0;
  retries = 0;
  totalDurationMs = 0;

  record(event: KmsEvent): void {
    if (event.type === 'kms-call') {
      this.calls[event.operation]++;
      this.totalDurationMs += event.durationMs;
      if (!event.ok) this.errors++;
    } else if (event.type === 'throttle') this.throttles++;
    else this.retries++;
  }

  snapshot(): KmsStats {
    return {
      calls: { ...this.calls },
      errors: this.errors,
      throttles: this.throttles,
      retries: this.retries,
      totalDurationMs: this.totalDurationMs,
    };
  }
}
