import { QueryTypes, Transaction } from 'sequelize';
import type { Queue } from 'bullmq';
import type { PartnerPort } from '../../adapters/partner';
import type { Config } from '../../../config';
import type { PiiCipher } from '../../lib/crypto';
import { sha256Hex } from '../../lib/crypto';
import { withTransaction } from '../../lib/db';
import { createOnce } from '../../lib/create-once';
import { AppError, isAppError } from '../../lib/errors';
import { now, nowMs } from '../../lib/clock';
import { planted } from '../../lib/plants';
import { idrToJson, toIdr } from '../../lib/money';
import { BankCard } from '../banks/bank-card.model';
import { KycVerification } from '../kyc/kyc.model';
import { KycStatus } from '../kyc/kyc.states';
import { AccountType, investorAccount, platformAccount } from '../ledger/ledger.accounts';
import { LedgerKind } from '../ledger/ledger.kinds';
import { getBalances, postTransaction } from '../ledger/ledger.service';
import { Loan } from '../loans/loan.model';
import { LoanStatus } from '../loans/loan.states';
import { enqueueRecovery } from '../../queues/queues';
import { enqueueAfterCommit, kickCommitted, outboxCte } from '../outbox/outbox.service';
import { createInstruction } from '../payments/instructions';
import { User } from '../users/user.model';
import { claimPendingOrders } from './order-claim';
import { Asset } from '../assets/asset.model';
import { Order } from './order.model';
import { OrderFailCode, OrderStatus, orderMachine } from './order.states';
import { AssetStatus } from '../assets/asset.states';

/** The SPEC's order out. */
export const orderView = (o: Order) => ({
  id: String(o.id),
  creditorNo: o.creditorNo,
  amount: idrToJson(o.amount),
  payWith: o.payWith,
  source: o.source,
  status: o.status,
  failCode: o.failCode,
  failReason: o.failReason,
  createdAt: o.createdAt,
  paidAt: o.paidAt,
});

/** One of the investor's orders (404 when it is another investor's). */
export async function orderDetail(userId: string, orderId: string) {
  const order = await Order.findOne({ where: { id: orderId, userId } });
  if (!order) throw new AppError('NOT_FOUND', 'no such order');
  return orderView(order);
}

/**
 * POST /api/v1/orders: records a pending order and hands it to the lock job (outbox), nothing
 * else. Idempotency-Key: the same key and body return the same order; another body is 409.
 */
export async function placeOrder(
  userId: string,
  input: { creditorNo: string; amount: number; payWith: 'card' | 'wallet' },
  idempotencyKey?: string,
): Promise<Order> {
  return createOnce({
    idempotencyKey,
    requestHash: sha256Hex(JSON.stringify([input.creditorNo, input.amount, input.payWith])),
    conflict: 'another order',
    findPrior: () => Order.findOne({ where: { userId, idempotencyKey } }),
    create: () => insertOrder(userId, input, idempotencyKey),
  });
}

/**
 * One autocommit statement: the loan looked up, the order and its lock job's outbox row written
 * together (no transaction round trips on the busiest route); the job kicked after it.
 */
async function insertOrder(
  userId: string,
  input: { creditorNo: string; amount: number; payWith: 'card' | 'wallet' },
  idempotencyKey: string | undefined,
): Promise<Order> {
  const rows = await Order.sequelize!.query(
    `WITH loan AS (SELECT id, creditor_no FROM loans WHERE creditor_no = $2),
     placed AS (
       INSERT INTO orders (user_id, loan_id, creditor_no, amount, pay_with, status,
                           idempotency_key, request_hash, created_at, updated_at)
       SELECT $1, loan.id, loan.creditor_no, $3, $4, 'pending', $5, $6, $7, $7 FROM loan
       RETURNING *),
     lock_job AS (SELECT jsonb_build_object('orderId', id::text) AS payload, created_at AS at
                    FROM placed),
     ${outboxCte('order.lock', 'lock_job')}
     SELECT placed.*, (SELECT id FROM outbox_row)::text AS outbox_id FROM placed`,
    {
      bind: [
        userId,
        input.creditorNo,
        String(input.amount),
        input.payWith,
        idempotencyKey ?? null,
        sha256Hex(JSON.stringify([input.creditorNo, input.amount, input.payWith])),
        now(),
      ],
      type: QueryTypes.SELECT,
      model: Order,
      mapToModel: true,
    },
  );
  if (rows.length === 0)
    throw new AppError('NOT_FOUND', `no loan ${input.creditorNo}`, [
      { path: 'creditorNo', message: 'no such loan' },
    ]);
  const order = rows[0];
  const outboxId = order.get('outbox_id') as string | null;
  if (outboxId)
    kickCommitted('order.lock', [{ id: outboxId, payload: { orderId: String(order.id) } }]);
  return order;
}

