import { QueryTypes, Transaction, UniqueConstraintError } from 'sequelize';
import type { Queue } from 'bullmq';
import type { GatewayPort } from '../../adapters/gateway';
import { SandboxGateway } from '../../adapters/gateway';
import { SignedHttpClient } from '../../adapters/http-client';
import type { PiiCipher } from '../../lib/crypto';
import { withTransaction } from '../../lib/db';
import { AppError } from '../../lib/errors';
import { toIdr } from '../../lib/money';
import { enqueueDirect } from '../../queues/queues';
import { BankCard } from '../banks/bank-card.model';
import { Loan } from '../loans/loan.model';
import { enqueueAfterCommit } from '../outbox/outbox.service';
import { markCreditOrderAbnormal } from '../transfers/credit-orders.service';
import { InstructionStatus, instructionMachine } from './instruction.states';
import { applyInstructionEffect, type InstructionResult } from './payment-effects';
import { GatewayCallback, PaymentInstruction } from './payment.model';

export interface PaymentDeps {
  gateway: GatewayPort;
  cipher: PiiCipher;
}

const RESOLVED = new Set([InstructionStatus.Succeeded, InstructionStatus.Failed]);

/** Next status query: 30 s, 1 min, 2 min … at most every 30 minutes. */
const queryBackoffSeconds = (attempts: number) => Math.min(30 * 2 ** attempts, 1800);

/**
 * Resolves an instruction with the gateway's final word, exactly once: the instruction row is
 * locked, a second result (duplicate callback, a query after a callback) finds it resolved and
 * changes nothing; a contradicting one or a wrong amount is recorded for finance, never applied.
 */
