import { QueryTypes, Transaction, UniqueConstraintError } from 'sequelize';
import { jobIds } from '../../queues/job-ids';
import type { Queue } from 'bullmq';
import type { GatewayPort } from '../../adapters/gateway';
import { SandboxGateway } from '../../adapters/gateway';
import { SignedHttpClient } from '../../adapters/http-client';
import type { PiiCipher } from '../../lib/crypto';
import type { Runtime } from '../../runtime';
import { now, nowMs } from '../../lib/clock';
import { withTransaction } from '../../lib/db';
import { planted } from '../../lib/plants';
import { AppError } from '../../lib/errors';
import { toIdr } from '../../lib/money';
import { enqueueDirect, enqueueRecovery } from '../../queues/queues';
import { BankCard } from '../banks/bank-card.model';
import { Loan } from '../loans/loan.model';
import { kickCommitted, outboxCte } from '../outbox/outbox.service';
import { markCreditOrderAbnormal } from '../transfers/credit-order-confirmation.service';
import { CONFIRM_DECLINE, InstructionStatus, instructionMachine } from './instruction.states';
import { applyInstructionEffect, type InstructionResult } from './payment-effects';
import { GatewayCallback, PaymentInstruction } from './payment.model';

export interface PaymentDeps {
  gateway: GatewayPort;
  cipher: PiiCipher;
  /** How long a payout's decline waits for a status query to confirm it (default 600 s). */
  declineConfirmSeconds?: number;
}

/** The payment dependencies of a process. */
export const paymentDeps = (rt: Pick<Runtime, 'ports' | 'cipher' | 'config'>): PaymentDeps => ({
  gateway: rt.ports.gateway,
  cipher: rt.cipher,
  declineConfirmSeconds: rt.config.gateway.declineConfirmSeconds,
});

/** A payout's decline is confirmed by a status query this long after it (GATEWAY_DECLINE_CONFIRM_SECONDS). */
export const DEFAULT_DECLINE_CONFIRM_SECONDS = 600;

const OPEN = new Set([
  InstructionStatus.Created,
  InstructionStatus.Submitted,
  InstructionStatus.Unknown,
  InstructionStatus.Declined,
]);

/** Next status query: 30 s, 1 min, 2 min … at most every 30 minutes. */
const queryBackoffSeconds = (attempts: number) => Math.min(30 * 2 ** attempts, 1800);

/** What the gateway said, with what resolveInstruction needs to judge it. */
export interface GatewayAnswer extends InstructionResult {
  /** The amount the gateway reports (callbacks carry it; a mismatch is held). */
  amount?: bigint;
  gatewayTxnId?: string;
  /** A status query's answer: a decline it repeats is final. */
  confirmed?: boolean;
}

/**
 * Resolves an instruction with the gateway's word, exactly once per outcome (the instruction row
 * locked):
 * - the same answer again (a duplicate callback, a query after a callback) changes nothing;
 * - another amount than the instruction's: the instruction is held, nothing applied (finance);
 * - a decline of a payout (money that would go back to a wallet or a borrower retry) waits:
 *   `declined` until a status query confirms it, so a success that follows finds the money in
 *   place; a collection's decline is applied at once;
 * - a success after a failure is applied as a late success (re-lock, refund, credit, take
 *   back), never parked;
 * - a failure after a success is recorded (a returned payment is finance's to handle).
 */