/** A rule the lock job found broken: the order is rejected with this code. */
class RuleBroken extends Error {
  constructor(
    readonly code: OrderFailCode,
    readonly reason: string,
  ) {
    super(reason);
  }
}

export interface LockDeps {
  cipher: PiiCipher;
  partner: PartnerPort;
  config: Readonly<Config>;
  /**
   * Hands a batch's new collection instructions to the gateway right after its commit (one hop
   * less per purchase). Without it they go through `instruction.submit` jobs. Either way an
   * instruction left `created` is found again by the instructions sweeper.
   */
  submit?: (instructionIds: string[]) => Promise<unknown>;
}

/**
 * The investor's total at risk (INVESTOR_LIMIT_AMOUNT, seed #13 限额): principal still invested
 * (primary and secondary assets alike), shares locked and not yet paid, and the principal of
 * secondary-market orders in flight.
 */
export async function outstandingOf(userId: string, transaction?: Transaction): Promise<bigint> {
  const invested =
    (await getBalances([investorAccount(userId, 'invested')], { transaction })).values().next()
      .value ?? 0n;
  const [row] = await Order.sequelize!.query<{ total: string }>(
    `SELECT ((SELECT COALESCE(SUM(amount), 0) FROM orders WHERE user_id = $1 AND holds_lock)
           + (SELECT COALESCE(SUM(principal), 0) FROM credit_orders
               WHERE buyer_id = $1 AND status IN ('initial', 'processing', 'abnormal')))::text AS total`,
    { bind: [userId], type: QueryTypes.SELECT, transaction },
  );
  return invested + toIdr(row.total);
}

/**
 * The order.lock job: applies every purchase rule of SPEC §3 (each failure stored with its code
 * and reason), reserves the share with one conditional UPDATE that can never oversell, and
 * starts the payment: a wallet order is paid from the wallet at once (available → locked →
 * invested); a card order gets a gateway collection instruction and a lock expiry. Runs once
 * in effect however often it is run: anything but a pending order is left alone. The order is
 * normally decided in a batch with its loan's other pending orders (`claimPendingOrders`);
 * the single-order path below takes the rest, with the same rules.
 */
export async function lockOrder(deps: LockDeps, orderId: string): Promise<OrderStatus> {
  const order = await Order.findByPk(orderId);
  if (!order) throw new AppError('NOT_FOUND', `no order ${orderId}`, [], { retryable: false });
  if (order.status !== OrderStatus.Pending) return order.status;
  // The common case: this order is decided with the loan's other pending orders, in one batch.
  if ((await claimPendingOrders(deps, order.loanId)).includes(orderId)) {
    return (await Order.findByPk(orderId))!.status;
  }
  // Not in that batch (another batch holds it, it is beyond the batch's size, or the partner
  // could not be asked): on its own, waiting for its row.
  try {
    const card = await checkInvestorRules(deps, order);
    return await withTransaction(Order.sequelize!, (transaction) =>
      reserveAndPay(deps, orderId, card, transaction),
    );
  } catch (err) {
    const broken =
      err instanceof RuleBroken
        ? err
        : isAppError(err) && err.code === 'INSUFFICIENT_BALANCE'
          ? new RuleBroken(
              OrderFailCode.InsufficientBalance,
              'the wallet balance is lower than the amount',
            )
          : undefined;
    if (!broken) throw err;
    return withTransaction(Order.sequelize!, async (transaction) => {
      const o = (await Order.findByPk(orderId, {
        transaction,
        lock: Transaction.LOCK.NO_KEY_UPDATE,
      }))!;
      if (o.status !== OrderStatus.Pending) return o.status;
      await orderMachine.transition(
        o,
        OrderStatus.Rejected,
        { failCode: broken.code, failReason: broken.reason, endedAt: now() },
        { transaction },
      );
      return OrderStatus.Rejected;
    });
  }
}

