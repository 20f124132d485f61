import { expect } from 'chai';
import fc from 'fast-check';
import { withTransaction } from '../../src/lib/db';
import { AppError } from '../../src/lib/errors';
import {
  AccountType,
  accountCode,
  investorAccount,
  platformAccount,
  type AccountRef,
} from '../../src/modules/ledger/ledger.accounts';
import { LedgerKind } from '../../src/modules/ledger/ledger.kinds';
import {
  checkLedger,
  getBalances,
  postTransaction,
  postTransactions,
  reverseTransaction,
  type Posting,
} from '../../src/modules/ledger/ledger.service';
import { createInvestor, testDb } from '../helpers/context';

let keySeq = 0;
const key = (label: string) => `test:${label}:${process.pid}:${Date.now()}:${keySeq++}`;

async function post(p: Posting) {
  return withTransaction(testDb(), (transaction) => postTransaction(p, { transaction }));
}

async function balances(refs: AccountRef[]): Promise<bigint[]> {
  const m = await getBalances(refs);
  return refs.map((r) => m.get(accountCode(r))!);
}

async function expectAppError(p: Promise<unknown>, code: string): Promise<AppError> {
  try {
    await p;
  } catch (err) {
    expect(err).to.be.instanceOf(AppError);
    expect((err as AppError).code).to.equal(code);
    return err as AppError;
  }
  expect.fail(`expected ${code}`);
}

