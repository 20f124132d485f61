import type { Server } from 'node:http';
import { createApp } from './app';
import { waitReady } from './lib/redis';
import { onShutdown, openRuntime } from './runtime';

/** Web entry: config → connections → listen; SIGINT/SIGTERM stop accepting, finish, close. */
async function main(): Promise<void> {
  const rt = openRuntime('web');
  // Fail-fast Redis clients refuse commands until connected: be ready before the first request.
  await Promise.all([waitReady(rt.redis, 15_000), waitReady(rt.producer, 15_000)]);
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

main().catch((err) => {
  process.stderr.write(`web failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
