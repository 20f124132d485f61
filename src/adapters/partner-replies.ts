import Joi from 'joi';
import { AppError } from '../lib/errors';

/** Borrower information from the partner (seed 000 item 10). PII: handled encrypted. */
export interface BorrowerInfo {
  lenderId: string;
  name: string;
  idCardNo: string;
  mobile: string;
  email: string;
  /** "0" unknown, "1" man, "2" woman, as the partner sends it. */
  sex: string;
  /** Null when the partner gives none (its 0 means "not filled in"). */
  age: number | null;
  isMarried: boolean | null;
  identity: string;
  education: string;
  /** ISO date `YYYY-MM-DD`, or '' when the partner gives none or an impossible one. */
  birthday: string;
  religion: string;
  address: string;
  isIdentityAuth: boolean;
  isBankCardAuth: boolean;
  isLinkmanAuth: boolean;
  isInsuranceCardAuth: boolean;
  isFamilyCardAuth: boolean;
}

/** A bank of the partner's list (seed 000 item 6), as the `banks` table keeps it. */
export interface PartnerBank {
  bankCode: string;
  bankName: string;
  binPrefixes: string[];
}

/** An item of the partner's bank list that was left out, and why (bankCode when readable). */
export interface SkippedBank {
  index: number;
  bankCode?: string;
  reason: string;
}

const badReply = (what: string, why: string) =>
  new AppError('SERVICE_UNAVAILABLE', `partner ${what} reply is unusable: ${why}`, [], {
    retryable: true,
  });

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The partner answers either the bare object or `{data: …}` (its usual envelope). */
function unwrap(reply: unknown, probe: string): unknown {
  if (isRecord(reply) && !(probe in reply) && 'data' in reply) return reply.data;
  return reply;
}

/**
 * A yes/no flag of the partner: "1", 1 and true are yes; "0", 0, false, null and anything
 * else are no (never taken as verified by mistake: `Boolean("0")` would be true).
 */
export const partnerFlag = (v: unknown): boolean => v === true || v === 1 || v === '1';

/** Like partnerFlag, but an absent or unreadable value stays unknown (null). */
function optionalFlag(v: unknown): boolean | null {
  if (v === true || v === 1 || v === '1') return true;
  if (v === false || v === 0 || v === '0') return false;
  return null;
}

const text = (v: unknown): string =>
  typeof v === 'string' ? v.trim() : typeof v === 'number' ? String(v) : '';

/**
 * The partner's `birty` (D/M/YYYY, e.g. "23/1/1995"; an ISO date is taken too) as ISO
 * `YYYY-MM-DD`; '' when missing or not a real date.
 */
export function isoBirthday(v: unknown): string {
  if (typeof v !== 'string') return '';
  const s = v.trim();
  const dmy = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(s);
  const iso = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  const [year, month, day] = dmy
    ? [Number(dmy[3]), Number(dmy[2]), Number(dmy[1])]
    : iso
      ? [Number(iso[1]), Number(iso[2]), Number(iso[3])]
      : [0, 0, 0];
  if (year < 1900) return '';
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return '';
  return date.toISOString().slice(0, 10);
}

function ageOf(v: unknown): number | null {
  const n = typeof v === 'string' && /^\d{1,3}$/.test(v.trim()) ? Number(v) : v;
  return typeof n === 'number' && Number.isInteger(n) && n > 0 && n < 150 ? n : null;
}

const textField = (max: number) =>
  Joi.alternatives(Joi.string().allow('').max(max), Joi.number()).allow(null);

/** The fields of seed item 10's reply that must be there and readable; others are lenient. */
const borrowerReply = Joi.object({
  lenderId: textField(128),
  name: Joi.string().trim().min(1).max(200).required(),
  idCardNo: Joi.string().trim().min(1).max(64).required(),
  sex: textField(8),
  mobile: textField(32),
  email: textField(320),
  identidy: textField(100),
  acdemic: textField(100),
  religion: textField(100),
  address: textField(500),
}).unknown(true);

/**
 * Maps the partner's borrower reply (seed 000 item 10, `api-order/order/selectLenderUserInfo`,
 * bare or wrapped as `{data: {...}}`) onto BorrowerInfo: flags "1"/"0" become booleans,
 * `birty` D/M/YYYY becomes ISO `birthday`, `acdemic` → education, `identidy` → identity,
 * `isLindManAuth` → isLinkmanAuth. A reply without `name` or `idCardNo`, or with unreadable
 * fields, is SERVICE_UNAVAILABLE (retryable: the job tries again).
 */
