import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ADMIN_PREFIX, handleAdmin } from './admin.js';
import { ALIAS_OPERATIONS } from './alias-operations.js';
import { KmsLocalConfigError } from './config-error.js';
import { CRYPTO_OPERATIONS } from './crypto-operations.js';
import { type FaultSettings, Faults } from './faults.js';
import { readBody, sendJson, sleep } from './http-io.js';
import { KEY_OPERATIONS } from './key-operations.js';
import { KeyStore } from './key-store.js';
import { KmsError } from './kms-error.js';
import { CRYPTOGRAPHIC_OPERATIONS, type Operation } from './operation.js';
import { checkPolicy, type KmsPolicy } from './policy.js';
import { authorize } from './policy-check.js';
import type { RequestBody } from './request-fields.js';
import { isLoopback, RequestGuard } from './request-guard.js';
import { applySeed, type KmsSeed, readSeedFile } from './seed.js';
import { loadState, saveState } from './state-file.js';
import { type KmsServerStats, type Outcome, StatsCounter } from './stats.js';

/** Options of {@link startKmsServer}. */
export interface KmsServerOptions {
  /** TCP port; 0 picks a free one (read it from `endpoint`). Defaults to 0. */
  readonly port?: number;
  /** Address to bind. Defaults to `127.0.0.1`; any other address prints a warning. */
  readonly host?: string;
  /**
   * The secret that admits a request from another machine, and any admin API request:
   * `Authorization: Bearer <token>`, or the AWS SDK's `accessKeyId` (as in `clientConfig`).
   * Requests from this machine without it are served only with a loopback or allowed `Host`
   * and no foreign `Origin`. Defaults to a random token (read it from `KmsServer.token`).
   */
  readonly token?: string;
  /** Host names besides localhost/127.0.0.1/[::1] accepted in `Host` and `Origin` without the token. Defaults to none. */
  readonly allowedHosts?: readonly string[];
  /**
   * An IAM identity policy applied to every cryptographic request (`kms:EncryptionContext:*`
   * conditions; see `KmsPolicy`): denied requests get `AccessDeniedException`. Defaults to none
   * (everything allowed).
   */
  readonly policy?: KmsPolicy;
  /** Region written into key ARNs. Defaults to `us-east-1`. */
  readonly region?: string;
  /** JSON file keys and aliases persist to (created with mode 0600). In memory when absent. */
  readonly dataFile?: string;
  /** JSON seed file of keys and aliases to pre-create (see `KmsSeed`). */
  readonly seedFile?: string;
  /** The same as `seedFile`, given inline; applied after it. */
  readonly seed?: KmsSeed;
  /** Initial fault settings (latency, jitter, rate limit, failNext). All default to off. */
  readonly faults?: Partial<FaultSettings>;
  /**
   * Clock in epoch milliseconds, for tests of deletion windows, automatic rotation and the rate
   * limit's refill. Defaults to `Date.now`.
   */
  readonly now?: () => number;
  /** Where warnings go. Defaults to `console.warn`. */
  readonly warn?: (message: string) => void;
}

/** A running server. */
export interface KmsServer {
  /** `http://host:port`, ready for `new KMSClient({ endpoint })`. */
  readonly endpoint: string;
  /** The port actually bound (useful with `port: 0`). */
  readonly port: number;
  /** The region in this server's ARNs. */
  readonly region: string;
  /** The token that admits admin and remote requests (see `KmsServerOptions.token`). */
  readonly token: string;
  /**
   * Ready-made `KMSClient` settings: endpoint, region and credentials whose access key id is
   * the server's token (signatures are not checked). `new KMSClient(server.clientConfig)`. A
   * new object on every read.
   */
  readonly clientConfig: {
    readonly endpoint: string;
    readonly region: string;
    readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  };
  /** Calls per operation since start or the last reset. */
  stats(): KmsServerStats;
  /** Current fault settings. */
  faults(): FaultSettings;
  /** Changes some fault settings and returns all of them; throws `KmsLocalConfigError` on bad values. */
  setFaults(update: Partial<FaultSettings>): FaultSettings;
  /** Zeroes the counters and clears every fault. Keys are kept. */
  reset(): void;
  /** Stops listening and drops open connections. Calling it again returns the same promise. */
  close(): Promise<void>;
}

const OPERATIONS: Readonly<Record<string, Operation>> = {
  ...KEY_OPERATIONS,
  ...ALIAS_OPERATIONS,
  ...CRYPTO_OPERATIONS,
};

const JSON_11 = 'application/x-amz-json-1.1';

/** Printed on every start: nobody should mistake this server for a KMS. */
export const BANNER =
  'kms-local: NOT FOR PRODUCTION. A local imitation of AWS KMS for development and tests: key material is stored unprotected.';

/**
 * Starts a server speaking the AWS KMS JSON 1.1 protocol (`X-Amz-Target: TrentService.<Op>`)
 * for symmetric keys. For development and tests only: key material is not protected at rest.
 *
 * @example
 * const kms = await startKmsServer({ port: 0 });
 * const client = new KMSClient({ endpoint: kms.endpoint, region: kms.region,
 *   credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
 * // …
 * await kms.close();
 */