describe('ledger core (postTransaction)', () => {
  const clearing = platformAccount(AccountType.GatewayClearing);
  let a: string;
  let b: string;

  beforeEach(async () => {
    a = await createInvestor();
    b = await createInvestor();
  });

  it('when a balanced posting is made, then balances move and the entries explain them', async () => {
    const res = await post({
      kind: LedgerKind.Recharge,
      idempotencyKey: key('recharge'),
      entries: [
        { account: clearing, amount: -150_000n },
        { account: investorAccount(a, 'available'), amount: 150_000n },
      ],
    });
    expect(res.replayed).to.equal(false);
    expect(await balances([investorAccount(a, 'available')])).to.deep.equal([150_000n]);
    const [entries] = (await testDb().query(
      'SELECT amount::text, balance_after::text FROM ledger_entries WHERE transaction_id = $1 ORDER BY amount',
      { bind: [res.transactionId] },
    )) as [{ amount: string; balance_after: string }[], unknown];
    expect(entries.map((e) => e.amount)).to.deep.equal(['-150000', '150000']);
    expect(entries[1].balance_after).to.equal('150000');
  });

  it('when entries do not sum to zero, then nothing is written', async () => {
    const k = key('unbalanced');
    await expectAppError(
      post({
        kind: LedgerKind.Adjustment,
        idempotencyKey: k,
        entries: [
          { account: clearing, amount: -100n },
          { account: investorAccount(a, 'available'), amount: 99n },
        ],
      }),
      'LEDGER_UNBALANCED',
    );
    const [rows] = (await testDb().query(
      'SELECT 1 FROM ledger_transactions WHERE idempotency_key = $1',
      { bind: [k] },
    )) as [unknown[], unknown];
    expect(rows).to.have.length(0);
  });

  it('when a posting would take an investor account below zero, then it is refused with INSUFFICIENT_BALANCE', async () => {
    const err = await expectAppError(
      post({
        kind: LedgerKind.WithdrawalLock,
        idempotencyKey: key('overdraft'),
        entries: [
          { account: investorAccount(a, 'available'), amount: -1n },
          { account: investorAccount(a, 'locked'), amount: 1n },
        ],
      }),
      'INSUFFICIENT_BALANCE',
    );
    expect(err.status).to.equal(422);
    expect(err.details[0].path).to.equal(`investor:${a}:available`);
    expect(
      await balances([investorAccount(a, 'available'), investorAccount(a, 'locked')]),
    ).to.deep.equal([0n, 0n]);
  });

  it('when the same key is posted again with the same entries, then it is a no-op returning the first transaction', async () => {
    const p: Posting = {
      kind: LedgerKind.Recharge,
      idempotencyKey: key('replay'),
      entries: [
        { account: clearing, amount: -500n },
        { account: investorAccount(a, 'available'), amount: 500n },
      ],
    };
    const first = await post(p);
    const second = await post(p);
    expect(second).to.deep.equal({ transactionId: first.transactionId, replayed: true });
    expect(await balances([investorAccount(a, 'available')])).to.deep.equal([500n]);
  });

  it('when a batch repeats an earlier credit that was since spent and adds a debit, then the debit is refused with INSUFFICIENT_BALANCE and nothing of the batch is written', async () => {
    const credit: Posting = {
      kind: LedgerKind.Recharge,
      idempotencyKey: key('spent-credit'),
      entries: [
        { account: clearing, amount: -500n },
        { account: investorAccount(a, 'available'), amount: 500n },
      ],
    };
    await post(credit);
    await post({
      kind: LedgerKind.WithdrawalLock,
      idempotencyKey: key('spend'),
      entries: [
        { account: investorAccount(a, 'available'), amount: -500n },
        { account: investorAccount(a, 'locked'), amount: 500n },
      ],
    });
    // The repeated credit is already in the balance (0 now): it must not pay for the debit.
    const debit: Posting = {
      kind: LedgerKind.WithdrawalLock,
      idempotencyKey: key('overspend'),
      entries: [
        { account: investorAccount(a, 'available'), amount: -500n },
        { account: investorAccount(a, 'locked'), amount: 500n },
      ],
    };
    await expectAppError(
      withTransaction(testDb(), (transaction) =>
        postTransactions([credit, debit], { transaction }),
      ),
      'INSUFFICIENT_BALANCE',
    );
    expect(
      await balances([investorAccount(a, 'available'), investorAccount(a, 'locked')]),
    ).to.deep.equal([0n, 500n]);
    expect((await checkLedger()).ok).to.equal(true);
  });

  it('when the same key is posted with other entries, then it is refused with IDEMPOTENCY_CONFLICT', async () => {
    const k = key('conflict');
    await post({
      kind: LedgerKind.Recharge,
      idempotencyKey: k,
      entries: [
        { account: clearing, amount: -500n },
        { account: investorAccount(a, 'available'), amount: 500n },
      ],
    });
    await expectAppError(
      post({
        kind: LedgerKind.Recharge,
        idempotencyKey: k,
        entries: [
          { account: clearing, amount: -600n },
          { account: investorAccount(a, 'available'), amount: 600n },
        ],
      }),
      'IDEMPOTENCY_CONFLICT',
    );
    expect(await balances([investorAccount(a, 'available')])).to.deep.equal([500n]);
  });

  it('when an entry is updated or deleted in SQL, then the database refuses (append-only)', async () => {
    const res = await post({
      kind: LedgerKind.Recharge,
      idempotencyKey: key('append-only'),
      entries: [
        { account: clearing, amount: -7n },
        { account: investorAccount(a, 'available'), amount: 7n },
      ],
    });
    for (const sql of [
      'UPDATE ledger_entries SET amount = amount * 2 WHERE transaction_id = $1',
      'DELETE FROM ledger_entries WHERE transaction_id = $1',
      'UPDATE ledger_transactions SET kind = $1::text WHERE id = $1',
      'DELETE FROM ledger_transactions WHERE id = $1',
    ]) {
      let refused = false;
      try {
        await testDb().query(sql, { bind: [res.transactionId] });
      } catch (err) {
        refused = /append-only/.test(String((err as Error).message));
      }
      expect(refused, sql).to.equal(true);
    }
  });

  it('when entries that do not balance are inserted behind the service, then the commit is refused', async () => {
    let refused = false;
    try {
      await withTransaction(testDb(), async (transaction) => {
        const [rows] = (await testDb().query(
          `INSERT INTO ledger_transactions (kind, idempotency_key, entries_hash) VALUES ('adjustment', $1, 'x') RETURNING id`,
          { bind: [key('raw')], transaction },
        )) as [{ id: string }[], unknown];
        const [acc] = (await testDb().query(
          `SELECT id FROM accounts WHERE code = 'gateway_clearing'`,
          { transaction },
        )) as [{ id: string }[], unknown];
        await testDb().query(
          'INSERT INTO ledger_entries (transaction_id, account_id, amount, balance_after) VALUES ($1, $2, 5, 5)',
          {
            bind: [rows[0].id, acc[0].id],
            transaction,
          },
        );
      });
    } catch (err) {
      refused = /unbalanced/.test(String((err as Error).message));
    }
    expect(refused).to.equal(true);
  });

  it('when a transaction is reversed, then every balance returns and the reversal is idempotent', async () => {
    const k = key('to-reverse');
    await post({
      kind: LedgerKind.Recharge,
      idempotencyKey: k,
      entries: [
        { account: clearing, amount: -900n },
        { account: investorAccount(a, 'available'), amount: 900n },
      ],
    });
    const rk = key('reversal');
    await withTransaction(testDb(), (t) =>
      reverseTransaction(k, rk, 'test correction', { transaction: t }),
    );
    const again = await withTransaction(testDb(), (t) =>
      reverseTransaction(k, rk, 'test correction', { transaction: t }),
    );
    expect(again.replayed).to.equal(true);
    expect(await balances([investorAccount(a, 'available')])).to.deep.equal([0n]);
  });

  it('when random postings are made (balanced, unbalanced, overdrawing, replayed), then balances follow a model exactly', async () => {
    const refs: AccountRef[] = [
      investorAccount(a, 'available'),
      investorAccount(a, 'locked'),
      investorAccount(b, 'available'),
      investorAccount(b, 'invested'),
      clearing,
    ];
    const model = new Map<string, bigint>(refs.map((r) => [accountCode(r), 0n]));
    const posted: Posting[] = [];
    const entryArb = fc.record({
      account: fc.integer({ min: 0, max: refs.length - 1 }),
      amount: fc.bigInt({ min: -5_000n, max: 5_000n }),
    });
    const step = fc.record({
      entries: fc.array(entryArb, { minLength: 1, maxLength: 4 }),
      balance: fc.boolean(),
      replay: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(step, async (s) => {
        if (s.replay && posted.length > 0) {
          const res = await post(posted[posted.length - 1]);
          expect(res.replayed).to.equal(true);
        } else {
          const entries = s.entries.map((e) => ({ account: refs[e.account], amount: e.amount }));
          const sum = entries.reduce((acc, e) => acc + e.amount, 0n);
          // Balance the set through the clearing account when asked; otherwise leave it as drawn.
          if (s.balance && sum !== 0n) entries.push({ account: clearing, amount: -sum });
          const total = entries.reduce((acc, e) => acc + e.amount, 0n);
          const next = new Map(model);
          for (const e of entries)
            next.set(accountCode(e.account), next.get(accountCode(e.account))! + e.amount);
          const nonZero = new Set(
            entries.filter((e) => e.amount !== 0n).map((e) => accountCode(e.account)),
          );
          const netMoves = [...nonZero].filter((c) => next.get(c) !== model.get(c));
          const overdraws = [...next].some(([code, v]) => v < 0n && code !== accountCode(clearing));
          const p: Posting = { kind: LedgerKind.Adjustment, idempotencyKey: key('prop'), entries };
          if (total !== 0n || netMoves.length < 2) {
            await expectAppError(post(p), 'LEDGER_UNBALANCED');
          } else if (overdraws) {
            await expectAppError(post(p), 'INSUFFICIENT_BALANCE');
          } else {
            expect((await post(p)).replayed).to.equal(false);
            posted.push(p);
            for (const [c, v] of next) model.set(c, v);
          }
        }
        const actual = await balances(refs.slice(0, 4));
        expect(actual).to.deep.equal(refs.slice(0, 4).map((r) => model.get(accountCode(r))));
      }),
      { numRuns: 60 },
    );
  });

  it('when 50 postings run concurrently over the same few accounts, then no update is lost and the ledger checks clean', async () => {
    const investors = [a, b, await createInvestor()];
    // Fund each investor first so that some concurrent moves succeed and some overdraw.
    for (const id of investors) {
      await post({
        kind: LedgerKind.Recharge,
        idempotencyKey: key('fund'),
        entries: [
          { account: clearing, amount: -10_000n },
          { account: investorAccount(id, 'available'), amount: 10_000n },
        ],
      });
    }
    const escrow = platformAccount(AccountType.Escrow);
    const moves = Array.from({ length: 50 }, (_, i) => {
      const from = investors[i % 3];
      const to = investors[(i + 1) % 3];
      const amount = BigInt(500 + ((i * 7919) % 3_000));
      // Entries listed in varying orders: the service must lock in one fixed order anyway.
      const entries = [
        { account: investorAccount(from, 'available'), amount: -amount },
        { account: investorAccount(to, 'available'), amount: amount - 10n },
        { account: escrow, amount: 10n },
      ];
      return {
        kind: LedgerKind.Adjustment,
        idempotencyKey: key(`conc-${i}`),
        entries: i % 2 ? entries.reverse() : entries,
      };
    });
    // Plain transactions (no deadlock retry) so that a deadlock would fail the test.
    const results = await Promise.allSettled(
      moves.map((m) => testDb().transaction((transaction) => postTransaction(m, { transaction }))),
    );
    const rejected = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    for (const r of rejected) expect((r.reason as AppError).code).to.equal('INSUFFICIENT_BALANCE');
    const ok = moves.filter((_, i) => results[i].status === 'fulfilled');
    const expected = new Map<string, bigint>(
      investors.map((id) => [accountCode(investorAccount(id, 'available')), 10_000n]),
    );
    for (const m of ok)
      for (const e of m.entries)
        if (expected.has(accountCode(e.account)))
          expected.set(accountCode(e.account), expected.get(accountCode(e.account))! + e.amount);
    const actual = await getBalances(investors.map((id) => investorAccount(id, 'available')));
    expect([...actual]).to.deep.equal([...expected]);
    const check = await checkLedger();
    expect(check.mismatches).to.deep.equal([]);
    expect(check.trialBalance).to.equal(0n);
    expect(check.cachedTotal).to.equal(0n);
    expect(check.ok).to.equal(true);
  });
});