/**
 * Seed #11: does the investor have an active loan at the partner? Asked with the verified
 * identity (name, NIK, mobile), outside any transaction (a network call). No KYC: false.
 */
export async function hasPartnerLoan(
  deps: { partner: PartnerPort; cipher: PiiCipher },
  userId: string,
): Promise<boolean> {
  const kyc = await KycVerification.findOne({
    where: { userId, status: KycStatus.Verified },
    order: [['id', 'DESC']],
  });
  if (!kyc) return false;
  const user = await User.findByPk(userId);
  return deps.partner.hasActiveLoan({
    name: kyc.realName,
    idCardNo: deps.cipher.decrypt(kyc.nikEncrypted),
    mobile: user?.mobile ?? '',
  });
}

/**
 * The identities the partner check needs (latest verified KYC and mobile) of many investors in
 * one read; an investor without a verified KYC is absent (no identity: no partner loan).
 */
export async function partnerIdentities(
  cipher: PiiCipher,
  userIds: string[],
): Promise<Map<string, { name: string; idCardNo: string; mobile: string }>> {
  const rows = await KycVerification.sequelize!.query<{
    user_id: string;
    real_name_encrypted: string;
    nik_encrypted: string;
    mobile_encrypted: string | null;
  }>(
    `SELECT DISTINCT ON (k.user_id) k.user_id, k.real_name_encrypted, k.nik_encrypted, u.mobile_encrypted
       FROM kyc_verifications k JOIN users u ON u.id = k.user_id
      WHERE k.user_id = ANY($1::bigint[]) AND k.status = $2
      ORDER BY k.user_id, k.id DESC`,
    { bind: [userIds, KycStatus.Verified], type: QueryTypes.SELECT },
  );
  return new Map(
    rows.map((r) => [
      String(r.user_id),
      {
        name: cipher.decrypt(r.real_name_encrypted),
        idCardNo: cipher.decrypt(r.nik_encrypted),
        mobile: r.mobile_encrypted ? cipher.decrypt(r.mobile_encrypted) : '',
      },
    ]),
  );
}

/** Partner checks in flight at once for a batch of investors (each is a network call in http mode). */
export const PARTNER_CONCURRENCY = 8;

/**
 * Seed #11 for many investors at once, outside any transaction: the partner's answer per
 * investor — true, false, or undefined when it could not say (never taken as "no loan") —
 * PARTNER_CONCURRENCY calls at a time. An investor without a verified identity has no partner
 * loan (no call). Used by the lock step's batch and by the auto-invest allocation.
 */
export async function partnerAnswers(
  deps: { cipher: PiiCipher; partner: PartnerPort },
  userIds: string[],
): Promise<Map<string, boolean | undefined>> {
  const identities = await partnerIdentities(deps.cipher, userIds);
  const answers = new Map<string, boolean | undefined>();
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(PARTNER_CONCURRENCY, userIds.length) }, async () => {
      while (next < userIds.length) {
        const u = userIds[next++];
        const person = identities.get(u);
        try {
          answers.set(u, person ? await deps.partner.hasActiveLoan(person) : false);
        } catch {
          answers.set(u, undefined);
        }
      }
    }),
  );
  return answers;
}