export function borrowerFromReply(reply: unknown, borrowerId = ''): BorrowerInfo {
  const r = unwrap(reply, 'name');
  if (!isRecord(r)) throw badReply('borrower', 'not an object');
  const { error, value } = borrowerReply.validate(r, { convert: true });
  if (error) throw badReply('borrower', error.message);
  const v = value as Record<string, unknown>;
  return {
    lenderId: text(v.lenderId) || borrowerId,
    name: v.name as string,
    idCardNo: v.idCardNo as string,
    mobile: text(v.mobile),
    email: text(v.email),
    sex: text(v.sex),
    age: ageOf(v.age),
    isMarried: optionalFlag(v.isMarried),
    identity: text(v.identidy ?? v.identity),
    education: text(v.acdemic ?? v.education),
    birthday: isoBirthday(v.birty ?? v.birthday),
    religion: text(v.religion),
    address: text(v.address),
    isIdentityAuth: partnerFlag(v.isIdentidyAuth ?? v.isIdentityAuth),
    isBankCardAuth: partnerFlag(v.isBankCardAuth),
    isLinkmanAuth: partnerFlag(v.isLindManAuth ?? v.isLinkmanAuth),
    isInsuranceCardAuth: partnerFlag(v.isInsuranceCardAuth),
    isFamilyCardAuth: partnerFlag(v.isFamilyCardAuth),
  };
}

/**
 * The partner's active-loan answer (seed 000 item 11), bare or in `{data: …}`. Fails closed:
 * anything but true/false/"1"/"0"/1/0 is SERVICE_UNAVAILABLE (retryable), never "no loan".
 */
export function activeLoanFromReply(reply: unknown): boolean {
  const r = unwrap(reply, 'hasActiveLoan');
  const v = isRecord(r) ? r.hasActiveLoan : undefined;
  if (v === true || v === '1' || v === 1) return true;
  if (v === false || v === '0' || v === 0) return false;
  throw badReply('active-loan', `hasActiveLoan is ${JSON.stringify(v) ?? 'missing'}`);
}

const bankItem = Joi.object({
  bankCode: Joi.string()
    .trim()
    .pattern(/^[A-Za-z0-9_-]{1,32}$/)
    .required(),
  bankName: Joi.string().trim().min(1).max(200).required(),
  binPrefixes: Joi.array()
    .items(Joi.string().pattern(/^\d{1,19}$/))
    .unique()
    .default([]),
});

/**
 * The partner's bank list (seed 000 item 6, `/system/getBankInfo`): an array or `{data: [...]}`
 * of items with `bankCode` (or `code`), `bankName` (or `name`) and `binPrefixes` (or `bins`,
 * digit strings; absent → []). Invalid or repeated items are returned as `skipped` for the
 * caller to log; a reply that is no list, or has no valid item, is SERVICE_UNAVAILABLE.
 */
export function banksFromReply(reply: unknown): { banks: PartnerBank[]; skipped: SkippedBank[] } {
  const list = unwrap(reply, '');
  if (!Array.isArray(list)) throw badReply('bank list', 'not a list');
  const banks: PartnerBank[] = [];
  const skipped: SkippedBank[] = [];
  const seen = new Set<string>();
  list.forEach((item, index) => {
    if (!isRecord(item)) {
      skipped.push({ index, reason: 'not an object' });
      return;
    }
    const candidate = {
      bankCode: item.bankCode ?? item.code,
      bankName: item.bankName ?? item.name,
      binPrefixes: item.binPrefixes ?? item.bins ?? undefined,
    };
    if (candidate.binPrefixes === null) candidate.binPrefixes = undefined;
    const readableCode =
      typeof candidate.bankCode === 'string' && candidate.bankCode.trim()
        ? candidate.bankCode.trim()
        : undefined;
    const { error, value } = bankItem.validate(candidate);
    if (error) {
      skipped.push({ index, bankCode: readableCode, reason: error.message });
      return;
    }
    const bank = value as PartnerBank;
    if (seen.has(bank.bankCode)) {
      skipped.push({ index, bankCode: bank.bankCode, reason: 'bankCode listed twice' });
      return;
    }
    seen.add(bank.bankCode);
    banks.push(bank);
  });
  if (banks.length === 0)
    throw badReply('bank list', list.length === 0 ? 'empty' : 'no valid item');
  return { banks, skipped };
}
