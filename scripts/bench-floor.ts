/**
 * What the fixed stack costs on its own, measured beside the purchase figures (scripts/bench.ts)
 * so that a reader can tell the pipeline's overhead from the framework's:
 *   - a bare Koa route doing one INSERT, driven over keep-alive HTTP at the purchase
 *     concurrency (the driver in this same process, as the bench's own driver is);
 *   - BullMQ jobs that do nothing: how many one worker (concurrency 8) completes per second and
 *     the Node CPU each costs.
 * Neither touches the product's tables or queues (a scratch table, its own queue prefix).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Queue, Worker } from 'bullmq';
import Koa from 'koa';
import type { Pool } from 'pg';
import { createRedis } from '../src/lib/redis';

export interface FloorResult {
  koaInsert: { rate: number; p50: number; p99: number };
  bullmq: { rate: number; cpuMsPerJob: number };
}

const seconds = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e9;

export async function benchFloor(opts: {
  raw: Pool;
  redisUrl: string;
  concurrency: number;
  requests: number;
}): Promise<FloorResult> {
  const { raw, concurrency, requests } = opts;

  await raw.query('CREATE TABLE IF NOT EXISTS bench_floor (id bigserial PRIMARY KEY, v bigint)');
  const app = new Koa();
  app.use(async (ctx) => {
    const { rows } = await raw.query<{ id: string }>(
      'INSERT INTO bench_floor (v) VALUES (100000) RETURNING id',
    );
    ctx.status = 202;
    ctx.body = { id: rows[0].id };
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address() as AddressInfo;
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const post = () =>
    new Promise<number>((resolve, reject) => {
      const t0 = process.hrtime.bigint();
      const req = http.request(`http://127.0.0.1:${port}/`, { method: 'POST', agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(seconds(t0) * 1000));
      });
      req.on('error', reject);
      req.end('{}');
    });
  const ms: number[] = [];
  let next = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < requests) ms.push(await post());
    }),
  );
  const koaRate = requests / seconds(t0);
  await new Promise((r) => server.close(r));
  agent.destroy();
  await raw.query('DROP TABLE bench_floor');
  ms.sort((a, b) => a - b);

  const connection = createRedis(opts.redisUrl, 'worker');
  const prefix = '{bench-floor}';
  const queue = new Queue('floor', { connection, prefix });
  await queue.obliterate({ force: true });
  const jobs = requests;
  await queue.addBulk(
    Array.from({ length: jobs }, (_, i) => ({
      name: 'noop',
      data: { i },
      opts: { removeOnComplete: true },
    })),
  );
  const worker = new Worker('floor', async () => undefined, {
    connection,
    prefix,
    concurrency: 8,
    autorun: false,
  });
  let done = 0;
  const finished = new Promise<void>((resolve) =>
    worker.on('completed', () => {
      if (++done === jobs) resolve();
    }),
  );
  const cpu0 = process.cpuUsage();
  const t1 = process.hrtime.bigint();
  void worker.run();
  await finished;
  const bullRate = jobs / seconds(t1);
  const cpu = process.cpuUsage(cpu0);
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  await connection.quit();

  return {
    koaInsert: {
      rate: koaRate,
      p50: ms[Math.floor(ms.length / 2)],
      p99: ms[Math.min(ms.length - 1, Math.floor(ms.length * 0.99))],
    },
    bullmq: { rate: bullRate, cpuMsPerJob: (cpu.user + cpu.system) / 1000 / jobs },
  };
}
