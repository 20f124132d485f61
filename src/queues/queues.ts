import Joi from 'joi';
import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import { nowMs } from '../lib/clock';

/** Every BullMQ queue of the system. One worker per queue per worker process. */
export enum QueueName {
  /** Housekeeping: outbox relay, ledger audit, and the sweepers of later areas. */
  Maintenance = 'maintenance',
  /** Investor on-boarding: KYC checks with the provider. */
  Investors = 'investors',
  /** Loan intake (borrower details) and settlement. */
  Loans = 'loans',
  /** Purchase orders: lock and lock expiry. */
  Orders = 'orders',
  /** Gateway instructions: submit, query, callbacks (and the sandbox gateway's deliveries). */
  Payments = 'payments',
  /** Secondary market: note expiry (and, to come, credit order confirmation). */
  Transfers = 'transfers',
}

/** Every job name with its payload type. No secrets or raw PII in payloads: ids only. */
export interface JobPayloads {
  'outbox.relay': Record<string, never>;
  'outbox.prune': Record<string, never>;
  'ledger.audit': Record<string, never>;
  'kyc.verify': { verificationId: string };
  'borrower.fetch': { creditorNo: string };
  'loan.settle': { loanId: string };
  'order.lock': { orderId: string };
  'order.expire': { orderId: string };
  'instruction.submit': { instructionId: string };
  'instruction.query': { instructionId: string };
  'instructions.sweep': Record<string, never>;
  'payment.reconcile': { callbackId: string };
  'gateway-sandbox.callback': { instructionId: string };
  'partner.notify': { notificationId: string };
  'partner-notifications.sweep': Record<string, never>;
  'repayment.clear': { repaymentId: string };
  'loans.mark-overdue': Record<string, never>;
  'credit-notes.expire': Record<string, never>;
  'credit-order.confirm': { orderId: string };
  'credit-orders.sweep': Record<string, never>;
  'recovery.sweep': Record<string, never>;
  'banks.sync': Record<string, never>;
}

/** A job name of the registry. */
export type JobName = keyof JobPayloads;

/** Where a job runs and how its payload is checked before a processor sees it. */
export interface JobDefinition<K extends JobName> {
  queue: QueueName;
  payload: Joi.ObjectSchema<JobPayloads[K]>;
  options?: JobsOptions;
}

const empty = Joi.object({}).unknown(false);
const id = (name: string) =>
  Joi.object({
    [name]: Joi.string()
      .pattern(/^\d{1,18}$/)
      .required(),
  });

/** The job registry: name → queue, payload schema, options. The worker refuses to start on a gap. */
export const JOBS: { [K in JobName]: JobDefinition<K> } = {
  'outbox.relay': { queue: QueueName.Maintenance, payload: empty, options: { attempts: 1 } },
  'outbox.prune': { queue: QueueName.Maintenance, payload: empty, options: { attempts: 1 } },
  'ledger.audit': { queue: QueueName.Maintenance, payload: empty, options: { attempts: 1 } },
  'kyc.verify': { queue: QueueName.Investors, payload: id('verificationId') },
  'borrower.fetch': {
    queue: QueueName.Loans,
    payload: Joi.object({ creditorNo: Joi.string().max(64).required() }),
  },
  'loan.settle': { queue: QueueName.Loans, payload: id('loanId') },
  'order.lock': { queue: QueueName.Orders, payload: id('orderId') },
  'order.expire': { queue: QueueName.Orders, payload: id('orderId') },
  'instruction.submit': { queue: QueueName.Payments, payload: id('instructionId') },
  'instruction.query': { queue: QueueName.Payments, payload: id('instructionId') },
  'instructions.sweep': { queue: QueueName.Payments, payload: empty, options: { attempts: 1 } },
  'payment.reconcile': { queue: QueueName.Payments, payload: id('callbackId') },
  'gateway-sandbox.callback': { queue: QueueName.Payments, payload: id('instructionId') },
  'partner.notify': {
    queue: QueueName.Loans,
    payload: id('notificationId'),
    options: { attempts: 15 },
  },
  'partner-notifications.sweep': {
    queue: QueueName.Loans,
    payload: empty,
    options: { attempts: 1 },
  },
  'repayment.clear': { queue: QueueName.Loans, payload: id('repaymentId') },
  'loans.mark-overdue': { queue: QueueName.Loans, payload: empty, options: { attempts: 1 } },
  'credit-notes.expire': { queue: QueueName.Transfers, payload: empty, options: { attempts: 1 } },
  'credit-order.confirm': { queue: QueueName.Transfers, payload: id('orderId') },
  'credit-orders.sweep': { queue: QueueName.Transfers, payload: empty, options: { attempts: 1 } },
  'recovery.sweep': { queue: QueueName.Maintenance, payload: empty, options: { attempts: 1 } },
  'banks.sync': { queue: QueueName.Loans, payload: empty, options: { attempts: 3 } },
};

