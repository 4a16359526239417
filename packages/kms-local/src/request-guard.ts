import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** Why a request was refused before it reached an operation. */
export interface Refusal {
  /** 401 (no or wrong token) or 403 (foreign Host or Origin). */
  readonly status: 401 | 403;
  /** The AWS exception name the KMS API answers with. */
  readonly type: 'UnrecognizedClientException' | 'AccessDeniedException';
  readonly message: string;
}

/** True for addresses only this machine can reach (IPv4-mapped IPv6 included). */
export function isLoopback(host: string | undefined): boolean {
  if (host === undefined) return false;
  const bare = host.replace(/^\[|\]$/g, '').replace(/^::ffff:/i, '');
  return bare === 'localhost' || bare === '::1' || /^127\.\d+\.\d+\.\d+$/.test(bare);
}

/** The host name of a `Host` header (`name:port`, `[v6]:port`), lower-cased. */
function hostName(header: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(header);
  if (bracketed) return (bracketed[1] as string).toLowerCase();
  return header.replace(/:\d+$/, '').toLowerCase();
}

/**
 * The token of a request: `Authorization: Bearer <token>` (curl, the admin API) or, for AWS SDK
 * clients, the access key id of their SigV4 `Authorization` header (`credentials.accessKeyId`).
 * The SigV4 signature itself is not checked.
 */
function tokenOf(request: IncomingMessage): string | undefined {
  const header = request.headers.authorization ?? '';
  return (
    /^Bearer\s+(\S+)$/i.exec(header)?.[1] ?? /^AWS4-HMAC-SHA256\s+Credential=([^/,\s]+)\//i.exec(header)?.[1]
  );
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Who may use a kms-local server. A request with the server's token passes. Without it, a request
 * passes only when it comes from this machine (loopback), names an allowed `Host`, carries no
 * foreign `Origin`, and is not for the admin API. That refuses DNS rebinding (a page whose name
 * resolves to 127.0.0.1 sends its own name as Host and Origin) and cross-site browser requests,
 * which cannot add an `Authorization` header without a CORS preflight this server never grants.
 */
export class RequestGuard {
  readonly #token: string;
  readonly #hosts: ReadonlySet<string>;

  constructor(token: string, allowedHosts: readonly string[]) {
    this.#token = token;
    this.#hosts = new Set(allowedHosts.map((h) => h.toLowerCase()));
  }

  #allowedHost(name: string): boolean {
    return isLoopback(name) || this.#hosts.has(name);
  }

  /** `undefined` when the request may proceed. */
  check(request: IncomingMessage, admin: boolean): Refusal | undefined {
    const origin = request.headers.origin;
    if (origin !== undefined && !this.#allowedOrigin(origin)) {
      return {
        status: 403,
        type: 'AccessDeniedException',
        message: `kms-local refuses requests from web pages (Origin ${JSON.stringify(origin)}).`,
      };
    }
    const token = tokenOf(request);
    if (token !== undefined && same(token, this.#token)) return undefined;
    if (admin || !isLoopback(request.socket.remoteAddress)) {
      return {
        status: 401,
        type: 'UnrecognizedClientException',
        message: `kms-local needs its token for ${admin ? 'the admin API' : 'requests from other machines'}: send "Authorization: Bearer <token>", or use the token as the SDK's accessKeyId.`,
      };
    }
    const host = request.headers.host;
    if (host === undefined || !this.#allowedHost(hostName(host))) {
      return {
        status: 403,
        type: 'AccessDeniedException',
        message: `kms-local does not answer to Host ${JSON.stringify(host ?? '')} (DNS rebinding?). Use 127.0.0.1 or localhost, list the name with --allowed-host, or send the token.`,
      };
    }
    return undefined;
  }

  #allowedOrigin(origin: string): boolean {
    try {
      return this.#allowedHost(new URL(origin).hostname.replace(/^\[|\]$/g, '').toLowerCase());
    } catch {
      return false; // "null" (sandboxed pages, file://) and anything unparsable
    }
  }
}
