/**
 * Secondary-market rules (seed 003). The file holds the defaults; each is overridable by the
 * env variable named beside it (validated in config/index.ts).
 */
export const MARKET_DEFAULTS = {
  /** TRANSFER_TRADE_COUNT_LIMIT: how many times one asset may change hands. */
  tradeCountLimit: 3,
  /** TRANSFER_FENQI_LIMIT_MONTHS: installment loans need at least this many months left. */
  fenqiLimitMonths: 1,
  /** TRANSFER_DAOQI_LIMIT_DAYS: bullet loans need at least this many days left. */
  daoqiLimitDays: 10,
  /** TRANSFER_HOLD_DAYS: an asset must be held this many days before it can be sold. */
  holdDays: 3,
  /** TRANSFER_DURATION_DAYS: no sale this many days before the next repayment. */
  durationDays: 3,
  /** TRANSFER_FEE_RATE: fee on the principal sold, a fraction (0.005 = 0.5%). */
  feeRate: '0.005',
  /** TRANSFER_MIN_ORDER_AMOUNT: smallest principal a buyer may take, IDR. */
  minOrderAmount: 100_000,
  /** TRANSFER_INCR_ORDER_AMOUNT: principal step above the minimum, IDR. */
  incrOrderAmount: 100_000,
  /** TRANSFER_NOTE_LIFETIME_HOURS: a note closes this long after it is created. */
  noteLifetimeHours: 72,
} as const;
