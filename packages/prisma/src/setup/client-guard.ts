import { ConfigError } from '@fieldseal/core';
import { UnsupportedOperationError } from '../errors.js';
import type { EncryptionSchema } from './encryption-schema.js';

// Requests that went through a fieldEncryption extension. Prisma builds one params object per
// request and hands that same object to the engine, so identity marks it for exactly one request.
const approved = new WeakSet<object>();
const guarded = new WeakSet<object>();

/** Marks a request as having gone through the extension (its args encrypted, its result to be decrypted). */
export function approve(params: object): void {
  approved.add(params);
}

/** True when another fieldEncryption extension already handled this request: applied twice. */
export function isApproved(params: object): boolean {
  return approved.has(params);
}

interface ExecutingClient {
  _executeRequest?: (this: unknown, params: { model?: string; action?: string }) => Promise<unknown>;
  _request?: (this: { _extensions?: unknown }, params: Record<PropertyKey, unknown>) => Promise<unknown>;
  _createPrismaPromise?: unknown;
  _originalClient?: ExecutingClient;
}

/**
 * Where a request's parameters carry the extensions of the client it was sent through (the
 * outermost one, with result extensions applied after fieldseal too). Prisma copies the
 * request's own properties into the parameters every query extension receives.
 */
export const REQUEST_EXTENSIONS = Symbol('fieldseal.requestExtensions');

/**
 * Makes every request of the client (and of every client extended from it) carry its client's
 * extension list, so fieldseal can see which fields a result extension computes and from what.
 */
export function exposeExtensions(client: unknown): void {
  const base = (client as ExecutingClient)._originalClient ?? (client as ExecutingClient);
  const original = base._request;
  if (typeof original !== 'function' || exposing.has(base)) return;
  base._request = function requestWithExtensions(params) {
    if (params && typeof params === 'object') params[REQUEST_EXTENSIONS] = this._extensions;
    return original.call(this, params);
  };
  exposing.add(base);
}

const exposing = new WeakSet<object>();

/**
 * Makes the client that `fieldEncryption` was applied to refuse queries on encrypted models
 * that did not go through the extension. The common way to store plaintext by mistake is to
 * keep using the original client after `$extends` (which returns a new one); this turns that
 * mistake into an `UnsupportedOperationError('unprotected-client')` on the first query.
 */
export function guardClient(client: unknown, schema: EncryptionSchema): void {
  const target = client as ExecutingClient;
  // The internals this adapter relies on (see transaction-runner.ts); checked here so that a
  // Prisma version without them fails when the extension is applied, not on some later query.
  if (typeof target._executeRequest !== 'function' || typeof target._createPrismaPromise !== 'function') {
    throw new ConfigError(
      'client',
      'this Prisma Client version is not supported by @fieldseal/prisma (needs Prisma 7.10 or a later 7.x)',
    );
  }
  if (guarded.has(target)) return;
  const original = target._executeRequest;
  target._executeRequest = function guardedExecuteRequest(params) {
    if (!approved.has(params) && schema.model(params.model)?.touchesEncryption) {
      return Promise.reject(
        new UnsupportedOperationError(
          'unprotected-client',
          `${params.model}.${params.action} was sent through a PrismaClient without the fieldEncryption extension; use the client returned by $extends(fieldEncryption(...))`,
          { entity: params.model as string },
        ),
      );
    }
    return original.call(this, params);
  };
  guarded.add(target);
}
