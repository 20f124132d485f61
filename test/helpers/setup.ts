/**
 * Loaded by mocha before any test (see .mocharc.json): points the process at the test
 * database and Redis database unless `npm test` already did; after the run, closes shared
 * connections and, when the run used the database, fails it unless the ledger still balances.
 */
process.env.NODE_ENV = 'test';
process.env.DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/p2p_test';
process.env.REDIS_URL ??= 'redis://127.0.0.1:6379/15';
process.env.LOG_LEVEL ??= 'silent';

import { closeShared } from './context';
import { checkFetched } from './contract';

// Every response of an app under test is checked against the OpenAPI document (issue 15): a
// response the document does not describe fails the test that fetched it.
const realFetch = globalThis.fetch;
globalThis.fetch = async (input: string | URL | Request, init?: RequestInit) => {
  const res = await realFetch(input, init);
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
  await checkFetched(method, url, res);
  return res;
};

export const mochaHooks = {
  async afterAll() {
    await closeShared();
  },
};
