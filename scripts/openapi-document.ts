/**
 * The OpenAPI document without a running system: the routers are built over a stand-in runtime
 * (their specs, not their handlers, make the document) and the document is what
 * GET /openapi.json serves. Used by `npm run docs` (docs/openapi.json and the typed client's
 * types) and by the tests that lint it.
 */
import { getConfig } from '../config';
import { buildRouters, openApiOf } from '../src/app';
import type { ApiRouter } from '../src/http/api-router';

/** Anything, for as deep as a router's construction reads it (nothing is called). */
const standIn: unknown = new Proxy(function standIn() {}, {
  get: (_t, key) => (key === 'then' ? undefined : standIn),
  apply: () => standIn,
});

/** The API's routers, built over the stand-in runtime (for their specs). */
export function standInRouters(): ApiRouter[] {
  const config = getConfig();
  const deps = new Proxy(standIn as object, {
    get: (_t, key) => (key === 'config' ? config : standIn),
  });
  return buildRouters(deps as never, standIn as never);
}

export function openApiDocument(): Record<string, unknown> {
  return openApiOf(standInRouters());
}
