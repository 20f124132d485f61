/**
 * The main flows, told once for the reader of /docs (the document's description, which Swagger
 * UI shows first), and the request examples of the operations they use (each checked against
 * the route's own joi schema by test/unit/openapi.test.ts).
 */

export const FLOWS = `
Client routes under \`/api/v1\` (\`Authorization: Bearer <token>\` from login), partner routes under
\`/partner/v1\` and gateway callbacks under \`/callbacks/v1\` (signed: \`X-Timestamp\`, and
\`X-Signature\` = hex HMAC-SHA256 of \`\${timestamp}.\${rawBody}\`), admin routes under \`/admin/v1\`.
Errors are \`{"error":{"code","message","details":[{"path","message"}]}}\`. Amounts are integer IDR;
rates are percent per year, returned as strings with 4 decimals. Mutating client routes take an
\`Idempotency-Key\` header: the same key and body answer the same result, once.

## Main flows

**1. Become an investor.** \`GET /api/v1/captcha\` → \`POST /api/v1/sms-codes\`
(\`purpose: "register"\`, the captcha's answer) → \`POST /api/v1/auth/register\` with the SMS code →
a token. Then \`POST /api/v1/me/kyc\` (name and NIK; 202, poll \`GET /api/v1/me/kyc\` until
\`verified\`), \`GET /api/v1/banks\` and \`POST /api/v1/me/bank-cards\` (the card's BIN must be its
bank's).

**2. Buy a share of a loan.** \`GET /api/v1/loans\` (open loans; filters, \`nextCursor\`) →
\`POST /api/v1/orders\` \`{creditorNo, amount, payWith}\` → 202 \`pending\`; poll
\`GET /api/v1/orders/{id}\`: \`locked\`/\`paying\` while the gateway collects from the card
(\`payWith: "card"\`), then \`paid\` — or \`rejected\` with \`failCode\` when a purchase rule fails.
\`payWith: "wallet"\` pays at once from \`available\` (fill it with \`POST /api/v1/me/recharges\`).
What is held: \`GET /api/v1/me/orders\`, \`GET /api/v1/me/assets\`, money flows
\`GET /api/v1/me/ledger\`, balances \`GET /api/v1/me/account\`.

**3. Invest automatically.** \`PUT /api/v1/me/auto-invest\` (amount per loan, filters, reserve,
cap) → each new matching loan is bought from the wallet in a fair queue;
\`GET /api/v1/me/auto-invest/history\` says what the rule did with each loan.

**4. Sell on the secondary market.** \`POST /api/v1/credit-notes/calc\` then
\`POST /api/v1/credit-notes\` \`{assetId, amount, discountRate}\`; buyers find it at
\`GET /api/v1/credit-notes\`, price it with \`POST /api/v1/credit-orders/calc\` and buy with
\`POST /api/v1/credit-orders\` \`{noteId, principal}\` (202; poll \`GET /api/v1/credit-orders/{id}\`
until \`success\`). \`DELETE /api/v1/credit-notes/{id}\` withdraws the unsold part.

**5. The partner's side.** \`POST /partner/v1/loans\` (every field of the loan; the same body again
is the same loan) → the loan is open for investors; after settlement and disbursement
\`GET /partner/v1/loans/{creditorNo}\` returns the repayment plan; each repayment is reported
with \`POST /partner/v1/repayments\` and split among the holders once the money arrives.

**6. The gateway's side.** Every payment ends with a signed \`POST /callbacks/v1/payments\`
\`{instructionId, gatewayTxnId, status, amount}\`: stored, answered 200 at once, applied once.
`.trim();

/** Request body examples of the main flows' operations, by `METHOD path`. */
export const REQUEST_EXAMPLES: Record<string, unknown> = {
  'POST /api/v1/sms-codes': {
    mobile: '081234567890',
    captchaId: '5f0c2a8e-1d6b-4c1e-9d52-6b2f7e0a9c11',
    captchaText: 'x7Kp',
    purpose: 'register',
  },
  'POST /api/v1/auth/register': {
    mobile: '081234567890',
    smsCode: '123456',
    password: 'Kopi-Tubruk-2026!',
  },
  'POST /api/v1/auth/login': { mobile: '081234567890', password: 'Kopi-Tubruk-2026!' },
  'POST /api/v1/me/kyc': { realName: 'Siti Rahayu', idCardNo: '3174055501950001' },
  'POST /api/v1/me/bank-cards': { bankCode: 'BCA', cardNo: '4556330012344242' },
  'POST /api/v1/me/recharges': { amount: 5_000_000 },
  'POST /api/v1/me/withdrawals': { amount: 1_000_000 },
  'POST /api/v1/orders': { creditorNo: 'CR20261122000001', amount: 1_000_000, payWith: 'card' },
  'PUT /api/v1/me/auto-invest': {
    enabled: true,
    amountPerLoan: 500_000,
    minYearRate: '10.0000',
    maxYearRate: '16.0000',
    repaymentMethods: ['bullet', 'equal_installment'],
    maxTermDays: 180,
    riskLevels: ['A', 'B'],
    reserveBalance: 1_000_000,
    maxTotalInvested: 50_000_000,
  },
  'POST /api/v1/credit-notes/calc': { assetId: '42', amount: 500_000, discountRate: '1.5' },
  'POST /api/v1/credit-notes': { assetId: '42', amount: 500_000, discountRate: '1.5' },
  'POST /api/v1/credit-orders/calc': { noteId: '7', principal: 200_000 },
  'POST /api/v1/credit-orders': { noteId: '7', principal: 200_000 },
  'POST /partner/v1/loans': {
    creditorNo: 'CR20261122000001',
    loanPurpose: 'modal usaha',
    riskLevel: 'A',
    yearRateFin: '12.5',
    yearRateLoan: '18',
    term: 3,
    termUnit: 'month',
    repaymentMethod: 'equal_installment',
    amountApply: 10_000_000,
    serviceFee: 500_000,
    publishedAt: '2026-11-22T09:00:00+07:00',
    borrowerId: 'B000123',
    bankCode: 'BCA',
    bankName: 'Bank Central Asia',
    bankCardNo: '4556330098761234',
    bankCardHolder: 'Rina Herlina',
    source: 'doit',
  },
  'POST /partner/v1/repayments': {
    creditorNo: 'CR20261122000001',
    period: 1,
    repaymentNo: 'RP20261222000001',
    principal: 3_300_000,
    interest: 150_000,
    lateFee: 0,
    overdueServiceFee: 0,
    paidAt: '2026-12-22T10:00:00+07:00',
  },
  'POST /callbacks/v1/payments': {
    instructionId: '1001',
    gatewayTxnId: 'MK-20261122-000123',
    status: 'success',
    amount: 1_000_000,
  },
};
