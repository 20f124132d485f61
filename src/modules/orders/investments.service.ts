import { QueryTypes } from 'sequelize';
import { jakartaDate, now, nowMs, startOfJakartaDay } from '../../lib/clock';
import { Dec, idrToJson, toIdr } from '../../lib/money';
import { Order } from './order.model';

const DAY_MS = 86_400_000;

/** GET /api/v1/me/orders query (seed #8). */
export interface InvestmentQuery {
  page: number;
  pageSize: number;
  /** 1 investing, 2 ended. */
  status?: 1 | 2;
  /** 1 loans (散标); 2 and 3 are products not offered yet. */
  productType: number;
  /** 0 own range, 1 all, 2 today, 3 last month, 4 last three months. */
  flag: number;
  startTime?: Date;
  endTime?: Date;
}

interface Row {
  market: 'primary' | 'secondary';
  source: 'manual' | 'auto';
  id: string;
  asset_id: string | null;
  creditor_no: string;
  amount_buy: string;
  buy_time: Date | null;
  create_time: Date;
  term: number;
  year_rate_fin: string;
  due_time: Date | null;
  act_return_time: Date | null;
  status: number;
}

/**
 * The investment list (seed #8 `selectUsrOrderList`): every paid purchase of the primary market
 * and every share bought on the secondary market, newest first. An item is ended (status 2)
 * when its loan is repaid or failed or its asset was sold in full. `income` is what the
 * holding earned: the interest of its paid rows, plus the accrued interest buyers paid for the
 * parts sold, minus the accrued interest paid when it was bought. `source` is `auto` for a
 * purchase an auto-invest rule made, `manual` otherwise (secondary-market buys are manual).
 */
export async function listInvestments(userId: string, q: InvestmentQuery) {
  if (q.productType !== 1) return { items: [], page: q.page, pageSize: q.pageSize, total: 0 };
  const bind: unknown[] = [userId];
  const where: string[] = [];
  const add = (sql: string, value: unknown) => {
    bind.push(value);
    where.push(sql.replace('?', `$${bind.length}`));
  };
  const at = now();
  if (q.flag === 0) {
    add('i.create_time >= ?', q.startTime);
    add('i.create_time < ?', q.endTime);
  } else if (q.flag >= 2) {
    const since = {
      2: startOfJakartaDay(jakartaDate(at)),
      3: new Date(nowMs() - 30 * DAY_MS),
      4: new Date(nowMs() - 90 * DAY_MS),
    }[q.flag as 2 | 3 | 4];
    add('i.create_time >= ?', since);
  }
  if (q.status !== undefined) add('i.status = ?', q.status);
  const items = `
    WITH bought AS (
      SELECT 'primary' AS market, o.source, o.id, a.id AS asset_id, a.status AS asset_status, a.updated_at AS asset_at,
             o.loan_id, o.amount AS amount_buy, o.paid_at AS buy_time, o.created_at AS create_time
        FROM orders o LEFT JOIN assets a ON a.order_id = o.id
       WHERE o.user_id = $1 AND o.status = 'paid'
      UNION ALL
      SELECT 'secondary', 'manual', co.id, a.id, a.status, a.updated_at,
             co.loan_id, co.principal, a.created_at, co.created_at
        FROM credit_orders co JOIN assets a ON a.id = co.buyer_asset_id
       WHERE co.buyer_id = $1 AND co.status = 'success'),
    i AS (
      SELECT b.*, l.creditor_no, l.term, l.year_rate_fin, l.due_time,
             COALESCE(l.repaid_at, CASE WHEN b.asset_status = 'transferred' THEN b.asset_at END) AS act_return_time,
             CASE WHEN l.status IN ('repaid', 'failed') OR b.asset_status IN ('transferred', 'repaid')
                  THEN 2 ELSE 1 END AS status
        FROM bought b JOIN loans l ON l.id = b.loan_id)`;
  const filter = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const sequelize = Order.sequelize!;
  const [{ total }] = await sequelize.query<{ total: string }>(
    `${items} SELECT COUNT(*)::text AS total FROM i ${filter}`,
    { bind, type: QueryTypes.SELECT },
  );
  const rows = await sequelize.query<Row>(
    `${items} SELECT * FROM i ${filter} ORDER BY i.create_time DESC, i.id DESC
      LIMIT $${bind.length + 1} OFFSET $${bind.length + 2}`,
    { bind: [...bind, q.pageSize, (q.page - 1) * q.pageSize], type: QueryTypes.SELECT },
  );
  const assetIds = rows.map((r) => r.asset_id).filter((a): a is string => a !== null);
  const incomes = new Map(
    (
      await sequelize.query<{ asset_id: string; income: string }>(
        `SELECT a.id AS asset_id,
                (SELECT COALESCE(SUM(s.interest), 0) FROM repayment_schedules s WHERE s.asset_id = a.id AND s.status = 'paid')
              + (SELECT COALESCE(SUM(LEAST(c.interest, c.pay_amount)), 0) FROM credit_orders c
                  WHERE c.seller_asset_id = a.id AND c.status = 'success')
              - (SELECT COALESCE(SUM(LEAST(c.interest, c.pay_amount)), 0) FROM credit_orders c
                  WHERE c.buyer_asset_id = a.id AND c.status = 'success') AS income
           FROM assets a WHERE a.id = ANY($1::bigint[])`,
        { bind: [assetIds], type: QueryTypes.SELECT },
      )
    ).map((r) => [String(r.asset_id), toIdr(r.income)]),
  );
  const ms = (d: Date | null) => (d ? new Date(d).getTime() : null);
  return {
    items: rows.map((r) => ({
      id: String(r.id),
      market: r.market,
      source: r.source,
      creditorNo: r.creditor_no,
      amountBuy: idrToJson(toIdr(r.amount_buy)),
      term: r.term,
      yearRateFin: new Dec(r.year_rate_fin).toFixed(4),
      buyTime: ms(r.buy_time),
      dueTime: ms(r.due_time),
      actReturnTime: ms(r.act_return_time),
      createTime: ms(r.create_time),
      income: idrToJson(r.asset_id ? (incomes.get(String(r.asset_id)) ?? 0n) : 0n),
      status: Number(r.status),
      productType: 1,
    })),
    page: q.page,
    pageSize: q.pageSize,
    total: Number(total),
  };
}
