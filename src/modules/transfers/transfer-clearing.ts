import { AccountType, investorAccount, platformAccount } from '../ledger/ledger.accounts';
import { LedgerKind } from '../ledger/ledger.kinds';
import type { Posting, PostingEntry } from '../ledger/ledger.service';
import { holderInterest, splitPrincipal, type HolderRate } from '../schedules/schedule';

/**
 * The secondary market's money and schedule arithmetic, as pure functions (no database): what a
 * credit order posts to the ledger and how a sale splits the seller's unpaid rows. The services
 * write what these return; test/unit/transfer-clearing.test.ts checks their laws.
 */

/** What the clearing reads of a credit order. */
export interface ClearingOrder {
  id: string;
  noteId: string;
  buyerId: string;
  sellerId: string;
  principal: bigint;
  interest: bigint;
  payAmount: bigint;
  fee: bigint;
}

/** The part of a pay amount that is accrued interest (the seller's income, the buyer's cost). */
export const interestPart = (o: Pick<ClearingOrder, 'interest' | 'payAmount'>): bigint =>
  o.interest < o.payAmount ? o.interest : o.payAmount;

/**
 * The buyer's wallet entries for moving `sign` × payAmount out of `available` into `locked`
 * (−1n reserves, 1n releases), the memos split between interest and principal.
 */
export const buyerWalletEntries = (
  o: Pick<ClearingOrder, 'buyerId' | 'interest' | 'payAmount'>,
  sign: 1n | -1n,
): PostingEntry[] => [
  {
    account: investorAccount(o.buyerId, 'available'),
    amount: sign * interestPart(o),
    memo: 'interest',
  },
  {
    account: investorAccount(o.buyerId, 'available'),
    amount: sign * (o.payAmount - interestPart(o)),
    memo: 'principal',
  },
  { account: investorAccount(o.buyerId, 'locked'), amount: -sign * o.payAmount },
];

/**
 * The settlement's postings, each balanced: transfer_buy (the buyer's reserved money to
 * clearing), transfer_sell (clearing to the seller — the accrued interest as its income —, the
 * principal changes hands between the two `invested` accounts), transfer_fee (the seller pays
 * the fee to revenue, when there is one). Keys `credit-order:<id>:buy|sell|fee`.
 */
export function settlementPostings(o: ClearingOrder): Posting[] {
  const clearing = platformAccount(AccountType.GatewayClearing);
  const posting = (kind: LedgerKind, key: string, entries: PostingEntry[]): Posting => ({
    kind,
    idempotencyKey: `credit-order:${o.id}:${key}`,
    metadata: { creditOrderId: String(o.id), noteId: String(o.noteId) },
    entries,
  });
  const postings = [
    posting(LedgerKind.TransferBuy, 'buy', [
      { account: investorAccount(o.buyerId, 'locked'), amount: -o.payAmount },
      { account: clearing, amount: o.payAmount },
    ]),
    posting(LedgerKind.TransferSell, 'sell', [
      { account: clearing, amount: -o.payAmount },
      {
        account: investorAccount(o.sellerId, 'available'),
        amount: o.payAmount - interestPart(o),
        memo: 'principal',
      },
      {
        account: investorAccount(o.sellerId, 'available'),
        amount: interestPart(o),
        memo: 'interest',
      },
      {
        account: investorAccount(o.sellerId, 'invested'),
        amount: -o.principal,
        memo: 'principal',
      },
      { account: investorAccount(o.buyerId, 'invested'), amount: o.principal, memo: 'principal' },
    ]),
  ];
  if (o.fee > 0n)
    postings.push(
      posting(LedgerKind.TransferFee, 'fee', [
        { account: investorAccount(o.sellerId, 'available'), amount: -o.fee, memo: 'fee' },
        { account: platformAccount(AccountType.RevenueTransferFee), amount: o.fee, memo: 'fee' },
      ]),
    );
  return postings;
}

/** One unpaid row of the seller's schedule: its principal and interest for the period. */
export interface SplitRow {
  principal: bigint;
  interest: bigint;
}

/** How a sale splits the seller's unpaid rows: the buyer's new rows and the seller's kept ones. */
export type ScheduleSplit =
  { kind: 'move' } | { kind: 'split'; bought: SplitRow[]; kept: SplitRow[] };

/**
 * The schedule split (seed 003, SPEC §3). A full sale moves the rows to the buyer as they are.
 * Otherwise the buyer's principal is taken out of the seller's, period by period, with
 * `splitPrincipal` (the buyer's rows sum exactly to what it bought, the seller keeps the rest,
 * every period's principal unchanged in total, so the holders still sum to the plan), and both
 * sides' interest is reckoned again at the loan's rate on what each now holds.
 */
export function splitSchedule(
  rows: readonly SplitRow[],
  principal: bigint,
  rate: HolderRate,
): ScheduleSplit {
  const held = rows.reduce((s, r) => s + r.principal, 0n);
  if (principal === held) return { kind: 'move' };
  const bought = splitPrincipal(
    rows.map((r) => r.principal),
    principal,
  );
  const kept = rows.map((r, i) => r.principal - bought[i]);
  const boughtInterest = holderInterest(bought, rate);
  const keptInterest = holderInterest(kept, rate);
  return {
    kind: 'split',
    bought: bought.map((p, i) => ({ principal: p, interest: boughtInterest[i] })),
    kept: kept.map((p, i) => ({ principal: p, interest: keptInterest[i] })),
  };
}