export async function resolveInstruction(
  instructionId: string,
  r: InstructionResult & { amount?: bigint; gatewayTxnId?: string },
  transaction: Transaction,
): Promise<string> {
  const i = await PaymentInstruction.findByPk(instructionId, {
    transaction,
    lock: Transaction.LOCK.UPDATE,
  });
  if (!i) return 'unknown instruction';
  const to = r.status === 'success' ? InstructionStatus.Succeeded : InstructionStatus.Failed;
  if (RESOLVED.has(i.status))
    return i.status === to ? 'duplicate' : `conflict: already ${i.status}, now told ${r.status}`;
  if (r.amount !== undefined && r.amount !== i.amount)
    return `amount mismatch: expected ${i.amount}, told ${r.amount}`;
  instructionMachine.assert(i.status, to);
  await i.update(
    {
      status: to,
      resolvedAt: new Date(),
      failReason: r.failReason ?? null,
      gatewayTxnId: r.gatewayTxnId ?? i.gatewayTxnId,
      nextQueryAt: null,
    },
    { transaction },
  );
  return applyInstructionEffect(i, r, transaction);
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

/**
 * The instruction.submit job: hands an instruction to the gateway outside any transaction, then
 * marks it submitted if nothing resolved it meanwhile. Re-running it re-submits the same
 * instruction id, which the gateway treats as one. A refusal resolves it as failed.
 */
export async function submitInstruction(deps: PaymentDeps, instructionId: string): Promise<string> {
  const i = await PaymentInstruction.findByPk(instructionId);
  if (!i)
    throw new AppError('NOT_FOUND', `no instruction ${instructionId}`, [], { retryable: false });
  if (i.status !== InstructionStatus.Created) return `already ${i.status}`;
  await PaymentInstruction.increment('submitAttempts', { where: { id: i.id } });
  const res = await deps.gateway.submit({
    instructionId: String(i.id),
    kind: i.kind,
    amount: i.amount,
    cardNo: await cardOf(deps.cipher, i),
  });
  if (!res.accepted) {
    return withTransaction(PaymentInstruction.sequelize!, (t) =>
      resolveInstruction(
        String(i.id),
        { status: 'failed', failReason: res.failReason ?? 'refused by the gateway' },
        t,
      ),
    );
  }
  await PaymentInstruction.sequelize!.query(
    `UPDATE payment_instructions SET status = 'submitted', submitted_at = now(), gateway_txn_id = COALESCE(gateway_txn_id, $2),
            next_query_at = now() + interval '60 seconds', updated_at = now()
      WHERE id = $1 AND status = 'created'`,
    { bind: [i.id, res.gatewayTxnId ?? null] },
  );
  return 'submitted';
}

/**
 * The instruction.query job: asks the gateway about an instruction that has no result yet.
 * Pending: marked unknown and asked again later (backoff). A final answer resolves it like a
 * callback would. Not found while still `created`: submitted again.
 */
export async function queryInstruction(deps: PaymentDeps, instructionId: string): Promise<string> {
  const i = await PaymentInstruction.findByPk(instructionId);
  if (!i || RESOLVED.has(i.status)) return `already ${i?.status ?? 'gone'}`;
  const s = await deps.gateway.query(String(i.id));
  if (s.status === 'success' || s.status === 'failed') {
    return withTransaction(PaymentInstruction.sequelize!, (t) =>
      resolveInstruction(
        String(i.id),
        {
          status: s.status as 'success' | 'failed',
          failReason: s.failReason,
          gatewayTxnId: s.gatewayTxnId,
        },
        t,
      ),
    );
  }
  if (s.status === 'not_found' && i.status === InstructionStatus.Created)
    return submitInstruction(deps, instructionId);
  await PaymentInstruction.sequelize!.query(
    `UPDATE payment_instructions
        SET status = CASE WHEN status = 'submitted' THEN 'unknown' ELSE status END,
            query_attempts = query_attempts + 1,
            next_query_at = now() + make_interval(secs => $2), updated_at = now()
      WHERE id = $1 AND status IN ('submitted', 'unknown', 'created')`,
    { bind: [i.id, queryBackoffSeconds(i.queryAttempts)] },
  );
  // A buyer payment of the secondary market without an answer makes its order abnormal.
  if (i.purpose === 'transfer') await markCreditOrderAbnormal(i.refId);
  return `still ${s.status}`;
}

/**
 * The instructions.sweep job: enqueues a status query for every instruction whose next query
 * is due, and a new submit for any instruction left `created` (its submit job lost) for two
 * minutes. Writes nothing, so it enqueues directly, with deterministic job ids.
 */
export async function sweepInstructions(queues: Map<string, Queue>): Promise<number> {
  const rows = await PaymentInstruction.sequelize!.query<{
    id: string;
    status: string;
    query_attempts: number;
    submit_attempts: number;
  }>(
    `SELECT id, status, query_attempts, submit_attempts FROM payment_instructions
      WHERE (status IN ('submitted', 'unknown') AND next_query_at <= now())
         OR (status = 'created' AND created_at < now() - interval '2 minutes')
      ORDER BY id LIMIT 500`,
    { type: QueryTypes.SELECT },
  );
  for (const r of rows) {
    if (r.status === 'created') {
      await enqueueDirect(
        queues,
        'instruction.submit',
        { instructionId: String(r.id) },
        { jobId: `resubmit-${r.id}-${r.submit_attempts}` },
      );
    } else {
      await enqueueDirect(
        queues,
        'instruction.query',
        { instructionId: String(r.id) },
        { jobId: `query-${r.id}-${r.query_attempts}` },
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
  try {
    await withTransaction(GatewayCallback.sequelize!, async (transaction) => {
      const cb = await GatewayCallback.create(
        {
          instructionId: body.instructionId,
          gatewayTxnId: body.gatewayTxnId,
          status: body.status,
          amount: BigInt(body.amount),
          failReason: body.failReason ?? null,
          rawBody,
          signature,
        },
        { transaction },
      );
      await enqueueAfterCommit('payment.reconcile', { callbackId: String(cb.id) }, { transaction });
    });
  } catch (err) {
    if (err instanceof UniqueConstraintError) return; // the same signed request, already stored
    throw err;
  }
}

/** The payment.reconcile job: applies one stored callback exactly once. */
export async function applyCallback(callbackId: string): Promise<string> {
  return withTransaction(GatewayCallback.sequelize!, async (transaction) => {
    const cb = await GatewayCallback.findByPk(callbackId, {
      transaction,
      lock: Transaction.LOCK.UPDATE,
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
    );
    await cb.update({ processedAt: new Date(), outcome }, { transaction });
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
