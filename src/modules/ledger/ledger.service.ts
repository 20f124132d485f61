import { createHash } from 'node:crypto';
import { QueryTypes, type Transaction } from 'sequelize';
import { AppError } from '../../lib/errors';
import type { TxOptions } from '../../lib/db';
import { toIdr } from '../../lib/money';
import { ALLOW_NEGATIVE, type AccountRef, type AccountType, accountCode } from './ledger.accounts';
import { LedgerKind } from './ledger.kinds';
import { Account } from './ledger.model';

/**
 * One signed amount on one account. Positive adds to the account's balance. `memo` says what
 * the amount is (`principal`, `interest`, `late_fee` …) so that figures such as an investor's
 * total income are read from the ledger; one account may appear in several entries.
 */
export interface PostingEntry {
  account: AccountRef;
  amount: bigint;
  memo?: EntryMemo;
}

/** What an entry's amount is, where a transaction mixes several things on one account. */
export type EntryMemo = 'principal' | 'interest' | 'fee' | 'late_fee' | 'spread' | 'refund';

/** A money movement: its kind, the key that makes it happen once, and balanced entries. */
export interface Posting {
  kind: LedgerKind;
  idempotencyKey: string;
  entries: PostingEntry[];
  metadata?: Record<string, unknown>;
}

export interface PostingResult {
  transactionId: string;
  /** true when the key had been posted before with the same entries (nothing was written). */
  replayed: boolean;
}

interface NetEntry {
  code: string;
  type: AccountType;
  ownerUserId: string | null;
  amount: bigint;
}

interface CheckedPosting {
  /** Entries as given (zero amounts dropped), with their account codes. */
  entries: { code: string; amount: bigint; memo: EntryMemo | null }[];
  /** Net movement per account, sorted by code. */
  net: NetEntry[];
}

const KINDS = new Set<string>(Object.values(LedgerKind));

const unbalanced = (message: string) =>
  new AppError('LEDGER_UNBALANCED', message, [], { operational: false, retryable: false });

/** Refuses an unbalanced, empty or malformed set; nets the entries per account. */
function checkPosting(posting: Posting): CheckedPosting {
  if (!KINDS.has(posting.kind)) {
    throw new AppError('INTERNAL_ERROR', `unknown ledger kind ${posting.kind}`);
  }
  if (!posting.idempotencyKey || posting.idempotencyKey.length > 200) {
    throw new AppError(
      'INTERNAL_ERROR',
      'a ledger posting needs an idempotency key of 1-200 chars',
    );
  }
  const byCode = new Map<string, NetEntry>();
  const entries: CheckedPosting['entries'] = [];
  let total = 0n;
  for (const e of posting.entries) {
    if (typeof e.amount !== 'bigint')
      throw new AppError('INTERNAL_ERROR', 'ledger amounts are bigint');
    if (e.amount === 0n) continue;
    total += e.amount;
    const code = accountCode(e.account);
    entries.push({ code, amount: e.amount, memo: e.memo ?? null });
    const prev = byCode.get(code);
    if (prev) prev.amount += e.amount;
    else
      byCode.set(code, {
        code,
        type: e.account.type,
        ownerUserId: 'userId' in e.account ? String(e.account.userId) : null,
        amount: e.amount,
      });
  }
  if (total !== 0n)
    throw unbalanced(`ledger posting ${posting.idempotencyKey} is unbalanced by ${total}`);
  const net = [...byCode.values()].sort((a, b) => (a.code < b.code ? -1 : 1));
  if (net.filter((e) => e.amount !== 0n).length < 2) {
    throw unbalanced(`ledger posting ${posting.idempotencyKey} moves no money`);
  }
  return { entries, net };
}

function hashEntries(kind: string, entries: CheckedPosting['entries']): string {
  const lines = entries.map((e) => `${e.code}|${e.memo ?? ''}|${e.amount}`).sort();
  return createHash('sha256')
    .update(`${kind}\n${lines.join('\n')}`)
    .digest('hex');
}

async function findExisting(
  key: string,
  transaction: Transaction,
): Promise<{ id: string; entries_hash: string } | undefined> {
  const rows = await Account.sequelize!.query<{ id: string; entries_hash: string }>(
    'SELECT id, entries_hash FROM ledger_transactions WHERE idempotency_key = $1',
    { bind: [key], type: QueryTypes.SELECT, transaction },
  );
  return rows[0];
}

function replayOf(
  existing: { id: string; entries_hash: string },
  hash: string,
  key: string,
): PostingResult {
  if (existing.entries_hash !== hash) {
    throw new AppError(
      'IDEMPOTENCY_CONFLICT',
      `ledger key ${key} was already used for other entries`,
      [],
      {
        operational: false,
        retryable: false,
      },
    );
  }
  return { transactionId: existing.id, replayed: true };
}