/** Rules about the investor (outside the transaction: the partner check is a network call). */
async function checkInvestorRules(deps: LockDeps, order: Order): Promise<BankCard> {
  const user = await User.findByPk(order.userId);
  if (user?.kycStatus !== KycStatus.Verified)
    throw new RuleBroken(OrderFailCode.KycNotVerified, 'the investor is not KYC verified');
  const card = await BankCard.findOne({ where: { userId: order.userId, status: 'active' } });
  if (!card) throw new RuleBroken(OrderFailCode.NoBankCard, 'the investor has no bank card bound');
  const { minInvestAmount, investStepAmount } = deps.config;
  if (order.amount < minInvestAmount)
    throw new RuleBroken(
      OrderFailCode.AmountTooSmall,
      `the amount is below the minimum of ${minInvestAmount}`,
    );
  if (order.amount % investStepAmount !== 0n) {
    throw new RuleBroken(
      OrderFailCode.AmountNotStep,
      `the amount must be a multiple of ${investStepAmount}`,
    );
  }
  let partnerLoan: boolean;
  try {
    partnerLoan = await hasPartnerLoan(deps, order.userId);
  } catch (err) {
    // Cannot tell (the partner is down or answered something odd): never "no loan". The order
    // waits and its job retries; once it has waited PARTNER_CHECK_GIVE_UP_MS it is rejected.
    if (nowMs() - order.createdAt.getTime() >= PARTNER_CHECK_GIVE_UP_MS)
      throw new RuleBroken(
        OrderFailCode.PartnerCheckUnavailable,
        'the partner could not say whether the investor has an active loan there; try again later',
      );
    throw err;
  }
  if (partnerLoan)
    throw new RuleBroken(
      OrderFailCode.HasPartnerLoan,
      'the investor has an active loan at the partner',
    );
  return card;
}

/**
 * How long an order waits for the partner's active-loan answer (seed #11) before it is rejected
 * with PARTNER_CHECK_UNAVAILABLE: inside the lock job's retry span (≈ 17 minutes of backoff),
 * so the last retries reject it rather than leaving it pending for the recovery sweeper.
 */
export const PARTNER_CHECK_GIVE_UP_MS = 10 * 60_000;

/** Locks rows user → order → loan (the fixed order), reserves the share and starts payment. */
async function reserveAndPay(
  deps: LockDeps,
  orderId: string,
  card: BankCard,
  transaction: Transaction,
): Promise<OrderStatus> {
  const peek = (await Order.findByPk(orderId, { transaction }))!;
  await User.findByPk(peek.userId, { transaction, lock: Transaction.LOCK.NO_KEY_UPDATE });
  const order = (await Order.findByPk(orderId, {
    transaction,
    lock: Transaction.LOCK.NO_KEY_UPDATE,
  }))!;
  if (order.status !== OrderStatus.Pending) return order.status;
  const outstanding = await outstandingOf(order.userId, transaction);
  if (outstanding + order.amount > deps.config.investorLimitAmount) {
    throw new RuleBroken(
      OrderFailCode.OverLimit,
      `the investor's outstanding total would exceed ${deps.config.investorLimitAmount}`,
    );
  }
  const at = now();
  const expiresAt = new Date(at.getTime() + deps.config.lockTtlSeconds * 1000);
  // Everything else first: the loan row (the hot row every buyer of the loan waits for) is
  // touched by the last statement before COMMIT, so it is held for one round trip.
  await orderMachine.transition(
    order,
    OrderStatus.Locked,
    { holdsLock: true, lockedAt: at, lockExpiresAt: expiresAt },
    { transaction },
  );
  let status: OrderStatus;
  if (order.payWith === 'wallet') {
    await postTransaction(
      {
        kind: LedgerKind.PurchaseLock,
        idempotencyKey: `order:${order.id}:lock`,
        metadata: { orderId: String(order.id) },
        entries: [
          { account: investorAccount(order.userId, 'available'), amount: -order.amount },
          { account: investorAccount(order.userId, 'locked'), amount: order.amount },
        ],
      },
      { transaction },
    );
    // Reserved and bought at once: locked_amount is never raised for a wallet order.
    await completePurchase(order, 'wallet', transaction, { reserved: false });
    status = OrderStatus.Paid;
  } else {
    await createInstruction(
      {
        kind: 'collection',
        purpose: 'order',
        refId: String(order.id),
        userId: order.userId,
        amount: order.amount,
        bankCardId: String(card.id),
      },
      { transaction },
    );
    await orderMachine.transition(order, OrderStatus.Paying, {}, { transaction });
    await enqueueAfterCommit(
      'order.expire',
      { orderId: String(order.id) },
      { transaction, runAt: expiresAt },
    );
    if (!(await reserveShare(order, at, transaction)))
      await refuseReservation(order, at, transaction);
    status = OrderStatus.Paying;
  }
  return status;
}

/**
 * The loan had no room (or closed) when the share was to be reserved: throws the rule broken,
 * which rolls back everything the transaction wrote for this order.
 */
