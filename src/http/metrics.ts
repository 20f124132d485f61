import type { Middleware } from 'koa';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

/** Redis hash that every worker process adds its job counts and durations to. */
export const jobMetricsKey = (prefix: string) => `${prefix}:metrics:jobs`;

/**
 * Records one finished job in Redis so that the web process's /metrics shows the whole
 * cluster's job counters and latencies, whichever worker ran the job.
 */
export async function recordJobMetric(
  redis: Redis,
  prefix: string,
  m: { queue: string; name: string; status: 'completed' | 'failed'; durationMs: number },
): Promise<void> {
  const base = `${m.queue}|${m.name}`;
  await redis
    .multi()
    .hincrby(jobMetricsKey(prefix), `${base}|${m.status}`, 1)
    .hincrby(jobMetricsKey(prefix), `${base}|duration_ms`, Math.max(0, Math.trunc(m.durationMs)))
    .hincrby(jobMetricsKey(prefix), `${base}|runs`, 1)
    .exec();
}

/** The web process's Prometheus registry: HTTP, jobs (cluster-wide, from Redis), queue depths. */
export function createMetrics(deps: { redis: Redis; queues: Map<string, Queue>; prefix: string }) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'p2p_' });

  const httpRequests = new Counter({
    name: 'p2p_http_requests_total',
    help: 'HTTP requests by method, route and status',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: 'p2p_http_request_duration_seconds',
    help: 'HTTP request latency by method and route',
    labelNames: ['method', 'route'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });

  const readJobHash = async () => deps.redis.hgetall(jobMetricsKey(deps.prefix));
  new Counter({
    name: 'p2p_jobs_total',
    help: 'Finished jobs by queue, name and status (all worker processes)',
    labelNames: ['queue', 'name', 'status'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const [field, value] of Object.entries(await readJobHash())) {
        const [queue, name, status] = field.split('|');
        if (status === 'completed' || status === 'failed')
          this.inc({ queue, name, status }, Number(value));
      }
    },
  });
  new Counter({
    name: 'p2p_job_duration_seconds_sum',
    help: 'Total processing time of finished jobs by queue and name (divide by p2p_job_runs_total)',
    labelNames: ['queue', 'name'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const [field, value] of Object.entries(await readJobHash())) {
        const [queue, name, what] = field.split('|');
        if (what === 'duration_ms') this.inc({ queue, name }, Number(value) / 1000);
      }
    },
  });
  new Counter({
    name: 'p2p_job_runs_total',
    help: 'Finished job runs by queue and name',
    labelNames: ['queue', 'name'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const [field, value] of Object.entries(await readJobHash())) {
        const [queue, name, what] = field.split('|');
        if (what === 'runs') this.inc({ queue, name }, Number(value));
      }
    },
  });
  new Gauge({
    name: 'p2p_queue_jobs',
    help: 'Jobs per queue and state',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const [name, queue] of deps.queues) {
        const counts = await queue.getJobCounts(
          'waiting',
          'active',
          'delayed',
          'failed',
          'completed',
          'prioritized',
        );
        for (const [state, n] of Object.entries(counts)) this.set({ queue: name, state }, n);
      }
    },
  });

  /** Times every request; the label is the route pattern, never the raw path. */
  const middleware: Middleware = async (ctx, next) => {
    const end = httpDuration.startTimer();
    try {
      await next();
    } finally {
      const route = ctx.path.startsWith('/admin/queues')
        ? '/admin/queues'
        : ((ctx as { _matchedRoute?: string })._matchedRoute ?? 'unmatched');
      end({ method: ctx.method, route: String(route) });
      httpRequests.inc({ method: ctx.method, route: String(route), status: String(ctx.status) });
    }
  };

  return { registry, middleware };
}
