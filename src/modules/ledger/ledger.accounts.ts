/** Every kind of ledger account. Investor accounts are per user; the others exist once. */
export enum AccountType {
  InvestorAvailable = 'investor_available',
  InvestorLocked = 'investor_locked',
  InvestorInvested = 'investor_invested',
  Escrow = 'escrow',
  RevenueServiceFee = 'revenue:service_fee',
  RevenueSpread = 'revenue:spread',
  RevenueLateFee = 'revenue:late_fee',
  RevenueTransferFee = 'revenue:transfer_fee',
  SuperInvestor = 'super_investor',
  BorrowerPayable = 'borrower_payable',
  GatewayClearing = 'gateway_clearing',
}

export type InvestorAccountType =
  AccountType.InvestorAvailable | AccountType.InvestorLocked | AccountType.InvestorInvested;
export type PlatformAccountType = Exclude<AccountType, InvestorAccountType>;

export const INVESTOR_ACCOUNT_TYPES: readonly InvestorAccountType[] = [
  AccountType.InvestorAvailable,
  AccountType.InvestorLocked,
  AccountType.InvestorInvested,
];
export const PLATFORM_ACCOUNT_TYPES = Object.values(AccountType).filter(
  (t): t is PlatformAccountType => !(INVESTOR_ACCOUNT_TYPES as readonly string[]).includes(t),
);

/**
 * Sign convention: what the platform owes or has earned is positive (investor accounts,
 * revenues); what it holds or is owed is negative (escrow = cash in custody, borrower_payable =
 * principal borrowers owe, gateway_clearing = money in transit, super_investor = the platform's
 * own funding of top-ups). So every investor deposit is `escrow −X, available +X`, and the sum
 * of all balances is zero. Only the holding accounts may go below zero; every claim or revenue
 * is refused below zero (and the database enforces it too).
 */
export const ALLOW_NEGATIVE: ReadonlySet<AccountType> = new Set([
  AccountType.Escrow,
  AccountType.GatewayClearing,
  AccountType.BorrowerPayable,
  AccountType.SuperInvestor,
]);

/** Where an entry goes: a platform account, or one of an investor's three accounts. */
export type AccountRef =
  { type: PlatformAccountType } | { type: InvestorAccountType; userId: string | number | bigint };

const INVESTOR_SUFFIX: Record<InvestorAccountType, string> = {
  [AccountType.InvestorAvailable]: 'available',
  [AccountType.InvestorLocked]: 'locked',
  [AccountType.InvestorInvested]: 'invested',
};

export const isInvestorType = (t: AccountType): t is InvestorAccountType =>
  (INVESTOR_ACCOUNT_TYPES as readonly string[]).includes(t);

/** The account's unique code: `escrow`, `revenue:spread`, `investor:42:available`. */
export function accountCode(ref: AccountRef): string {
  if ('userId' in ref) return `investor:${ref.userId}:${INVESTOR_SUFFIX[ref.type]}`;
  return ref.type;
}

export const platformAccount = (type: PlatformAccountType): AccountRef => ({ type });
export const investorAccount = (
  userId: string | number | bigint,
  kind: 'available' | 'locked' | 'invested',
): AccountRef => ({
  type: {
    available: AccountType.InvestorAvailable,
    locked: AccountType.InvestorLocked,
    invested: AccountType.InvestorInvested,
  }[kind],
  userId,
});
