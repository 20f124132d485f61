import Joi from 'joi';
import { jobIds, recoveryMinute } from './job-ids';
import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';

/** Every BullMQ queue of the system. One worker per queue per worker process. */
export enum QueueName {
  /** Housekeeping: outbox relay, ledger audit, and the sweepers of later areas. */
  Maintenance = 'maintenance',
  /** Investor on-boarding: KYC checks with the provider. */
  Investors = 'investors',
  /** Loan intake (borrower details) and settlement. */
  Loans = 'loans',
  /** Purchase orders: lock, lock expiry, and auto-invest allocation. */
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
  'auto-invest.allocate': { loanId: string };
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
  /** What the job does, one line (docs/jobs.md is generated from it). */
  description: string;
}

const empty = Joi.object({}).unknown(false);
const id = (name: string) =>
  Joi.object({
    [name]: Joi.string()
      .pattern(/^\d{1,18}$/)
      .required(),
  });

/** A sweeper's job: no payload, one attempt (the next run is its retry). */
const sweep = (queue: QueueName, description: string) => ({
  queue,
  payload: empty,
  options: { attempts: 1 },
  description,
});

/** The job registry: name → queue, payload schema, options. The worker refuses to start on a gap. */
export const JOBS: { [K in JobName]: JobDefinition<K> } = {
  'outbox.relay': sweep(QueueName.Maintenance, 'relays pending outbox rows'),
  'outbox.prune': sweep(QueueName.Maintenance, 'deletes outbox rows relayed more than 7 days ago'),
  'ledger.audit': sweep(QueueName.Maintenance, 'recomputes all balances, logs mismatches'),
  'kyc.verify': {
    queue: QueueName.Investors,
    payload: id('verificationId'),
    description: 'asks the KYC provider about one submission, records the outcome',
  },
  'borrower.fetch': {
    queue: QueueName.Loans,
    payload: Joi.object({ creditorNo: Joi.string().max(64).required() }),
    description: 'fetches a loan’s borrower from the partner, stores it encrypted',
  },
  'loan.settle': {
    queue: QueueName.Loans,
    payload: id('loanId'),
    description: 'settlement: wait for locks, fail / top up / fill, disburse',
  },
  'order.lock': {
    queue: QueueName.Orders,
    payload: id('orderId'),
    description: 'purchase rules, share reservation, payment start',
  },
  'auto-invest.allocate': {
    queue: QueueName.Orders,
    payload: id('loanId'),
    description:
      'offers a new loan to the matching auto-invest rules in queue order, up to the share',
  },
  'order.expire': {
    queue: QueueName.Orders,
    payload: id('orderId'),
    description: 'releases an unpaid order’s share at the lock TTL',
  },
  'instruction.submit': {
    queue: QueueName.Payments,
    payload: id('instructionId'),
    description: 'hands an instruction to the gateway (the lock batch does it inline)',
  },
  'instruction.query': {
    queue: QueueName.Payments,
    payload: id('instructionId'),
    description: 'asks the gateway about an instruction without a result',
  },
  'instructions.sweep': sweep(QueueName.Payments, 'enqueues due queries and lost submits'),
  'payment.reconcile': {
    queue: QueueName.Payments,
    payload: id('callbackId'),
    description: 'applies one stored gateway callback, once',
  },
  'gateway-sandbox.callback': {
    queue: QueueName.Payments,
    payload: id('instructionId'),
    description: 'the sandbox gateway’s signed callback (sandbox only)',
  },
  'partner.notify': {
    queue: QueueName.Loans,
    payload: id('notificationId'),
    options: { attempts: 15 },
    description: 'delivers one partner notification',
  },
  'partner-notifications.sweep': sweep(QueueName.Loans, 're-enqueues undelivered notifications'),
  'repayment.clear': {
    queue: QueueName.Loans,
    payload: id('repaymentId'),
    description: 'splits one arrived repayment (one ledger transaction)',
  },
  'loans.mark-overdue': sweep(QueueName.Loans, 'repaying loans with a period past due → overdue'),
  'credit-notes.expire': sweep(
    QueueName.Transfers,
    'closes notes past their end time, returns the unsold part',
  ),
  'credit-order.confirm': {
    queue: QueueName.Transfers,
    payload: id('orderId'),
    description: 'the next step of one credit order (restartable)',
  },
  'credit-orders.sweep': sweep(QueueName.Transfers, 're-enqueues lost confirm jobs'),
  'recovery.sweep': sweep(
    QueueName.Maintenance,
    'finds every state waiting for a lost job and starts it again',
  ),
  'banks.sync': {
    queue: QueueName.Loans,
    payload: empty,
    options: { attempts: 3 },
    description: "http mode: the partner's bank list into `banks` (sandbox: kept)",
  },
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
 * A sweeper's enqueue: one job per payload, each with the id `<tag>-<key>-<minute>` so that
 * sweepers running at once, or again within the minute, start it once. Returns how many.
 */
export async function enqueueRecovery<K extends JobName>(
  queues: Map<string, Queue>,
  name: K,
  tag: string,
  payloads: { key: string; payload: JobPayloads[K] }[],
): Promise<number> {
  const minute = recoveryMinute();
  for (const p of payloads)
    await enqueueDirect(queues, name, p.payload, { jobId: jobIds.recovery(tag, p.key, minute) });
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