export async function startKmsServer(options: KmsServerOptions = {}): Promise<KmsServer> {
  const host = options.host ?? '127.0.0.1';
  const region = options.region ?? 'us-east-1';
  const warn = options.warn ?? ((message: string) => console.warn(message));
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new KmsLocalConfigError('port', 'must be 0–65535');
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region))
    throw new KmsLocalConfigError('region', `"${region}" is not a region name`);
  const token = options.token ?? randomBytes(24).toString('base64url');
  if (!/^[\w.~-]{16,}$/.test(token))
    throw new KmsLocalConfigError('token', 'must be at least 16 characters of A-Z a-z 0-9 _ . ~ -');
  const policy = options.policy === undefined ? undefined : checkPolicy(options.policy);
  // The bound address itself (0.0.0.0 included: `endpoint` names it) is a Host this server answers to.
  const bound = isLoopback(host) ? [] : [host];
  const guard = new RequestGuard(token, [...bound, ...(options.allowedHosts ?? [])]);

  const dataFile = options.dataFile;
  const store = new KeyStore(
    {
      region,
      now: options.now ?? Date.now,
      ...(dataFile === undefined ? {} : { onChange: (snapshot) => saveState(dataFile, snapshot) }),
    },
    dataFile === undefined ? undefined : loadState(dataFile),
  );
  if (options.seedFile !== undefined) applySeed(store, readSeedFile(options.seedFile));
  if (options.seed !== undefined) applySeed(store, options.seed);
  if (dataFile !== undefined) saveState(dataFile, store.snapshot());

  const faults = new Faults(options.now ?? Date.now);
  if (options.faults) faults.update(options.faults);
  const stats = new StatsCounter();

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      warn(`kms-local: internal error: ${(error as Error).stack ?? String(error)}`);
      if (!response.headersSent)
        sendJson(response, 500, { __type: 'KMSInternalException', message: 'Internal error' });
      else response.destroy();
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    if (body === undefined)
      return sendJson(response, 413, { __type: 'ValidationException', message: 'Request too large' });
    const admin = request.url?.startsWith(ADMIN_PREFIX) === true;
    const refusal = guard.check(request, admin);
    if (refusal) {
      return admin
        ? sendJson(response, refusal.status, { error: refusal.message })
        : sendJson(response, refusal.status, { __type: refusal.type, message: refusal.message }, {}, JSON_11);
    }
    if (admin) return handleAdmin(request, response, body, faults, stats);
    if (request.method === 'GET' && request.url === '/') {
      return sendJson(response, 200, { service: 'fieldseal-kms-local', region, protocol: 'awsJson1_1' });
    }
    const target = /^TrentService\.(\w+)$/.exec(String(request.headers['x-amz-target'] ?? ''));
    const name = target?.[1] ?? 'Unknown';
    const requestId = randomUUID();
    const reply = (
      outcome: Outcome,
      status: number,
      payload: unknown,
      headers: Record<string, string> = {},
    ) => {
      stats.record(name, outcome);
      sendJson(response, status, payload, { 'x-amzn-requestid': requestId, ...headers }, JSON_11);
    };
    const fail = (error: KmsError, outcome: Outcome = 'error') =>
      reply(outcome, error.status, error.toJSON(), { 'x-amzn-errortype': error.type });

    const operation = target && request.method === 'POST' ? OPERATIONS[name] : undefined;
    if (!operation) return fail(new KmsError('UnknownOperationException', `Unknown operation ${name}`));
    await sleep(faults.delay());
    const injected = faults.takeFailure(name);
    if (injected) return fail(injected, 'injected');
    if (CRYPTOGRAPHIC_OPERATIONS.has(name) && !faults.admit()) {
      const message =
        'You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls.';
      return fail(new KmsError('ThrottlingException', message), 'throttled');
    }
    let parsed: RequestBody;
    try {
      const value: unknown = JSON.parse(body.toString('utf8') || '{}');
      if (value === null || typeof value !== 'object' || Array.isArray(value))
        throw new Error('not an object');
      parsed = value as RequestBody;
    } catch {
      return fail(new KmsError('SerializationException', 'The request body is not a JSON object.'));
    }
    try {
      if (policy && CRYPTOGRAPHIC_OPERATIONS.has(name)) authorize(policy, store, name, parsed);
      reply('ok', 200, operation(store, parsed));
    } catch (error) {
      if (error instanceof KmsError) return fail(error);
      throw error;
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  warn(BANNER);
  if (!isLoopback(host)) {
    warn(
      `WARNING: kms-local is listening on ${host}, reachable from other machines. Anyone who has its token can use ` +
        'its keys, and its key material is not protected at rest. It is for development and tests only.',
    );
  }
  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  const endpoint = `http://${urlHost}:${address.port}`;
  let closing: Promise<void> | undefined;
  return {
    endpoint,
    port: address.port,
    region,
    token,
    // A fresh object each time: the SDK writes into the credentials object it is given.
    get clientConfig() {
      return { endpoint, region, credentials: { accessKeyId: token, secretAccessKey: 'kms-local' } };
    },
    stats: () => stats.snapshot(),
    faults: () => faults.settings,
    setFaults: (update) => faults.update(update),
    reset: () => {
      stats.reset();
      faults.reset();
    },
    close: () => {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