export async function resolveInstruction(
  instructionId: string,
  r: GatewayAnswer,
  transaction: Transaction,
  opts: { declineConfirmSeconds?: number } = {},
): Promise<string> {
  const i = await PaymentInstruction.findByPk(instructionId, {
    transaction,
    lock: Transaction.LOCK.NO_KEY_UPDATE,
  });
  if (!i) return 'unknown instruction';
  if (r.amount !== undefined && r.amount !== i.amount) {
    const what = `amount mismatch: expected ${i.amount}, told ${r.amount} (${r.status})`;
    if (!OPEN.has(i.status)) return `${what}; instruction already ${i.status}`;
    await instructionMachine.transition(
      i,
      InstructionStatus.Held,
      { failReason: what, nextQueryAt: null },
      { transaction },
    );
    return `${what}; held for finance`;
  }
  if (i.status === InstructionStatus.Held) return `held for finance (${r.status} not applied)`;
  if (i.status === InstructionStatus.Succeeded) {
    if (planted('double-callback') && r.status === 'success' && i.purpose === 'recharge')
      return applyInstructionEffect(i, r, transaction);
    return r.status === 'success'
      ? 'duplicate'
      : 'conflict: already succeeded, now told failed (finance: a returned payment?)';
  }
  const fields = { gatewayTxnId: r.gatewayTxnId ?? i.gatewayTxnId };
  if (r.status === 'failed') {
    if (i.status === InstructionStatus.Failed) return 'duplicate';
    if (CONFIRM_DECLINE.has(i.purpose) && !r.confirmed) {
      if (i.status === InstructionStatus.Declined) return 'duplicate decline';
      const wait = opts.declineConfirmSeconds ?? DEFAULT_DECLINE_CONFIRM_SECONDS;
      await instructionMachine.transition(
        i,
        InstructionStatus.Declined,
        {
          ...fields,
          failReason: r.failReason ?? null,
          nextQueryAt: new Date(nowMs() + wait * 1000),
        },
        { transaction },
      );
      return `declined; a status query confirms it in ${wait} s`;
    }
    // Written with its outcome, in one UPDATE (recordOutcome).
    instructionMachine.stage(i, InstructionStatus.Failed, {
      ...fields,
      resolvedAt: now(),
      failReason: r.failReason ?? i.failReason ?? null,
      nextQueryAt: null,
    });
    return recordOutcome(i, await applyInstructionEffect(i, r, transaction), transaction);
  }
  const late = i.status === InstructionStatus.Failed;
  // Written with its outcome, in one UPDATE (recordOutcome).
  instructionMachine.stage(i, InstructionStatus.Succeeded, {
    ...fields,
    resolvedAt: now(),
    failReason: null,
    nextQueryAt: null,
  });
  const outcome = await applyInstructionEffect(i, r, transaction, late);
  return recordOutcome(i, late ? `late success: ${outcome}` : outcome, transaction);
}

/**
 * Keeps what a result did on the instruction (reconcile lists the ones "not applied"), with any
 * change of its status set before the effect: one UPDATE.
 */
async function recordOutcome(i: PaymentInstruction, outcome: string, transaction: Transaction) {
  i.set({ outcome: outcome.slice(0, 1000) });
  await i.save({ transaction }); // every changed field, not only the outcome
  return outcome;
}

/**
 * Finance: applies its own reading of a held instruction (after checking with the gateway):
 * success or failure, as if the gateway had said so with the right amount.
 */
export async function resolveHeldInstruction(
  instructionId: string,
  status: 'success' | 'failed',
): Promise<string> {
  return withTransaction(PaymentInstruction.sequelize!, async (transaction) => {
    const i = await PaymentInstruction.findByPk(instructionId, {
      transaction,
      lock: Transaction.LOCK.NO_KEY_UPDATE,
    });
    if (!i) throw new AppError('NOT_FOUND', `no instruction ${instructionId}`);
    if (i.status !== InstructionStatus.Held)
      throw new AppError(
        'INVALID_STATE_TRANSITION',
        `instruction ${i.id} is ${i.status}, not held`,
      );
    const to = status === 'success' ? InstructionStatus.Succeeded : InstructionStatus.Failed;
    await instructionMachine.transition(i, to, { resolvedAt: now() }, { transaction });
    return recordOutcome(
      i,
      await applyInstructionEffect(
        i,
        { status, failReason: i.failReason ?? undefined },
        transaction,
      ),
      transaction,
    );
  });
}

/**
 * Finance: marks an exception reconcile lists as handled (a callback not applied, or an
 * instruction whose result could not be applied), with who did it.
 */
export async function acknowledge(
  what: 'callback' | 'instruction',
  id: string,
  operator: string,
): Promise<string> {
  const model = what === 'callback' ? GatewayCallback : PaymentInstruction;
  const [n] = await (model as typeof GatewayCallback).update(
    { acknowledgedAt: now(), acknowledgedBy: operator },
    { where: { id, acknowledgedAt: null } },
  );
  if (n === 0) throw new AppError('NOT_FOUND', `no unacknowledged ${what} ${id}`);
  return `${what} ${id} acknowledged by ${operator}`;
}

