/**
 * The API's typed client, as a client team would make it: types generated from
 * docs/openapi.json by openapi-typescript (./schema.ts, `npm run docs`), requests by
 * openapi-fetch. A route, field or status that changes in the document changes these types,
 * and whatever uses them stops compiling.
 */
import createClient from 'openapi-fetch';
import type { paths } from './schema';

export type { paths } from './schema';

/** A client for one base URL, with the investor's or admin's token when given. */
export function typedClient(baseUrl: string, token?: string) {
  return createClient<paths>({
    baseUrl,
    headers: token ? { Authorization: `Bearer ${token}` } : {},
  });
}