/**
 * Posts one balanced ledger transaction inside the caller's database transaction.
 *
 * - refuses an unbalanced set (and the database re-checks at commit);
 * - refuses to take an account below zero unless its type allows it (INSUFFICIENT_BALANCE);
 * - the same idempotency key again with the same entries does nothing and returns the first
 *   transaction; with other entries it throws IDEMPOTENCY_CONFLICT;
 * - creates missing accounts, then locks every account row in id order (one fixed order for
 *   every posting, so concurrent postings neither deadlock nor lose an update).
 * Nothing is written when it throws.
 */
export async function postTransaction(
  posting: Posting,
  { transaction }: TxOptions,
): Promise<PostingResult> {
  const sequelize = Account.sequelize!;
  const { entries, net } = checkPosting(posting);
  const hash = hashEntries(posting.kind, entries);

  const before = await findExisting(posting.idempotencyKey, transaction);
  if (before) return replayOf(before, hash, posting.idempotencyKey);

  const codes = net.map((e) => e.code);
  await sequelize.query(
    `INSERT INTO accounts (code, type, owner_user_id, allow_negative)
     SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::boolean[])
     ON CONFLICT (code) DO NOTHING`,
    {
      bind: [
        codes,
        net.map((e) => e.type),
        net.map((e) => e.ownerUserId),
        net.map((e) => ALLOW_NEGATIVE.has(e.type)),
      ],
      transaction,
    },
  );
  const locked = await sequelize.query<{
    id: string;
    code: string;
    balance: string;
    allow_negative: boolean;
  }>(
    'SELECT id, code, balance, allow_negative FROM accounts WHERE code = ANY($1::text[]) ORDER BY id FOR UPDATE',
    { bind: [codes], type: QueryTypes.SELECT, transaction },
  );
  const byCode = new Map(locked.map((a) => [a.code, a]));

  const rows = net.map((e) => {
    const account = byCode.get(e.code)!;
    return {
      accountId: account.id,
      code: e.code,
      before: toIdr(account.balance),
      after: toIdr(account.balance) + e.amount,
      allowNegative: account.allow_negative,
    };
  });
  const short = rows.filter((r) => r.after < 0n && !r.allowNegative);
  if (short.length > 0) {
    // A concurrent posting of the same key may have committed while we waited for the locks.
    const raced = await findExisting(posting.idempotencyKey, transaction);
    if (raced) return replayOf(raced, hash, posting.idempotencyKey);
    throw new AppError(
      'INSUFFICIENT_BALANCE',
      'insufficient balance',
      short.map((r) => ({ path: r.code, message: `balance would become ${r.after}` })),
    );
  }

  const inserted = await sequelize.query<{ id: string }>(
    `INSERT INTO ledger_transactions (kind, idempotency_key, entries_hash, metadata)
     VALUES ($1, $2, $3, $4::jsonb)
     ON CONFLICT (idempotency_key) DO NOTHING RETURNING id`,
    {
      bind: [posting.kind, posting.idempotencyKey, hash, JSON.stringify(posting.metadata ?? {})],
      type: QueryTypes.SELECT,
      transaction,
    },
  );
  if (inserted.length === 0) {
    return replayOf(
      (await findExisting(posting.idempotencyKey, transaction))!,
      hash,
      posting.idempotencyKey,
    );
  }
  const transactionId = inserted[0].id;
  // Entries as given, each with the running balance of its account.
  const running = new Map(rows.map((r) => [r.code, r]));
  const balances = new Map(rows.map((r) => [r.code, r.before]));
  const entryRows = entries.map((e) => {
    const after = balances.get(e.code)! + e.amount;
    balances.set(e.code, after);
    return { accountId: running.get(e.code)!.accountId, amount: e.amount, after, memo: e.memo };
  });
  await sequelize.query(
    `INSERT INTO ledger_entries (transaction_id, account_id, amount, balance_after, memo)
     SELECT $1, * FROM unnest($2::bigint[], $3::bigint[], $4::bigint[], $5::text[])`,
    {
      bind: [
        transactionId,
        entryRows.map((r) => r.accountId),
        entryRows.map((r) => r.amount.toString()),
        entryRows.map((r) => r.after.toString()),
        entryRows.map((r) => r.memo),
      ],
      transaction,
    },
  );
  await sequelize.query(
    `UPDATE accounts a SET balance = v.balance, updated_at = now()
     FROM unnest($1::bigint[], $2::bigint[]) AS v(id, balance) WHERE a.id = v.id`,
    { bind: [rows.map((r) => r.accountId), rows.map((r) => r.after.toString())], transaction },
  );
  return { transactionId, replayed: false };
}

/**
 * Posts the exact opposite of an earlier transaction (the only way to correct the ledger).
 * Idempotent by its own key.
 */