/** The card an instruction moves money from or to: the investor's, or the borrower's for a disbursement. */
async function cardOf(cipher: PiiCipher, i: PaymentInstruction): Promise<string | undefined> {
  if (i.purpose === 'disbursement') {
    const loan = await Loan.findByPk(i.refId);
    return loan ? cipher.decrypt(loan.bankCardEncrypted) : undefined;
  }
  const card = i.bankCardId ? await BankCard.findByPk(i.bankCardId) : null;
  return card ? cipher.decrypt(card.cardEncrypted) : undefined;
}

/** Hands an instruction to the gateway (the same id again is one instruction at the gateway). */
async function handOver(deps: PaymentDeps, i: PaymentInstruction, counted = false) {
  if (!counted) await PaymentInstruction.increment('submitAttempts', { where: { id: i.id } });
  return deps.gateway.submit({
    instructionId: String(i.id),
    kind: i.kind,
    amount: i.amount,
    cardNo: await cardOf(deps.cipher, i),
  });
}

/**
 * The instruction.submit job: hands an instruction to the gateway outside any transaction, then
 * marks it submitted if nothing resolved it meanwhile. Re-running it re-submits the same
 * instruction id, which the gateway treats as one. A refusal resolves it as failed (for a
 * payout: declined, until a status query confirms it).
 */
export async function submitInstruction(deps: PaymentDeps, instructionId: string): Promise<string> {
  // The attempt is counted and the instruction read in one statement.
  const [i] = await PaymentInstruction.sequelize!.query(
    `UPDATE payment_instructions SET submit_attempts = submit_attempts + 1, updated_at = $2
      WHERE id = $1 AND status = 'created' RETURNING *`,
    {
      bind: [instructionId, now()],
      type: QueryTypes.SELECT,
      model: PaymentInstruction,
      mapToModel: true,
    },
  );
  if (!i) {
    const current = await PaymentInstruction.findByPk(instructionId);
    if (!current)
      throw new AppError('NOT_FOUND', `no instruction ${instructionId}`, [], { retryable: false });
    return `already ${current.status}`;
  }
  const res = await handOver(deps, i, true);
  if (!res.accepted) {
    return withTransaction(PaymentInstruction.sequelize!, (t) =>
      resolveInstruction(
        String(i.id),
        { status: 'failed', failReason: res.failReason ?? 'refused by the gateway' },
        t,
        deps,
      ),
    );
  }
  await PaymentInstruction.sequelize!.query(
    `UPDATE payment_instructions SET status = 'submitted', submitted_at = $4, gateway_txn_id = COALESCE(gateway_txn_id, $2),
            next_query_at = $3, updated_at = $4
      WHERE id = $1 AND status = ANY($5::text[])`,
    {
      bind: [
        i.id,
        res.gatewayTxnId ?? null,
        new Date(nowMs() + 60_000),
        now(),
        instructionMachine.sourcesOf(InstructionStatus.Submitted),
      ],
    },
  );
  return 'submitted';
}

/**
 * Hands several new instructions to the gateway at once (right after the commit that created
 * them). One that cannot be handed over now stays `created`; the instructions sweeper submits it
 * again after its grace period. Returns the outcome of each.
 */
export async function submitInstructions(
  deps: PaymentDeps,
  instructionIds: string[],
  { concurrency = 1 }: { concurrency?: number } = {},
): Promise<string[]> {
  // In order, `concurrency` at a time (1 with the sandbox: a seeded simulation replays the same
  // way; a real gateway's round trips are worth overlapping).
  const outcomes: string[] = new Array<string>(instructionIds.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, instructionIds.length) }, async () => {
      while (next < instructionIds.length) {
        const k = next++;
        outcomes[k] = await submitInstruction(deps, instructionIds[k]).catch(
          (err: Error) => `left for the sweeper: ${err.message}`,
        );
      }
    }),
  );
  return outcomes;
}

