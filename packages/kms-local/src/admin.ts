import type { IncomingMessage, ServerResponse } from 'node:http';
import { KmsLocalConfigError } from './config-error.js';
import type { Faults } from './faults.js';
import { sendJson } from './http-io.js';
import type { StatsCounter } from './stats.js';

/** Path prefix of the admin API, served on the same port as KMS. */
export const ADMIN_PREFIX = '/__admin/';

/**
 * The admin API, for benchmarks and reliability tests:
 * - `GET /__admin/health` → `{ ok: true }`
 * - `GET /__admin/stats` → calls per operation (see `KmsServerStats`)
 * - `GET /__admin/faults` → current fault settings
 * - `POST /__admin/faults` with a partial `FaultSettings` JSON → the new settings
 * - `POST /__admin/reset` → zero the counters and clear every fault
 */
export function handleAdmin(
  request: IncomingMessage,
  response: ServerResponse,
  body: Buffer,
  faults: Faults,
  stats: StatsCounter,
): void {
  const [status, payload] = route(
    `${request.method} ${(request.url ?? '').split('?')[0]}`,
    body,
    faults,
    stats,
  );
  sendJson(response, status, payload);
}

function route(route: string, body: Buffer, faults: Faults, stats: StatsCounter): [number, unknown] {
  try {
    switch (route) {
      case 'GET /__admin/health':
        return [200, { ok: true }];
      case 'GET /__admin/stats':
        return [200, stats.snapshot()];
      case 'GET /__admin/faults':
        return [200, faults.settings];
      case 'POST /__admin/faults':
        return [200, faults.update(parse(body))];
      case 'POST /__admin/reset':
        stats.reset();
        faults.reset();
        return [200, { ok: true }];
      default:
        return [404, { error: `No admin route ${route}` }];
    }
  } catch (error) {
    if (error instanceof KmsLocalConfigError) return [400, { error: error.message }];
    throw error;
  }
}

function parse(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8') || '{}');
  } catch {
    throw new KmsLocalConfigError('faults', 'the request body must be JSON');
  }
}
