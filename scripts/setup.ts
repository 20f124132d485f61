/**
 * Set-up shared by `npm start` and `npm test`: makes sure PostgreSQL and Redis answer (starting
 * local ones that are installed but stopped), creates the database when missing (drops it first
 * with --reset), migrates, and seeds demo data with --seed.
 */
import { execSync } from 'node:child_process';
import fs from 'node:fs';
import { Client } from 'pg';
import { Command } from 'commander';
import { getConfig } from '../config';
import { createSequelize } from '../src/lib/db';
import { createLogger } from '../src/lib/logger';
import { createMigrator } from '../src/lib/migrator';
import { Redis } from '../src/lib/redis';
import { seedDemoData } from '../src/seed';

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function hasCommand(cmd: string): boolean {
  try {
    execSync(`command -v ${cmd}`, { stdio: 'ignore', shell: '/bin/bash' });
    return true;
  } catch {
    return false;
  }
}

async function retryUntil(what: string, fn: () => Promise<void>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline)
        throw new Error(`${what}: ${(err as Error).message}`, { cause: err });
      await sleep(500);
    }
  }
}

function maintenanceUrl(databaseUrl: string): { url: string; database: string; host: string } {
  const u = new URL(databaseUrl);
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  u.pathname = '/postgres';
  return { url: u.toString(), database, host: u.hostname };
}

async function pgAnswers(url: string): Promise<void> {
  const c = new Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  try {
    await c.connect();
    await c.query('SELECT 1');
  } finally {
    await c.end().catch(() => undefined);
  }
}

async function ensurePostgres(databaseUrl: string, log: (m: string) => void): Promise<void> {
  const { url, host } = maintenanceUrl(databaseUrl);
  try {
    return await pgAnswers(url);
  } catch (first) {
    if (
      !LOCAL_HOSTS.has(host) ||
      !hasCommand('pg_ctlcluster') ||
      !fs.existsSync('/etc/postgresql')
    ) {
      throw new Error(
        `PostgreSQL at DATABASE_URL (${redactUrl(databaseUrl)}) does not answer (${(first as Error).message}) and no local server can be started: start it or set DATABASE_URL.`,
        { cause: first },
      );
    }
    log('PostgreSQL is not answering; starting the local cluster');
    for (const version of fs.readdirSync('/etc/postgresql')) {
      try {
        execSync(`pg_ctlcluster --skip-systemctl-redirect ${version} main start`, {
          stdio: 'inherit',
        });
      } catch {
        // already running or another version: the connection check below decides.
      }
    }
    await retryUntil(
      `PostgreSQL at DATABASE_URL (${redactUrl(databaseUrl)}) did not come up`,
      () => pgAnswers(url),
      30_000,
    );
  }
}

async function redisAnswers(url: string): Promise<void> {
  const r = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 2_000,
    retryStrategy: () => null,
  });
  r.on('error', () => undefined);
  try {
    await r.connect();
    await r.ping();
  } finally {
    r.disconnect();
  }
}

async function ensureRedis(redisUrl: string, log: (m: string) => void): Promise<void> {
  const host = new URL(redisUrl).hostname;
  try {
    return await redisAnswers(redisUrl);
  } catch (first) {
    if (!LOCAL_HOSTS.has(host) || !hasCommand('redis-server')) {
      throw new Error(
        `Redis at REDIS_URL (${redactUrl(redisUrl)}) does not answer (${(first as Error).message}) and no local server can be started: start it or set REDIS_URL.`,
        { cause: first },
      );
    }
    log('Redis is not answering; starting a local redis-server');
    const port = new URL(redisUrl).port || '6379';
    const dir = fs.existsSync('/var/lib/redis') ? '/var/lib/redis' : '/tmp';
    const logfile = fs.existsSync('/var/log/redis') ? '/var/log/redis/ci.log' : '/tmp/redis.log';
    execSync(
      `redis-server --daemonize yes --bind 127.0.0.1 -::1 --port ${port} --save "" --appendonly no --dir ${dir} --logfile ${logfile}`,
      { stdio: 'inherit' },
    );
    await retryUntil(
      `Redis at REDIS_URL (${redactUrl(redisUrl)}) did not come up`,
      () => redisAnswers(redisUrl),
      15_000,
    );
  }
}

function redactUrl(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

async function ensureDatabase(
  databaseUrl: string,
  reset: boolean,
  log: (m: string) => void,
): Promise<void> {
  const { url, database } = maintenanceUrl(databaseUrl);
  if (!/^[A-Za-z0-9_]+$/.test(database))
    throw new Error(`DATABASE_URL names an unusual database "${database}"`);
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    if (reset) {
      log(`dropping database ${database}`);
      await c.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    }
    const { rowCount } = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!rowCount) {
      log(`creating database ${database}`);
      await c.query(`CREATE DATABASE "${database}"`);
    }
  } finally {
    await c.end();
  }
}

async function main(): Promise<void> {
  const program = new Command()
    .name('setup')
    .option('--seed', 'seed demo data (banks, platform accounts, super investor, admin)')
    .option(
      '--reset',
      'drop and recreate the database and flush the Redis database first (test only)',
    )
    .parse();
  const opts = program.opts<{ seed?: boolean; reset?: boolean }>();
  const config = getConfig();
  const logger = createLogger({
    name: 'setup',
    level: config.logLevel,
    pretty: config.logFormat === 'pretty',
  });
  const log = (m: string) => logger.info(m);
  if (opts.reset && config.nodeEnv !== 'test')
    throw new Error('--reset is only allowed with NODE_ENV=test');

  await ensurePostgres(config.databaseUrl, log);
  await ensureRedis(config.redisUrl, log);
  await ensureDatabase(config.databaseUrl, Boolean(opts.reset), log);
  if (opts.reset) {
    const r = new Redis(config.redisUrl);
    await r.flushdb();
    r.disconnect();
  }
  const sequelize = createSequelize(config.databaseUrl, { poolMax: 2 });
  try {
    const applied = await createMigrator(sequelize).up();
    log(
      `migrations: ${applied.length} applied${applied.length ? ` (${applied.map((m) => m.name).join(', ')})` : ''}`,
    );
    if (opts.seed) {
      await seedDemoData(sequelize, config);
      log('demo data seeded');
    }
  } finally {
    await sequelize.close();
  }
}

main().catch((err: Error) => {
  process.stderr.write(
    `\nset-up failed: ${err.message}\n${(err as { parent?: Error }).parent?.message ?? ''}\n`,
  );
  process.exit(1);
});