/**
 * The instruction.query job: asks the gateway about an instruction that has no final result.
 * A final answer resolves it like a callback would (a repeated decline of a payout is the
 * confirmation it waited for). Pending: marked unknown and asked again later (backoff). Not
 * found: handed over again (the gateway lost it, or never got it) — except a declined
 * instruction, whose decline it confirms.
 */
export async function queryInstruction(deps: PaymentDeps, instructionId: string): Promise<string> {
  const i = await PaymentInstruction.findByPk(instructionId);
  if (!i || !OPEN.has(i.status)) return `already ${i?.status ?? 'gone'}`;
  const s = await deps.gateway.query(String(i.id));
  const declined = i.status === InstructionStatus.Declined;
  if (s.status === 'success' || s.status === 'failed' || (declined && s.status === 'not_found')) {
    return withTransaction(PaymentInstruction.sequelize!, (t) =>
      resolveInstruction(
        String(i.id),
        {
          status: s.status === 'success' ? 'success' : 'failed',
          failReason: s.failReason ?? i.failReason ?? undefined,
          gatewayTxnId: s.gatewayTxnId,
          confirmed: true,
        },
        t,
        deps,
      ),
    );
  }
  if (s.status === 'not_found') {
    if (i.status === InstructionStatus.Created) return submitInstruction(deps, instructionId);
    const res = await handOver(deps, i);
    if (!res.accepted)
      return withTransaction(PaymentInstruction.sequelize!, (t) =>
        resolveInstruction(
          String(i.id),
          { status: 'failed', failReason: res.failReason ?? 'refused by the gateway' },
          t,
          deps,
        ),
      );
  }
  await PaymentInstruction.sequelize!.query(
    `UPDATE payment_instructions
        SET status = CASE WHEN status = ANY($4::text[]) THEN 'unknown' ELSE status END,
            query_attempts = query_attempts + 1,
            next_query_at = $2, updated_at = $3
      WHERE id = $1 AND status IN ('submitted', 'unknown', 'created', 'declined')`,
    {
      bind: [
        i.id,
        new Date(nowMs() + queryBackoffSeconds(i.queryAttempts) * 1000),
        now(),
        // submitted → unknown; the others keep their state and only their next query moves
        [InstructionStatus.Submitted].filter((f) =>
          instructionMachine.can(f, InstructionStatus.Unknown),
        ),
      ],
    },
  );
  // A buyer payment of the secondary market without an answer makes its order abnormal.
  if (i.purpose === 'transfer' && !declined) await markCreditOrderAbnormal(i.refId);
  return s.status === 'not_found' ? 'handed over again' : `still ${s.status}`;
}

/**
 * The instructions.sweep job: enqueues a status query for every instruction whose next query
 * is due (on the clock), and a new submit for any instruction left `created` (its submit job
 * lost) longer than `graceSeconds`. Writes nothing, so it enqueues directly, with
 * deterministic job ids.
 */
export async function sweepInstructions(
  queues: Map<string, Queue>,
  graceSeconds = 120,
): Promise<number> {
  const rows = await PaymentInstruction.sequelize!.query<{
    id: string;
    status: string;
    query_attempts: number;
    submit_attempts: number;
  }>(
    `SELECT id, status, query_attempts, submit_attempts FROM payment_instructions
      WHERE (status IN ('submitted', 'unknown', 'declined') AND next_query_at <= $1)
         OR (status = 'created' AND created_at < $2)
      ORDER BY id LIMIT 500`,
    { bind: [now(), new Date(nowMs() - graceSeconds * 1000)], type: QueryTypes.SELECT },
  );
  for (const r of rows) {
    if (r.status === 'created') {
      await enqueueDirect(
        queues,
        'instruction.submit',
        { instructionId: String(r.id) },
        { jobId: jobIds.instructionResubmit(r.id, r.submit_attempts) },
      );
    } else {
      await enqueueDirect(
        queues,
        'instruction.query',
        { instructionId: String(r.id) },
        { jobId: jobIds.instructionQuery(r.id, r.query_attempts) },
      );
    }
  }
  return rows.length;
}

/** A gateway callback body (SPEC §5). */
export interface CallbackBody {
  instructionId: string;
  gatewayTxnId: string;
  status: 'success' | 'failed';
  amount: number;
  failReason?: string;
}