export async function reverseTransaction(
  originalKey: string,
  reversalKey: string,
  reason: string,
  { transaction }: TxOptions,
): Promise<PostingResult> {
  const sequelize = Account.sequelize!;
  const entries = await sequelize.query<{
    code: string;
    type: AccountType;
    owner_user_id: string | null;
    amount: string;
    memo: EntryMemo | null;
  }>(
    `SELECT a.code, a.type, a.owner_user_id, e.amount, e.memo
       FROM ledger_transactions t JOIN ledger_entries e ON e.transaction_id = t.id JOIN accounts a ON a.id = e.account_id
      WHERE t.idempotency_key = $1`,
    { bind: [originalKey], type: QueryTypes.SELECT, transaction },
  );
  if (entries.length === 0) throw new AppError('NOT_FOUND', `no ledger transaction ${originalKey}`);
  return postTransaction(
    {
      kind: LedgerKind.Reversal,
      idempotencyKey: reversalKey,
      metadata: { reverses: originalKey, reason },
      entries: entries.map((e) => ({
        account: (e.owner_user_id
          ? { type: e.type, userId: e.owner_user_id }
          : { type: e.type }) as AccountRef,
        amount: -toIdr(e.amount),
        memo: e.memo ?? undefined,
      })),
    },
    { transaction },
  );
}

/** Cached balances of the given accounts (0 for an account that has never moved). */
export async function getBalances(
  refs: AccountRef[],
  opts: Partial<TxOptions> = {},
): Promise<Map<string, bigint>> {
  const codes = refs.map(accountCode);
  const rows = await Account.sequelize!.query<{ code: string; balance: string }>(
    'SELECT code, balance FROM accounts WHERE code = ANY($1::text[])',
    { bind: [codes], type: QueryTypes.SELECT, transaction: opts.transaction },
  );
  const found = new Map(rows.map((r) => [r.code, toIdr(r.balance)]));
  return new Map(codes.map((c) => [c, found.get(c) ?? 0n]));
}

/** One account whose cached balance disagrees with the sum of its entries. */
export interface BalanceMismatch {
  code: string;
  cached: bigint;
  computed: bigint;
}

/** What `ledger:check` reports. */
export interface LedgerCheck {
  /** Sum of every entry: zero in a sound ledger. */
  trialBalance: bigint;
  /** Sum of every cached balance: zero in a sound ledger. */
  cachedTotal: bigint;
  /** Balance per account type, for the printed trial balance. */
  byType: { type: string; accounts: number; balance: bigint }[];
  mismatches: BalanceMismatch[];
  unbalancedTransactions: { idempotencyKey: string; sum: bigint }[];
  ok: boolean;
}

/** Recomputes every balance from the entries and compares it with the cache. Read-only. */
export async function checkLedger(opts: Partial<TxOptions> = {}): Promise<LedgerCheck> {
  const sequelize = Account.sequelize!;
  const q = <T extends object>(sql: string) =>
    sequelize.query<T>(sql, { type: QueryTypes.SELECT, transaction: opts.transaction });
  const [totals] = await q<{ entries: string; cached: string }>(
    `SELECT (SELECT COALESCE(SUM(amount), 0) FROM ledger_entries)::text AS entries,
            (SELECT COALESCE(SUM(balance), 0) FROM accounts)::text AS cached`,
  );
  const byType = await q<{ type: string; accounts: string; balance: string }>(
    'SELECT type, COUNT(*)::text AS accounts, SUM(balance)::text AS balance FROM accounts GROUP BY type ORDER BY type',
  );
  const mismatches = await q<{ code: string; cached: string; computed: string }>(
    `SELECT a.code, a.balance::text AS cached, COALESCE(s.total, 0)::text AS computed
       FROM accounts a LEFT JOIN (SELECT account_id, SUM(amount) AS total FROM ledger_entries GROUP BY account_id) s
         ON s.account_id = a.id
      WHERE a.balance <> COALESCE(s.total, 0) ORDER BY a.code`,
  );
  const unbalanced = await q<{ idempotency_key: string; sum: string }>(
    `SELECT t.idempotency_key, COALESCE(SUM(e.amount), 0)::text AS sum
       FROM ledger_transactions t LEFT JOIN ledger_entries e ON e.transaction_id = t.id
      GROUP BY t.id HAVING COALESCE(SUM(e.amount), 0) <> 0 OR COUNT(e.id) < 2 ORDER BY t.id`,
  );
  const result: LedgerCheck = {
    trialBalance: toIdr(totals.entries),
    cachedTotal: toIdr(totals.cached),
    byType: byType.map((r) => ({
      type: r.type,
      accounts: Number(r.accounts),
      balance: toIdr(r.balance),
    })),
    mismatches: mismatches.map((m) => ({
      code: m.code,
      cached: toIdr(m.cached),
      computed: toIdr(m.computed),
    })),
    unbalancedTransactions: unbalanced.map((u) => ({
      idempotencyKey: u.idempotency_key,
      sum: toIdr(u.sum),
    })),
    ok: false,
  };
  result.ok =
    result.trialBalance === 0n &&
    result.cachedTotal === 0n &&
    result.mismatches.length === 0 &&
    result.unbalancedTransactions.length === 0;
  return result;
}
