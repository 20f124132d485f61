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

export const mochaHooks = {
  async afterAll() {
    await closeShared();
  },
};
