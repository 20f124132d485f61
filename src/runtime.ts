import cluster from 'node:cluster';
import { jobIds } from './queues/job-ids';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Sequelize } from 'sequelize-typescript';
import { getConfig, type Config } from '../config';
import { createGatewayPort, type GatewayPort } from './adapters/gateway';
import { createKycPort, type KycPort } from './adapters/kyc';
import { createPartnerPort, type PartnerPort } from './adapters/partner';
import { createSmsPort, type SmsPort } from './adapters/sms';
import { PiiCipher } from './lib/crypto';
import { createSequelize } from './lib/db';
import { createLogger, type Logger } from './lib/logger';
import { createRedis } from './lib/redis';
import { SessionStore } from './modules/auth/session.service';
import { setOutboxKick } from './modules/outbox/outbox.service';
import { OutboxRelay } from './queues/outbox-relay';
import { createQueues, enqueueDirect } from './queues/queues';

/** The connections one process holds: opened once at start, closed once at shutdown. */
export interface Runtime {
  name: string;
  config: Readonly<Config>;
  logger: Logger;
  sequelize: Sequelize;
  /** Fail-fast client for sessions, rate limits, metrics and readiness. */
  redis: Redis;
  /** Producer connection shared by every Queue. */
  producer: Redis;
  queues: Map<string, Queue>;
  relay: OutboxRelay;
  /** PII encryption and lookup hashes (DATA_ENCRYPTION_KEY). */
  cipher: PiiCipher;
  sessions: SessionStore;
  /** Outside parties, sandbox or HTTP by configuration. */
  ports: Ports;
  close(): Promise<void>;
}

/** Every outside party's port. */
export interface Ports {
  sms: SmsPort;
  kyc: KycPort;
  partner: PartnerPort;
  gateway: GatewayPort;
}

/** Opens config, logger, PostgreSQL, Redis and the queues for one process. */
export function openRuntime(
  name: string,
  overrides: {
    config?: Readonly<Config>;
    logger?: Logger;
    sequelize?: Sequelize;
    ports?: Partial<Ports>;
  } = {},
): Runtime {
  const config = overrides.config ?? getConfig();
  const logger =
    overrides.logger ??
    createLogger({ name, level: config.logLevel, pretty: config.logFormat === 'pretty' });
  const ownsSequelize = !overrides.sequelize;
  const sequelize = overrides.sequelize ?? createSequelize(config.databaseUrl);
  const redis = createRedis(config.redisUrl, 'client');
  const producer = createRedis(config.redisUrl, 'producer');
  for (const [role, conn] of [
    ['client', redis],
    ['producer', producer],
  ] as const) {
    conn.on('error', (err: Error) =>
      logger.warn({ err: err.message, role }, 'redis connection error'),
    );
  }
  const queues = createQueues(producer, config.queuePrefix);
  for (const q of queues.values())
    q.on('error', (err: Error) => logger.warn({ err: err.message, queue: q.name }, 'queue error'));
  const relay = new OutboxRelay(sequelize, queues, logger);
  setOutboxKick(relay.kick);
  let closed = false;
  return {
    name,
    config,
    logger,
    sequelize,
    redis,
    producer,
    queues,
    relay,
    cipher: new PiiCipher(config.dataEncryptionKey),
    sessions: new SessionStore(redis, config.auth.sessionMaxAgeSeconds),
    ports: {
      sms: createSmsPort(config),
      kyc: createKycPort(config),
      partner: createPartnerPort(config),
      // The sandbox delivers its callbacks through a delayed job (deterministic id: once per instruction).
      gateway: createGatewayPort(config, redis, (instructionId, delayMs, tag) =>
        enqueueDirect(
          queues,
          'gateway-sandbox.callback',
          { instructionId },
          { jobId: jobIds.sandboxCallback(instructionId, tag), delayMs },
        ),
      ),
      ...overrides.ports,
    },
    async close() {
      if (closed) return;
      closed = true;
      setOutboxKick(undefined);
      // Bounded: a Redis that is down must not keep the process from exiting.
      await within(5_000, Promise.allSettled([...queues.values()].map((q) => q.close())));
      if (ownsSequelize) await sequelize.close();
      for (const conn of [redis, producer]) {
        if (conn.status === 'ready')
          await within(
            2_000,
            conn.quit().catch(() => undefined),
          );
        conn.disconnect();
      }
    },
  };
}

function within(ms: number, p: Promise<unknown>): Promise<unknown> {
  return Promise.race([p, new Promise((resolve) => setTimeout(resolve, ms).unref())]);
}

/**
 * Runs `stop` once on SIGINT or SIGTERM, then exits 0 (1 if stopping failed or took longer
 * than `timeoutMs`). A second signal forces the exit, except in a cluster child: Ctrl-C reaches
 * the whole process group and the primary forwards it too, so there the primary decides.
 */
export function onShutdown(logger: Logger, stop: () => Promise<void>, timeoutMs = 30_000): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) {
      if (cluster.isWorker) return;
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error({ timeoutMs }, 'shutdown timed out');
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    stop().then(
      () => {
        logger.info('stopped cleanly');
        logger.flush?.();
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}