async function refuseReservation(order: Order, at: Date, transaction: Transaction): Promise<never> {
  const loan = (await Loan.findByPk(order.loanId, { transaction }))!;
  if (loan.status !== LoanStatus.Open || loan.deadline.getTime() <= at.getTime()) {
    throw new RuleBroken(
      OrderFailCode.LoanNotOpen,
      `the loan is ${loan.status === LoanStatus.Open ? 'past its deadline' : loan.status}`,
    );
  }
  throw new RuleBroken(
    OrderFailCode.NotEnoughRoom,
    `only ${loan.amount - loan.lockedAmount - loan.boughtAmount} of the loan is left`,
  );
}

/**
 * Turns an order's money into a holding: the ledger moves the money into `invested`, the asset
 * is created, the order is paid, and last (the loan row is the hot row: held for one round trip
 * before COMMIT) the loan's share moves locked → bought. An order that reserved nothing
 * (`reserved: false`, a wallet purchase) is bought directly with the same room check as a
 * reservation; no room throws the rule broken, rolling the purchase back. The caller holds the
 * order row lock.
 */
export async function completePurchase(
  order: Order,
  source: 'wallet' | 'card',
  transaction: Transaction,
  { reserved = true }: { reserved?: boolean } = {},
): Promise<void> {
  const at = now();
  await postTransaction(
    {
      kind: LedgerKind.PurchasePaid,
      idempotencyKey: `order:${order.id}:paid`,
      metadata: { orderId: String(order.id), loanId: String(order.loanId) },
      entries: [
        source === 'wallet'
          ? { account: investorAccount(order.userId, 'locked'), amount: -order.amount }
          : { account: platformAccount(AccountType.Escrow), amount: -order.amount },
        {
          account: investorAccount(order.userId, 'invested'),
          amount: order.amount,
          memo: 'principal',
        },
      ],
    },
    { transaction },
  );
  await Asset.create(
    {
      userId: order.userId,
      loanId: order.loanId,
      orderId: order.id,
      principal: order.amount,
      maxTradableAmount: order.amount,
      tradeCount: 0,
      status: AssetStatus.Holding,
    },
    { transaction },
  );
  await orderMachine.transition(
    order,
    OrderStatus.Paid,
    { holdsLock: false, paidAt: at, endedAt: at, failCode: null, failReason: null },
    { transaction },
  );
  const [loan] = await Order.sequelize!.query<{ full: boolean }>(
    reserved
      ? `UPDATE loans SET locked_amount = locked_amount - $2, bought_amount = bought_amount + $2, updated_at = $3
          WHERE id = $1 RETURNING bought_amount = amount AS full`
      : `UPDATE loans SET bought_amount = bought_amount + $2, updated_at = $3
          WHERE id = $1 AND status = 'open' AND deadline > $3 AND locked_amount + bought_amount + $2 <= amount
          RETURNING bought_amount = amount AS full`,
    { bind: [order.loanId, order.amount.toString(), at], type: QueryTypes.SELECT, transaction },
  );
  if (!loan) return refuseReservation(order, at, transaction);
  // Bought out: settle now rather than at the deadline.
  if (loan.full)
    await enqueueAfterCommit('loan.settle', { loanId: String(order.loanId) }, { transaction });
}

/**
 * The order.expire job: an order still waiting for its payment when the lock expires gives its
 * share back (exactly once: `holds_lock` is cleared with it) and becomes expired. A payment
 * that succeeds later is handled by the payment result (re-lock or refund).
 */
export async function expireOrder(orderId: string): Promise<string> {
  return withTransaction(Order.sequelize!, async (transaction) => {
    const order = await Order.findByPk(orderId, {
      transaction,
      lock: Transaction.LOCK.NO_KEY_UPDATE,
    });
    if (!order) throw new AppError('NOT_FOUND', `no order ${orderId}`, [], { retryable: false });
    if (!order.holdsLock || ![OrderStatus.Locked, OrderStatus.Paying].includes(order.status))
      return `already ${order.status}`;
    if (nowMs() < order.lockExpiresAt!.getTime())
      throw new AppError('CONFLICT', `order ${orderId}'s lock has not expired yet`, [], {
        retryable: true,
      });
    await releaseLock(order, transaction);
    await orderMachine.transition(
      order,
      OrderStatus.Expired,
      {
        failCode: OrderFailCode.LockExpired,
        failReason: 'the lock expired before the payment arrived',
        endedAt: now(),
      },
      { transaction },
    );
    return OrderStatus.Expired;
  });
}

