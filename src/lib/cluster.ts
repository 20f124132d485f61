import cluster, { type Worker } from 'node:cluster';
import type { Config } from '../../config';
import { createLogger } from './logger';

/** A child that dies is restarted after this, doubled for each quick death in a row… */
const RESTART_MIN_MS = 1_000;
/** …up to this. */
const RESTART_MAX_MS = 30_000;
/** A child that ran this long before dying was healthy: its restart waits the minimum again. */
const HEALTHY_AFTER_MS = 30_000;
/** The children's own graceful shutdown is bounded at 30 s (`onShutdown`); a little more here. */
const SHUTDOWN_TIMEOUT_MS = 35_000;

/**
 * A process that must not run as configured (e.g. SUPER_INVESTOR_USER_ID is not the super
 * investor): it exits with START_REFUSED_EXIT_CODE, and a cluster primary stops instead of
 * restarting it, since another attempt would meet the same database.
 */
export class StartRefused extends Error {
  override name = 'StartRefused';
}

/** EX_CONFIG (sysexits.h): the exit code of a process that refused to start. */
export const START_REFUSED_EXIT_CODE = 78;

/** What `runProcesses` runs, and how many times. */
export interface ProcessesOptions {
  /** The process type (`web`, `worker`), for logs. */
  name: string;
  /** How many processes; 1 runs `main` in this process with no primary. */
  count: number;
  config: Readonly<Config>;
  /** The process itself: opens its connections and installs its own graceful shutdown. */
  main: () => Promise<void>;
}

/**
 * Runs `main` in this process when `count` is 1. Otherwise this process becomes a cluster
 * primary holding no connections: it forks `count` children that run `main` (web children
 * share the listening port), restarts a child that dies unexpectedly after a back-off, and on
 * SIGINT/SIGTERM forwards the signal, waits for every child's graceful shutdown and exits 0
 * (1 if a child did not stop cleanly, or after 35 s; a second signal kills the children).
 */
export function runProcesses(opts: ProcessesOptions): void {
  if (opts.count > 1 && cluster.isPrimary) {
    supervise(opts);
    return;
  }
  opts.main().catch((err) => {
    process.stderr.write(
      `${opts.name} failed to start: ${err instanceof Error ? err.stack : String(err)}\n`,
    );
    process.exit(err instanceof StartRefused ? START_REFUSED_EXIT_CODE : 1);
  });
}

function supervise({ name, count, config }: ProcessesOptions): void {
  const logger = createLogger({
    name,
    level: config.logLevel,
    pretty: config.logFormat === 'pretty',
  });
  const children = new Map<Worker, { slot: number; startedAt: number }>();
  const quickDeaths = new Map<number, number>();
  const restarts = new Set<NodeJS.Timeout>();
  let stopping = false;
  let unclean = false;

  const fork = (slot: number) => children.set(cluster.fork(), { slot, startedAt: Date.now() });
  const finish = () => {
    if (unclean) logger.error('a child did not stop cleanly');
    else logger.info('stopped cleanly');
    logger.flush?.();
    process.exit(unclean ? 1 : 0);
  };

  cluster.on('exit', (child, code, signal) => {
    const { slot, startedAt } = children.get(child)!;
    children.delete(child);
    if (stopping) {
      if (code !== 0) unclean = true;
      if (children.size === 0) finish();
      return;
    }
    if (code === START_REFUSED_EXIT_CODE) {
      // Refused as configured: restarting would refuse again; the whole process type stops.
      logger.error(
        { child: child.process.pid, code },
        `${name} process refused to start; stopping`,
      );
      stopping = true;
      unclean = true;
      for (const timer of restarts) clearTimeout(timer);
      if (children.size === 0) return finish();
      for (const other of children.keys()) other.process.kill('SIGTERM');
      return;
    }
    const deaths = Date.now() - startedAt < HEALTHY_AFTER_MS ? (quickDeaths.get(slot) ?? 0) + 1 : 1;
    quickDeaths.set(slot, deaths);
    const delayMs = Math.min(RESTART_MAX_MS, RESTART_MIN_MS * 2 ** (deaths - 1));
    logger.error(
      { child: child.process.pid, code, signal, restartInMs: delayMs },
      `${name} process died; restarting it`,
    );
    const timer = setTimeout(() => {
      restarts.delete(timer);
      fork(slot);
    }, delayMs);
    restarts.add(timer);
  });

  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: killing the children');
      for (const child of children.keys()) child.process.kill('SIGKILL');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal, children: children.size }, 'shutting down');
    for (const timer of restarts) clearTimeout(timer);
    if (children.size === 0) return finish();
    // The children may have had the signal already (Ctrl-C reaches the process group); they
    // ignore a repeat while stopping (`onShutdown`).
    for (const child of children.keys()) child.process.kill(signal);
    setTimeout(() => {
      logger.error({ timeoutMs: SHUTDOWN_TIMEOUT_MS }, 'children did not stop in time');
      for (const child of children.keys()) child.process.kill('SIGKILL');
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS).unref();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  for (let slot = 0; slot < count; slot++) fork(slot);
  logger.info({ processes: count }, `${name} primary started ${count} processes`);
}
