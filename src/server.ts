import type { Server } from 'node:http';
import { getConfig } from '../config';
import { createApp } from './app';
import { runProcesses } from './lib/cluster';
import { waitReady } from './lib/redis';
import { assertSuperInvestor } from './modules/users/users.service';
import { onShutdown, openRuntime } from './runtime';

/**
 * Web entry: config → connections → listen; SIGINT/SIGTERM stop accepting, finish, close.
 * WEB_CONCURRENCY > 1: a cluster primary runs that many of these, sharing PORT.
 */
async function main(): Promise<void> {
  const rt = openRuntime('web');
  // Fail-fast Redis clients refuse commands until connected: be ready before the first request.
  await Promise.all([waitReady(rt.redis, 15_000), waitReady(rt.producer, 15_000)]);
  await assertSuperInvestor(rt.config);
  const { app } = createApp(rt);
  const server: Server = app.listen(rt.config.port, () => {
    rt.logger.info({ port: rt.config.port }, `web listening on http://127.0.0.1:${rt.config.port}`);
  });
  server.keepAliveTimeout = 5_000;
  onShutdown(rt.logger, async () => {
    // Stop accepting, let in-flight requests finish, drop idle keep-alive sockets.
    const closed = new Promise<void>((resolve, reject) =>
      server.close((err) => (err ? reject(err) : resolve())),
    );
    server.closeIdleConnections();
    await closed;
    await rt.close();
  });
}

const config = getConfig();
runProcesses({ name: 'web', count: config.webConcurrency, config, main });
