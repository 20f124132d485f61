import Decimal from 'decimal.js';

/** Decimal configured for money work: enough precision, no exponent notation surprises. */
export const Dec = Decimal.clone({
  precision: 40,
  rounding: Decimal.ROUND_DOWN,
  toExpNeg: -40,
  toExpPos: 40,
});
export type Dec = Decimal;

/**
 * Parses an integer IDR amount from whatever the database or JSON gave (pg returns BIGINT as a
 * string). Refuses fractions, floats and anything that is not an integer.
 */
export function toIdr(value: string | number | bigint): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new RangeError(`not a safe integer amount: ${value}`);
    return BigInt(value);
  }
  if (!/^-?\d+$/.test(value)) throw new RangeError(`not an integer amount: ${value}`);
  return BigInt(value);
}

/** Sum of IDR amounts. */
export const sumIdr = (values: Iterable<bigint>): bigint => {
  let total = 0n;
  for (const v of values) total += v;
  return total;
};

/** A rate or ratio as a Decimal (percent rates arrive as numbers or strings). */
export const toRate = (value: string | number | Decimal): Decimal => new Dec(value);

/** A rate as the SPEC's string with 4 decimals ("12.5000"). */
export const formatRate = (value: string | number | Decimal): string => new Dec(value).toFixed(4);

/** floor(amount × ratio) in whole IDR; the fraction left over is for the caller to account for. */
export function mulFloor(amount: bigint, ratio: Decimal): bigint {
  return BigInt(new Dec(amount.toString()).mul(ratio).floor().toFixed(0));
}

/** Serialises bigint amounts in JSON bodies as numbers when safe, else as strings. */
export function idrToJson(value: bigint): number | string {
  return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)
    ? Number(value)
    : value.toString();
}
