import { createHash } from 'node:crypto';
import { QueryTypes, type Transaction } from 'sequelize';
import { now } from '../../lib/clock';
import { AppError } from '../../lib/errors';
import type { TxOptions } from '../../lib/db';
import { toIdr } from '../../lib/money';
import { type AccountRef, type AccountType, accountCode } from './ledger.accounts';
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
  keys: string[],
  transaction: Transaction,
): Promise<Map<string, { id: string; entries_hash: string }>> {
  const rows = await Account.sequelize!.query<{
    id: string;
    idempotency_key: string;
    entries_hash: string;
  }>(
    'SELECT id, idempotency_key, entries_hash FROM ledger_transactions WHERE idempotency_key = ANY($1::text[])',
    { bind: [keys], type: QueryTypes.SELECT, transaction },
  );
  return new Map(rows.map((r) => [r.idempotency_key, r]));
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
 * Posts one balanced ledger transaction inside the caller's database transaction: see
 * `postTransactions`.
 */
export async function postTransaction(posting: Posting, opts: TxOptions): Promise<PostingResult> {
  const [result] = await postTransactions([posting], opts);
  return result;
}

/**
 * Posts balanced ledger transactions inside the caller's database transaction, in a fixed
 * number of statements however many there are (a batch of purchases is one round of them).
 *
 * - refuses an unbalanced, empty or malformed set (and the database re-checks at commit);
 * - refuses to take an investor account below zero (INSUFFICIENT_BALANCE; nothing written);
 * - a key posted before with the same entries does nothing and returns the first transaction;
 *   with other entries it throws IDEMPOTENCY_CONFLICT; two postings of one key in one call are
 *   a bug;
 * - investor accounts are created when missing, then locked in id order (one fixed order for
 *   every posting, so concurrent postings neither deadlock nor lose an update), and their
 *   cached balance and each entry's running balance are written;
 * - platform accounts (escrow, clearing, borrower payable, super investor, revenues) are
 *   neither locked nor updated: no overdraft is checked on them, so no posting queues on
 *   their row, and their balance is the sum of their entries (`getBalances`).
 * Nothing is written when it throws.
 */
export async function postTransactions(
  postings: Posting[],
  { transaction }: TxOptions,
): Promise<PostingResult[]> {
  if (postings.length === 0) return [];
  const sequelize = Account.sequelize!;
  const checked = postings.map((p) => {
    const c = checkPosting(p);
    return { posting: p, ...c, hash: hashEntries(p.kind, c.entries) };
  });
  const keys = checked.map((c) => c.posting.idempotencyKey);
  if (new Set(keys).size !== keys.length)
    throw new AppError('INTERNAL_ERROR', 'one ledger key twice in one batch of postings');

  // No read of the keys first: a key posted before shows up as a conflict of the INSERT below
  // (or, when its replay would overdraw, in the check of the balances), and is answered as a
  // replay from there. The common case, a new key, saves the round trip.
  const results = new Map<string, PostingResult>();
  let todo = checked;

  const investorNet = todo.flatMap((c) => c.net).filter((e) => e.ownerUserId !== null);
  const investor = new Map<string, { id: string; balance: bigint }>();
  if (investorNet.length > 0) {
    const byCode = new Map(investorNet.map((e) => [e.code, e]));
    const codes = [...byCode.keys()].sort();
    const lock = (list: string[]) =>
      sequelize.query<{ id: string; code: string; balance: string }>(
        'SELECT id, code, balance FROM accounts WHERE code = ANY($1::text[]) ORDER BY id FOR NO KEY UPDATE',
        { bind: [list], type: QueryTypes.SELECT, transaction },
      );
    // Existing accounts are locked in id order; only an investor's first movement creates one
    // (codes sorted, so two creators of the same accounts queue in one order).
    for (const a of await lock(codes))
      investor.set(a.code, { id: a.id, balance: toIdr(a.balance) });
    const missing = codes.filter((c) => !investor.has(c));
    if (missing.length > 0) {
      await sequelize.query(
        `INSERT INTO accounts (code, type, owner_user_id, allow_negative)
         SELECT c, t, u, false FROM unnest($1::text[], $2::text[], $3::bigint[]) AS v(c, t, u)
         ON CONFLICT (code) DO NOTHING`,
        {
          bind: [
            missing,
            missing.map((c) => byCode.get(c)!.type),
            missing.map((c) => byCode.get(c)!.ownerUserId),
          ],
          transaction,
        },
      );
      for (const a of await lock(missing))
        investor.set(a.code, { id: a.id, balance: toIdr(a.balance) });
    }
  }

  // Balances after each posting, in order; a posting that would overdraw refuses the whole call.
  const apply = (list: typeof todo) => {
    const balances = new Map([...investor].map(([code, a]) => [code, a.balance]));
    const short: { path: string; message: string }[] = [];
    for (const c of list)
      for (const e of c.net) {
        if (e.ownerUserId === null) continue;
        const after = balances.get(e.code)! + e.amount;
        balances.set(e.code, after);
        if (after < 0n) short.push({ path: e.code, message: `balance would become ${after}` });
      }
    return { balances, short };
  };
  let { short } = apply(todo);
  if (short.length > 0) {
    // A concurrent posting of a key may have committed while we waited for the locks.
    const raced = await findExisting(
      todo.map((c) => c.posting.idempotencyKey),
      transaction,
    );
    if (raced.size > 0) {
      for (const c of todo) {
        const r = raced.get(c.posting.idempotencyKey);
        if (r) results.set(c.posting.idempotencyKey, replayOf(r, c.hash, c.posting.idempotencyKey));
      }
      todo = todo.filter((c) => !raced.has(c.posting.idempotencyKey));
      ({ short } = apply(todo));
    }
    if (short.length > 0) throw new AppError('INSUFFICIENT_BALANCE', 'insufficient balance', short);
    if (todo.length === 0) return keys.map((k) => results.get(k)!);
  }

  const inserted = await sequelize.query<{ id: string; idempotency_key: string }>(
    `INSERT INTO ledger_transactions (kind, idempotency_key, entries_hash, metadata)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::jsonb[])
     ON CONFLICT (idempotency_key) DO NOTHING RETURNING id, idempotency_key`,
    {
      bind: [
        todo.map((c) => c.posting.kind),
        todo.map((c) => c.posting.idempotencyKey),
        todo.map((c) => c.hash),
        todo.map((c) => JSON.stringify(c.posting.metadata ?? {})),
      ],
      type: QueryTypes.SELECT,
      transaction,
    },
  );
  const ids = new Map(inserted.map((r) => [r.idempotency_key, r.id]));
  if (ids.size < todo.length) {
    // Posted meanwhile by a concurrent caller (it committed while we waited on its key).
    const raced = await findExisting(
      todo.filter((c) => !ids.has(c.posting.idempotencyKey)).map((c) => c.posting.idempotencyKey),
      transaction,
    );
    for (const c of todo)
      if (!ids.has(c.posting.idempotencyKey))
        results.set(
          c.posting.idempotencyKey,
          replayOf(raced.get(c.posting.idempotencyKey)!, c.hash, c.posting.idempotencyKey),
        );
    todo = todo.filter((c) => ids.has(c.posting.idempotencyKey));
    // The balance check above counted the repeated ones' amounts, which are already in the
    // balances: check the new ones again on their own (a refusal rolls back the whole call).
    ({ short } = apply(todo));
    if (short.length > 0) throw new AppError('INSUFFICIENT_BALANCE', 'insufficient balance', short);
  }

  // Entries as given, each investor entry with the running balance of its account.
  const running = new Map([...investor].map(([code, a]) => [code, a.balance]));
  const entryRows: {
    tx: string;
    code: string;
    amount: bigint;
    after: bigint | null;
    memo: string | null;
  }[] = [];
  for (const c of todo) {
    const tx = ids.get(c.posting.idempotencyKey)!;
    results.set(c.posting.idempotencyKey, { transactionId: tx, replayed: false });
    for (const e of c.entries) {
      const inv = investor.get(e.code);
      let after: bigint | null = null;
      if (inv) {
        after = running.get(e.code)! + e.amount;
        running.set(e.code, after);
      }
      entryRows.push({
        tx,
        code: e.code,
        amount: e.amount,
        after,
        memo: e.memo,
      });
    }
  }
  // Entries and the investors' new balances in one statement (both computed above). Investor
  // accounts by the id just locked; platform accounts (from the seed; only read) by code: an
  // unknown code leaves account_id NULL, which the column refuses.
  const moved = [...investor].filter(([code, a]) => running.get(code) !== a.balance);
  if (entryRows.length > 0)
    await sequelize.query(
      `WITH entries AS (
         INSERT INTO ledger_entries (transaction_id, account_id, amount, balance_after, memo)
         SELECT v.tx, COALESCE(v.id, (SELECT a.id FROM accounts a WHERE a.code = v.code)),
                v.amount, v.after, v.memo
           FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], $5::text[], $6::bigint[])
                WITH ORDINALITY AS v(tx, code, amount, after, memo, id, n)
          ORDER BY v.n
         RETURNING 1)
       UPDATE accounts a SET balance = m.balance, updated_at = $9
         FROM unnest($7::bigint[], $8::bigint[]) AS m(id, balance) WHERE a.id = m.id`,
      {
        bind: [
          entryRows.map((r) => r.tx),
          entryRows.map((r) => (investor.has(r.code) ? null : r.code)),
          entryRows.map((r) => r.amount.toString()),
          entryRows.map((r) => (r.after === null ? null : r.after.toString())),
          entryRows.map((r) => r.memo),
          entryRows.map((r) => investor.get(r.code)?.id ?? null),
          moved.map(([, a]) => a.id),
          moved.map(([code]) => running.get(code)!.toString()),
          now(),
        ],
        transaction,
      },
    );
  return keys.map((k) => results.get(k)!);
}

/**
 * postTransaction inside a savepoint of the caller's transaction: when an account would go
 * below zero it returns undefined and nothing of it is written (the caller's work stands).
 */
export async function tryPostTransaction(
  posting: Posting,
  { transaction }: TxOptions,
): Promise<PostingResult | undefined> {
  try {
    return await Account.sequelize!.transaction({ transaction }, (savepoint) =>
      postTransaction(posting, { transaction: savepoint }),
    );
  } catch (err) {
    if (err instanceof AppError && err.code === 'INSUFFICIENT_BALANCE') return undefined;
    throw err;
  }
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

/**
 * Balances of the given accounts (0 for an account that has never moved): an investor
 * account's cached balance, a platform account's sum of entries (index-only).
 */
export async function getBalances(
  refs: AccountRef[],
  opts: Partial<TxOptions> = {},
): Promise<Map<string, bigint>> {
  const codes = refs.map(accountCode);
  const rows = await Account.sequelize!.query<{ code: string; balance: string }>(
    `SELECT code, CASE WHEN owner_user_id IS NULL
                       THEN (SELECT COALESCE(SUM(e.amount), 0) FROM ledger_entries e WHERE e.account_id = a.id)
                       ELSE balance END::text AS balance
       FROM accounts a WHERE code = ANY($1::text[])`,
    { bind: [codes], type: QueryTypes.SELECT, transaction: opts.transaction },
  );
  const found = new Map(rows.map((r) => [r.code, toIdr(r.balance)]));
  return new Map(codes.map((c) => [c, found.get(c) ?? 0n]));
}

/**
 * Every account's balance: investor accounts' cached balances, platform accounts' sums of
 * entries (they keep no cached balance). For the trial balance and finance's reports.
 */
export const ACCOUNT_BALANCES_SQL = `
  SELECT a.id, a.code, a.type, a.owner_user_id, a.allow_negative,
         CASE WHEN a.owner_user_id IS NULL
              THEN (SELECT COALESCE(SUM(e.amount), 0) FROM ledger_entries e WHERE e.account_id = a.id)
              ELSE a.balance END AS balance
    FROM accounts a`;

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
  /** Sum of every balance (investor accounts cached, platform accounts derived): zero in a sound ledger. */
  cachedTotal: bigint;
  /** Balance per account type, for the printed trial balance. */
  byType: { type: string; accounts: number; balance: bigint }[];
  mismatches: BalanceMismatch[];
  unbalancedTransactions: { idempotencyKey: string; sum: bigint }[];
  ok: boolean;
}

/**
 * Recomputes every investor balance from the entries and compares it with the cache; a
 * platform account that may not go below zero (a revenue) and has is listed too. Read-only.
 */
export async function checkLedger(opts: Partial<TxOptions> = {}): Promise<LedgerCheck> {
  const sequelize = Account.sequelize!;
  const q = <T extends object>(sql: string) =>
    sequelize.query<T>(sql, { type: QueryTypes.SELECT, transaction: opts.transaction });
  const [totals] = await q<{ entries: string; cached: string }>(
    `SELECT (SELECT COALESCE(SUM(amount), 0) FROM ledger_entries)::text AS entries,
            (SELECT COALESCE(SUM(balance), 0) FROM (${ACCOUNT_BALANCES_SQL}) b)::text AS cached`,
  );
  const byType = await q<{ type: string; accounts: string; balance: string }>(
    `SELECT type, COUNT(*)::text AS accounts, SUM(balance)::text AS balance
       FROM (${ACCOUNT_BALANCES_SQL}) b GROUP BY type ORDER BY type`,
  );
  // Cached balances (investor accounts) against their entries; platform accounts have none.
  const mismatches = await q<{ code: string; cached: string; computed: string }>(
    `SELECT a.code, a.balance::text AS cached, COALESCE(s.total, 0)::text AS computed
       FROM accounts a LEFT JOIN (SELECT account_id, SUM(amount) AS total FROM ledger_entries GROUP BY account_id) s
         ON s.account_id = a.id
      WHERE a.owner_user_id IS NOT NULL AND a.balance <> COALESCE(s.total, 0)
      UNION ALL
     SELECT code, balance::text, balance::text FROM (${ACCOUNT_BALANCES_SQL}) b
      WHERE owner_user_id IS NULL AND NOT allow_negative AND balance < 0
      ORDER BY 1`,
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
