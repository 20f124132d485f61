import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import type { Transaction } from 'sequelize';
import { reconcile } from '../../src/modules/reconciliation/reconciliation.service';
import { QueueName } from '../../src/queues/queues';
import { testDb } from '../helpers/context';
import { disbursedLoan, startMarket, type Market } from '../helpers/market';

/**
 * Every discrepancy reconcile knows, injected one at a time into a sound, disbursed loan inside
 * a transaction that reconcile reads through and that is then rolled back: nothing the test
 * breaks outlives it, and no other test (or run) sees it.
 */
describe('reconcile finds every kind of discrepancy', function () {
  this.timeout(60_000);
  let m: Market;
  let creditorNo: string;
  let loanId: string;
  let cardUser: string;
  let cardAsset: string;
  let cardOrder: string;
  let cardInstruction: string;

  before(async () => {
    m = await startMarket('reconciliation', {
      queues: [QueueName.Loans, QueueName.Orders, QueueName.Payments],
    });
    const { loan, investors } = await disbursedLoan(
      m,
      { term: 3, termUnit: 'month', repaymentMethod: 'monthly_interest' },
      [
        { amount: 1_000_000, pay: 'card' },
        { amount: 2_000_000, pay: 'wallet' },
      ],
    );
    creditorNo = loan.creditorNo;
    loanId = String(loan.id);
    cardUser = investors[0].userId;
    const [[row]] = (await testDb().query(
      `SELECT a.id::text AS asset, o.id::text AS "order", i.id::text AS instruction
         FROM assets a JOIN orders o ON o.id = a.order_id
         JOIN payment_instructions i ON i.purpose = 'order' AND i.ref_id = o.id
        WHERE a.loan_id = $1 AND a.user_id = $2`,
      { bind: [loanId, cardUser] },
    )) as [Record<string, string>[], unknown];
    ({ asset: cardAsset, order: cardOrder, instruction: cardInstruction } = row);
  });
  after(async () => m.stop());

  /** What each injection breaks, in the transaction reconcile then reads through. */
  const INJECT: Record<string, (sql: (text: string) => Promise<unknown>) => Promise<unknown>> = {
    'ledger.cached_balance': (sql) =>
      sql(`UPDATE accounts SET balance = balance + 1 WHERE code = 'investor:${cardUser}:invested'`),
    'ledger.unbalanced': (sql) => unbalancedEntry(sql, 'unbalanced'),
    'ledger.trial_balance': (sql) => unbalancedEntry(sql, 'trial'),
    'order.paid_without_asset': (sql) =>
      sql(`UPDATE assets SET order_id = NULL WHERE id = ${cardAsset}`),
    'instruction.order_not_settled': (sql) =>
      sql(`UPDATE orders SET status = 'expired' WHERE id = ${cardOrder}`),
    'instruction.unresolved': (sql) =>
      sql(`UPDATE payment_instructions SET status = 'submitted', created_at = now() - interval '2 days'
            WHERE id = ${cardInstruction}`),
    'instruction.held': (sql) =>
      sql(`UPDATE payment_instructions SET status = 'held', fail_reason = 'amount differs'
            WHERE id = ${cardInstruction}`),
    'instruction.not_applied': (sql) =>
      sql(`UPDATE payment_instructions SET outcome = 'late success not applied: recover it', acknowledged_at = NULL
            WHERE id = ${cardInstruction}`),
    'callback.not_applied': (sql) =>
      sql(`UPDATE gateway_callbacks SET outcome = 'amount mismatch: 1', acknowledged_at = NULL,
                  processed_at = COALESCE(processed_at, now())
            WHERE instruction_id = ${cardInstruction}`),
    'loan.bought_vs_orders': (sql) =>
      sql(`UPDATE loans SET bought_amount = bought_amount - 100000 WHERE id = ${loanId}`),
    'auto_invest.allocated_vs_orders': (sql) =>
      sql(`UPDATE auto_invest_allocations SET allocated = allocated + 1 WHERE loan_id = ${loanId}`),
    'loan.schedule_principal': (sql) =>
      sql(
        `UPDATE repayment_plans SET principal = principal + 1 WHERE loan_id = ${loanId} AND period = 1`,
      ),
    // One holder's principal moved between two of its periods: every total stays right.
    'loan.plan_vs_holders': (sql) =>
      sql(`UPDATE repayment_schedules SET principal = principal + CASE WHEN period = 1 THEN 1 ELSE -1 END
            WHERE asset_id = ${cardAsset} AND period IN (1, 3)`),
    'loan.outstanding_vs_assets': (sql) =>
      sql(`UPDATE repayment_plans SET status = 'paid' WHERE loan_id = ${loanId} AND period = 3`),
    'asset.amount_vs_rows': (sql) =>
      sql(
        `UPDATE repayment_schedules SET status = 'paid' WHERE asset_id = ${cardAsset} AND period = 3`,
      ),
    'asset.tradable': (sql) =>
      sql(
        `UPDATE assets SET max_tradable_amount = max_tradable_amount - 100000 WHERE id = ${cardAsset}`,
      ),
    'note.reserved_vs_orders': (sql) =>
      sql(`INSERT INTO credit_notes (asset_id, user_id, loan_id, amount, reserved_amount, config, end_time)
           VALUES (${cardAsset}, ${cardUser}, ${loanId}, 100000, 100000, '{}', now() + interval '1 day')`),
    'investor.invested_vs_assets': (sql) =>
      sql(`UPDATE assets SET principal = principal - 1, max_tradable_amount = max_tradable_amount - 1
            WHERE id = ${cardAsset}`),
    'repayment.held': (sql) =>
      sql(`INSERT INTO repayments (repayment_no, loan_id, creditor_no, period, principal, interest, late_fee,
                                   overdue_service_fee, total, paid_at, body_hash, status, hold_code, hold_reason)
           VALUES ('RECON-${loanId}', ${loanId}, '${creditorNo}', 1, 0, 1, 0, 0, 1, now(), 'x', 'held',
                   'INTEREST_SHORT', 'injected')`),
    'loan.disburse_failed': (sql) =>
      sql(`UPDATE loans SET status = 'disburse_failed' WHERE id = ${loanId}`),
  };

  /** A posting of one rupiah to escrow with no other side (the commit-time trigger never runs). */
  async function unbalancedEntry(sql: (text: string) => Promise<unknown>, tag: string) {
    await sql(`WITH t AS (INSERT INTO ledger_transactions (kind, idempotency_key, entries_hash)
                          VALUES ('adjustment', 'recon-test-${tag}-${loanId}', 'x') RETURNING id)
               INSERT INTO ledger_entries (transaction_id, account_id, amount)
               SELECT t.id, a.id, 1 FROM t, accounts a WHERE a.code = 'escrow'`);
  }

  async function inside(inject: (sql: (text: string) => Promise<unknown>) => Promise<unknown>) {
    const t: Transaction = await testDb().transaction();
    try {
      await inject((text) => testDb().query(text, { transaction: t }));
      return (await reconcile(testDb(), { loans: [creditorNo] }, { transaction: t })).map(
        (x) => x.check,
      );
    } finally {
      await t.rollback();
    }
  }

  it('when nothing is broken, then the loan reconciles clean', async () => {
    expect(await reconcile(testDb(), { loans: [creditorNo] })).to.deep.equal([]);
    expect(await inside(async () => undefined)).to.deep.equal([]);
  });

  it('when the code knows a check, then this test injects it', () => {
    const source = fs.readFileSync(
      path.resolve(__dirname, '../../src/modules/reconciliation/reconciliation.service.ts'),
      'utf8',
    );
    const checks = [...source.matchAll(/check: '([a-z_.]+)'/g)].map(([, c]) => c);
    expect(checks.length).to.be.greaterThan(15);
    expect(Object.keys(INJECT)).to.have.members(checks);
  });

  for (const check of Object.keys(INJECT))
    it(`when ${check} is broken, then reconcile lists it (and nothing outlives the test)`, async () => {
      expect(await inside(INJECT[check])).to.include(check);
      expect(await reconcile(testDb(), { loans: [creditorNo] })).to.deep.equal([]);
    });
});