/**
 * POST /callbacks/v1/payments: stores the callback as received and hands it to the
 * reconciliation job (outbox), nothing else; the route answers 200 at once.
 */
export async function recordCallback(
  body: CallbackBody,
  rawBody: string,
  signature: string,
): Promise<void> {
  // One autocommit statement: the callback and its reconcile job's outbox row together.
  let rows: { id: string; outbox_id: string | null }[];
  try {
    rows = await GatewayCallback.sequelize!.query(
      `WITH stored AS (
         INSERT INTO gateway_callbacks (instruction_id, gateway_txn_id, status, amount, fail_reason,
                                        raw_body, signature, received_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id, received_at),
       reconcile_job AS (SELECT jsonb_build_object('callbackId', id::text) AS payload,
                                received_at AS at FROM stored),
       ${outboxCte('payment.reconcile', 'reconcile_job')}
       SELECT stored.id::text AS id, (SELECT id FROM outbox_row)::text AS outbox_id FROM stored`,
      {
        bind: [
          body.instructionId,
          body.gatewayTxnId,
          body.status,
          String(body.amount),
          body.failReason ?? null,
          rawBody,
          signature,
          now(),
        ],
        type: QueryTypes.SELECT,
      },
    );
  } catch (err) {
    if (err instanceof UniqueConstraintError) return; // the same signed request, already stored
    throw err;
  }
  const [cb] = rows;
  if (cb.outbox_id)
    kickCommitted('payment.reconcile', [{ id: cb.outbox_id, payload: { callbackId: cb.id } }]);
}

/** Recovery: stored callbacks whose reconcile job was lost are applied again. */
export async function sweepCallbacks(
  queues: Map<string, Queue>,
  graceSeconds: number,
): Promise<number> {
  const rows = await GatewayCallback.sequelize!.query<{ id: string }>(
    `SELECT id FROM gateway_callbacks
      WHERE processed_at IS NULL AND received_at < $1
      ORDER BY id LIMIT 500`,
    { bind: [new Date(nowMs() - graceSeconds * 1000)], type: QueryTypes.SELECT },
  );
  return enqueueRecovery(
    queues,
    'payment.reconcile',
    'recover-callback',
    rows.map((r) => ({ key: String(r.id), payload: { callbackId: String(r.id) } })),
  );
}

/** The payment.reconcile job: applies one stored callback exactly once. */
export async function applyCallback(
  callbackId: string,
  opts: { declineConfirmSeconds?: number } = {},
): Promise<string> {
  return withTransaction(GatewayCallback.sequelize!, async (transaction) => {
    const cb = await GatewayCallback.findByPk(callbackId, {
      transaction,
      lock: Transaction.LOCK.NO_KEY_UPDATE,
    });
    if (!cb) throw new AppError('NOT_FOUND', `no callback ${callbackId}`, [], { retryable: false });
    if (cb.processedAt) return cb.outcome ?? 'processed';
    const outcome = await resolveInstruction(
      String(cb.instructionId),
      {
        status: cb.status === 'success' ? 'success' : 'failed',
        failReason: cb.failReason ?? undefined,
        amount: toIdr(cb.amount),
        gatewayTxnId: cb.gatewayTxnId ?? undefined,
      },
      transaction,
      opts,
    );
    await cb.update({ processedAt: now(), outcome }, { transaction });
    return outcome;
  });
}

/**
 * The gateway-sandbox.callback job: the sandbox gateway calling this API's callback route,
 * signed with GATEWAY_SECRET, as the real gateway would.
 */
export async function deliverSandboxCallback(
  gateway: GatewayPort,
  opts: { callbackUrl: string; secret: string },
  instructionId: string,
): Promise<string> {
  if (!(gateway instanceof SandboxGateway)) return 'not in sandbox mode';
  const body = await gateway.callbackBody(instructionId);
  if (!body) return 'no result to deliver';
  const url = new URL(opts.callbackUrl);
  await new SignedHttpClient({ baseUrl: url.origin, secret: opts.secret, retries: 0 }).post(
    url.pathname,
    body,
  );
  return `delivered ${body.status}`;
}
