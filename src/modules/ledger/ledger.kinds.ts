/**
 * Every kind of ledger transaction (the closed set of money movements). Seed 003's money-record
 * types 106/107/108 are transfer_buy, transfer_fee and transfer_sell.
 */
export enum LedgerKind {
  Recharge = 'recharge',
  WithdrawalLock = 'withdrawal_lock',
  WithdrawalPaid = 'withdrawal_paid',
  WithdrawalReturned = 'withdrawal_returned',
  PurchaseLock = 'purchase_lock',
  PurchasePaid = 'purchase_paid',
  PurchaseRelease = 'purchase_release',
  PurchaseRefund = 'purchase_refund',
  SuperInvestorTopUp = 'super_investor_topup',
  Disbursement = 'disbursement',
  ServiceFee = 'service_fee',
  RepaymentReceived = 'repayment_received',
  RepaymentClearing = 'repayment_clearing',
  RepaymentReturned = 'repayment_returned',
  TransferBuy = 'transfer_buy',
  TransferSell = 'transfer_sell',
  TransferFee = 'transfer_fee',
  Reversal = 'reversal',
  Adjustment = 'adjustment',
}
