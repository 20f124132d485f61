import { QueryTypes } from 'sequelize';
import { idrToJson, toIdr } from '../../lib/money';
import { AccountType, investorAccount } from './ledger.accounts';
import { getBalances } from './ledger.service';
import { Account } from './ledger.model';

/**
 * GET /api/v1/me/account: seed 000 item 8's fields plus availableBalance, lockedBalance and
 * totalIncome, every figure read from the ledger. 散标 (loans) = the investor's invested and
 * locked accounts; 活期 and 定期 (demand and term products) are not offered yet and are 0.
 */
export async function accountSummary(userId: string) {
  const refs = [
    investorAccount(userId, 'available'),
    investorAccount(userId, 'locked'),
    investorAccount(userId, 'invested'),
  ];
  const [available, locked, invested] = [...(await getBalances(refs)).values()];
  const [income] = await Account.sequelize!.query<{ total: string }>(
    `SELECT COALESCE(SUM(e.amount), 0)::text AS total
       FROM ledger_entries e JOIN accounts a ON a.id = e.account_id
      WHERE a.owner_user_id = $1 AND a.type = $2 AND e.memo = 'interest'`,
    { bind: [userId, AccountType.InvestorAvailable], type: QueryTypes.SELECT },
  );
  return {
    userId: String(userId),
    sanbiaoBalance: idrToJson(invested),
    sanbiaoLockBalance: idrToJson(locked),
    currentBalance: 0,
    currentLockBalance: 0,
    depositBalance: 0,
    depositLockBalance: 0,
    availableBalance: idrToJson(available),
    lockedBalance: idrToJson(locked),
    totalIncome: idrToJson(toIdr(income.total)),
  };
}

const ACCOUNT_OF_TYPE: Record<string, 'available' | 'locked' | 'invested'> = {
  [AccountType.InvestorAvailable]: 'available',
  [AccountType.InvestorLocked]: 'locked',
  [AccountType.InvestorInvested]: 'invested',
};

/** GET /api/v1/me/ledger: the investor's entries, newest first, paged and filtered. */
export async function investorLedger(
  userId: string,
  q: {
    page: number;
    pageSize: number;
    account?: 'available' | 'locked' | 'invested';
    kind?: string;
    startTime?: Date;
    endTime?: Date;
  },
) {
  const where = ['a.owner_user_id = $1'];
  const bind: unknown[] = [userId];
  const add = (sql: string, value: unknown) => {
    bind.push(value);
    where.push(sql.replace('?', `$${bind.length}`));
  };
  if (q.account)
    add(
      'a.type = ?',
      Object.keys(ACCOUNT_OF_TYPE).find((t) => ACCOUNT_OF_TYPE[t] === q.account),
    );
  if (q.kind) add('t.kind = ?', q.kind);
  if (q.startTime) add('e.created_at >= ?', q.startTime);
  if (q.endTime) add('e.created_at < ?', q.endTime);
  const from = `FROM ledger_entries e JOIN accounts a ON a.id = e.account_id JOIN ledger_transactions t ON t.id = e.transaction_id WHERE ${where.join(' AND ')}`;
  const sequelize = Account.sequelize!;
  const [{ total }] = await sequelize.query<{ total: string }>(
    `SELECT COUNT(*)::text AS total ${from}`,
    { bind, type: QueryTypes.SELECT },
  );
  const rows = await sequelize.query<{
    id: string;
    transaction_id: string;
    kind: string;
    type: string;
    amount: string;
    balance_after: string;
    memo: string | null;
    created_at: Date;
  }>(
    `SELECT e.id, e.transaction_id, t.kind, a.type, e.amount::text, e.balance_after::text, e.memo, e.created_at
     ${from} ORDER BY e.id DESC LIMIT $${bind.length + 1} OFFSET $${bind.length + 2}`,
    { bind: [...bind, q.pageSize, (q.page - 1) * q.pageSize], type: QueryTypes.SELECT },
  );
  return {
    items: rows.map((r) => ({
      id: String(r.id),
      transactionId: String(r.transaction_id),
      kind: r.kind,
      account: ACCOUNT_OF_TYPE[r.type],
      amount: idrToJson(toIdr(r.amount)),
      balanceAfter: idrToJson(toIdr(r.balance_after)),
      memo: r.memo,
      createdAt: r.created_at,
    })),
    page: q.page,
    pageSize: q.pageSize,
    total: Number(total),
  };
}