/**
 * Reserves an order's share with ONE conditional UPDATE that can never oversell: the loan is
 * open, before its deadline (on the clock's time) and has room. True when reserved.
 */
async function reserveShare(order: Order, at: Date, transaction: Transaction): Promise<boolean> {
  const rows = await Order.sequelize!.query<{ id: string }>(
    `UPDATE loans SET locked_amount = locked_amount + $2, updated_at = $3
      WHERE id = $1 AND status = 'open' AND deadline > $3 AND locked_amount + bought_amount + $2 <= amount
      RETURNING id`,
    { bind: [order.loanId, order.amount.toString(), at], type: QueryTypes.SELECT, transaction },
  );
  return rows.length > 0;
}

/**
 * A card payment that succeeded after its order expired or failed: the money is the investor's
 * share if the loan still has room (re-locked and paid), else it is refunded (refunding: held
 * for the investor until the payout back to the card). The caller holds the order row.
 */
export async function relockLatePayment(
  order: Order,
  bankCardId: string | null,
  transaction: Transaction,
): Promise<string> {
  if (await reserveShare(order, now(), transaction)) {
    await order.update({ holdsLock: true }, { transaction });
    await completePurchase(order, 'card', transaction);
    return 'late payment re-locked; order paid';
  }
  await postTransaction(
    {
      kind: LedgerKind.PurchaseRefund,
      idempotencyKey: `order:${order.id}:refund-in`,
      metadata: { orderId: String(order.id) },
      entries: [
        { account: platformAccount(AccountType.Escrow), amount: -order.amount },
        { account: investorAccount(order.userId, 'locked'), amount: order.amount, memo: 'refund' },
      ],
    },
    { transaction },
  );
  await orderMachine.transition(
    order,
    OrderStatus.Refunding,
    { failReason: `${order.failReason ?? ''} (paid late; no room left: refunding)`.trim() },
    { transaction },
  );
  await createInstruction(
    {
      kind: 'payout',
      purpose: 'refund',
      refId: String(order.id),
      userId: order.userId,
      amount: order.amount,
      bankCardId,
    },
    { transaction },
  );
  return 'late payment without room; refunding';
}

/** Gives an order's reserved share back to the loan (the caller clears holds_lock with it). */
export async function releaseLock(order: Order, transaction: Transaction): Promise<void> {
  if (!order.holdsLock) return;
  if (!planted('lost-release'))
    await Order.sequelize!.query(
      'UPDATE loans SET locked_amount = locked_amount - $2, updated_at = $3 WHERE id = $1',
      {
        bind: [order.loanId, order.amount.toString(), now()],
        transaction,
      },
    );
  await order.update({ holdsLock: false }, { transaction });
}

/**
 * Recovery: pending orders whose lock job was lost get it again; orders still holding a lock
 * past its expiry get their expiry job again (the share comes back to the loan).
 */
export async function sweepOrders(
  queues: Map<string, Queue>,
  graceSeconds: number,
): Promise<{ lock: number; expire: number }> {
  const pending = await Order.sequelize!.query<{ id: string }>(
    `SELECT id FROM orders WHERE status = 'pending' AND created_at < $1 ORDER BY id LIMIT 500`,
    { bind: [new Date(nowMs() - graceSeconds * 1000)], type: QueryTypes.SELECT },
  );
  const expired = await Order.sequelize!.query<{ id: string }>(
    `SELECT id FROM orders WHERE holds_lock AND lock_expires_at < $1 ORDER BY id LIMIT 500`,
    { bind: [new Date(nowMs() - graceSeconds * 1000)], type: QueryTypes.SELECT },
  );
  const ids = (rows: { id: string }[]) =>
    rows.map((r) => ({ key: String(r.id), payload: { orderId: String(r.id) } }));
  await enqueueRecovery(queues, 'order.lock', 'recover-lock', ids(pending));
  await enqueueRecovery(queues, 'order.expire', 'recover-expire', ids(expired));
  return { lock: pending.length, expire: expired.length };
}