/**
 * Defaults for every job: retried with exponential backoff (1 s, 2 s, 4 s … ≈ 8.5 min in all),
 * completed jobs kept an hour (long enough for job-id de-duplication of relayed work), failed
 * jobs kept a week for the finance CLI and Bull Board.
 */
export const DEFAULT_JOB_OPTIONS: JobsOptions = {
  attempts: 10,
  backoff: { type: 'exponential', delay: 1_000 },
  removeOnComplete: { age: 3_600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3_600, count: 100_000 },
};

/** A repeatable sweeper that the scheduler keeps registered. */
export interface SweeperDefinition {
  id: string;
  job: JobName;
  everyMs: number;
}

/** Every repeatable sweeper. */
export const SWEEPERS: SweeperDefinition[] = [
  { id: 'outbox-relay', job: 'outbox.relay', everyMs: 1_000 },
  { id: 'outbox-prune', job: 'outbox.prune', everyMs: 3_600_000 },
  { id: 'ledger-audit', job: 'ledger.audit', everyMs: 15 * 60_000 },
  { id: 'instructions-sweep', job: 'instructions.sweep', everyMs: 15_000 },
  { id: 'loans-mark-overdue', job: 'loans.mark-overdue', everyMs: 15 * 60_000 },
  { id: 'credit-notes-expire', job: 'credit-notes.expire', everyMs: 5 * 60_000 },
  { id: 'credit-orders-sweep', job: 'credit-orders.sweep', everyMs: 60_000 },
  { id: 'partner-notifications-sweep', job: 'partner-notifications.sweep', everyMs: 5 * 60_000 },
  { id: 'recovery-sweep', job: 'recovery.sweep', everyMs: 30_000 },
  { id: 'banks-sync', job: 'banks.sync', everyMs: 24 * 3_600_000 },
];

/**
 * A one-minute time bucket (on the clock) for the job ids of recovery sweepers: one job per
 * stuck row per minute, however many sweepers run.
 */
export const recoveryBucket = (): number => Math.floor(nowMs() / 60_000);

/**
 * A sweeper's enqueue: one job per payload, each with the id `<tag>-<key>-<minute>` so that
 * sweepers running at once, or again within the minute, start it once. Returns how many.
 */
export async function enqueueRecovery<K extends JobName>(
  queues: Map<string, Queue>,
  name: K,
  tag: string,
  payloads: { key: string; payload: JobPayloads[K] }[],
): Promise<number> {
  const bucket = recoveryBucket();
  for (const p of payloads)
    await enqueueDirect(queues, name, p.payload, { jobId: `${tag}-${p.key}-${bucket}` });
  return payloads.length;
}

/**
 * The BullMQ key prefix of one queue: `{<QUEUE_PREFIX>:<queue>}`. The braces are a Redis
 * Cluster hash tag: every key of a queue hashes to one slot (BullMQ's Lua scripts touch several
 * keys of a queue at once and need them on one node), while different queues spread over the
 * cluster's slots. On a single Redis it is just a longer key name.
 */
export const queueKeyPrefix = (prefix: string, queue: string): string => `{${prefix}:${queue}}`;

/** Opens one producer Queue per queue name with the default job options. */
export function createQueues(
  connection: ConnectionOptions | import('ioredis').Redis,
  prefix: string,
): Map<string, Queue> {
  const queues = new Map<string, Queue>();
  for (const name of Object.values(QueueName)) {
    queues.set(
      name,
      new Queue(name, {
        connection,
        prefix: queueKeyPrefix(prefix, name),
        defaultJobOptions: DEFAULT_JOB_OPTIONS,
      }),
    );
  }
  return queues;
}

/**
 * Enqueues a job directly. Only for code that has written nothing to the database (otherwise
 * use the outbox), and always with a deterministic job id so that a retry is one job.
 */
export async function enqueueDirect<K extends JobName>(
  queues: Map<string, Queue>,
  name: K,
  payload: JobPayloads[K],
  opts: { jobId: string; delayMs?: number },
): Promise<void> {
  const def = JOBS[name];
  const queue = queues.get(def.queue);
  if (!queue) throw new Error(`queue ${def.queue} is not open`);
  Joi.assert(payload, def.payload);
  await queue.add(name, payload, { ...def.options, jobId: opts.jobId, delay: opts.delayMs });
}
