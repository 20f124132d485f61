import { randomUUID } from 'node:crypto';
import net, { type AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Sequelize } from 'sequelize-typescript';
import { getConfig, type Config } from '../../config';
import { createApp } from '../../src/app';
import type { ApiRouter } from '../../src/http/api-router';
import { createSequelize } from '../../src/lib/db';
import { waitReady } from '../../src/lib/redis';
import { createLogger, type Logger } from '../../src/lib/logger';
import { setOutboxKick } from '../../src/modules/outbox/outbox.service';
import { unwatchApp, watchApp } from './contract';
import { openRuntime, type Runtime } from '../../src/runtime';
import { checkLedger } from '../../src/modules/ledger/ledger.service';
import { expect } from 'chai';

let sequelize: Sequelize | undefined;
const runtimes: Runtime[] = [];

/** The one Sequelize instance of the test process (models bind to a single instance). */
export function testDb(): Sequelize {
  sequelize ??= createSequelize(getConfig().databaseUrl, { poolMax: 20 });
  return sequelize;
}

export const silentLogger: Logger = createLogger({
  name: 'test',
  level: (process.env.TEST_LOG_LEVEL as 'silent') ?? 'silent',
});

/**
 * A runtime for one test file: the shared database, its own Redis connections and its own
 * queue prefix, so that files never see each other's jobs.
 */
export function testRuntime(file: string, overrides: Partial<Config> = {}): Runtime {
  const base = getConfig();
  const config = Object.freeze({
    ...base,
    queuePrefix: `t-${file}-${randomUUID().slice(0, 8)}`,
    // Tests speak through X-Forwarded-For to stand for many clients.
    trustProxy: true,
    // Tests that move the clock by months keep their sessions (makeInvestor's last a year); the
    // absolute age limit is tested under its own setting (security.test.ts).
    auth: { ...base.auth, sessionMaxAgeSeconds: 400 * 86_400 },
    ...overrides,
  });
  const rt = openRuntime(`test-${file}`, { config, logger: silentLogger, sequelize: testDb() });
  runtimes.push(rt);
  return rt;
}

/** The configuration tests start from (for partial overrides of nested settings). */
testRuntime.defaults = (): Readonly<Config> => getConfig();

/** Starts the Koa app of a runtime on a free port; returns its base URL and a closer. */
export async function startApp(
  rt: Runtime,
  extraRouters: ApiRouter[] = [],
  port = 0,
): Promise<{ url: string; routers: ApiRouter[]; close: () => Promise<void> }> {
  await Promise.all([waitReady(rt.redis), waitReady(rt.producer)]).catch(() => undefined);
  // One process holds many test runtimes: outbox rows written now go to this one's queues.
  setOutboxKick(rt.relay.kick);
  const { app, routers } = createApp(rt, { extraRouters });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(port, '127.0.0.1', () => resolve(s));
  });
  const bound = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${bound}`;
  watchApp(
    url,
    extraRouters.flatMap((r) => r.specs.map((s) => s.path)),
  );
  return {
    url,
    routers,
    close: () =>
      new Promise<void>((resolve) => {
        unwatchApp(url);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * The root afterAll hook's work: closes every runtime (no job left posting), then, when this
 * run touched the database, checks that whatever the suite did to money the ledger still
 * balances (trial balance zero, every cached balance equal to its entries), then closes it.
 */
export async function closeShared(): Promise<void> {
  for (const rt of runtimes.splice(0)) {
    if (rt.producer.status === 'ready') {
      for (const q of rt.queues.values())
        await q.obliterate({ force: true }).catch(() => undefined);
    }
    await rt.close();
  }
  if (!sequelize) return;
  try {
    const check = await checkLedger();
    expect(check.mismatches, 'cached balances that differ from their entries').to.deep.equal([]);
    expect(check.unbalancedTransactions, 'unbalanced transactions').to.deep.equal([]);
    expect(check.trialBalance, 'trial balance').to.equal(0n);
    expect(check.cachedTotal, 'sum of cached balances').to.equal(0n);
  } finally {
    await sequelize.close();
    sequelize = undefined;
  }
}

/** A new investor user id (the ledger's investor accounts reference users). */
export async function createInvestor(): Promise<string> {
  const [rows] = (await testDb().query(
    `INSERT INTO users (role) VALUES ('investor') RETURNING id`,
  )) as [{ id: string }[], unknown];
  return String(rows[0].id);
}

/** A TCP port free right now on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
