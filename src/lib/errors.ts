/** The closed set of error codes, each with its HTTP status. Processors map the same codes. */
export const ERROR_CODES = {
  VALIDATION_ERROR: 400,
  MALFORMED_JSON: 400,
  CAPTCHA_INVALID: 400,
  SMS_CODE_INVALID: 400,
  UNAUTHORIZED: 401,
  INVALID_CREDENTIALS: 401,
  INVALID_SIGNATURE: 401,
  FORBIDDEN: 403,
  REAUTH_REQUIRED: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  IDEMPOTENCY_CONFLICT: 409,
  INVALID_STATE_TRANSITION: 409,
  MOBILE_ALREADY_REGISTERED: 409,
  KYC_ALREADY_SUBMITTED: 409,
  NIK_ALREADY_USED: 409,
  CARD_ALREADY_BOUND: 409,
  LOAN_CONFLICT: 409,
  NOTE_CLOSED: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  INSUFFICIENT_BALANCE: 422,
  KYC_REQUIRED: 422,
  BANK_CARD_REQUIRED: 422,
  UNKNOWN_BANK: 422,
  CARD_BANK_MISMATCH: 422,
  LOAN_NOT_REPAYING: 422,
  ASSET_NOT_HELD: 422,
  LOAN_MATURED: 422,
  TRADE_COUNT_LIMIT: 422,
  INSTALLMENT_TERM_TOO_SHORT: 422,
  BULLET_TERM_TOO_SHORT: 422,
  BEFORE_INTEREST_START: 422,
  AFTER_NEXT_REPAYMENT: 422,
  HOLD_DAYS_NOT_REACHED: 422,
  TOO_CLOSE_TO_REPAYMENT: 422,
  AMOUNT_OVER_TRADABLE: 422,
  AMOUNT_BELOW_MINIMUM: 422,
  REMAINDER_BELOW_MINIMUM: 422,
  AMOUNT_NOT_INCREMENT: 422,
  NOTE_ENDED: 422,
  OWN_NOTE: 422,
  OVER_LIMIT: 422,
  WITHDRAWAL_ON_HOLD: 422,
  DISCOUNT_TOO_HIGH: 422,
  LEDGER_UNBALANCED: 500,
  RATE_LIMITED: 429,
  INTERNAL_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
} as const;

/** One of the closed set of error codes. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** What each code means to a client (docs/errors.md is generated from it). */
export const ERROR_MEANINGS: { readonly [C in ErrorCode]: string } = {
  VALIDATION_ERROR: 'a field is missing, malformed, out of range or unknown; `details` names each',
  MALFORMED_JSON: 'the body is not valid JSON',
  CAPTCHA_INVALID: 'the captcha answer is wrong or expired',
  SMS_CODE_INVALID: 'the SMS code is wrong, expired or already used',
  UNAUTHORIZED: 'no valid session or admin token',
  INVALID_CREDENTIALS: 'wrong mobile or password (the same answer for both)',
  INVALID_SIGNATURE: 'a partner or gateway request whose HMAC signature, timestamp or nonce fails',
  FORBIDDEN: 'the caller may not touch this resource',
  REAUTH_REQUIRED: 'a sensitive change (card replacement) needs the password again',
  NOT_FOUND: 'no such route or resource (or not the caller’s)',
  CONFLICT: 'the resource is in the middle of something else; retry later',
  IDEMPOTENCY_CONFLICT: 'an idempotency key reused with a different request',
  INVALID_STATE_TRANSITION: 'the resource’s state does not allow this step',
  MOBILE_ALREADY_REGISTERED:
    'the mobile number already has an account (told only to the SMS code’s holder)',
  KYC_ALREADY_SUBMITTED: 'identity verification was already submitted',
  NIK_ALREADY_USED: 'the NIK belongs to another investor',
  CARD_ALREADY_BOUND: 'the investor already has a bank card (replace it instead)',
  LOAN_CONFLICT: 'the partner sent a loan number again with different content',
  NOTE_CLOSED: 'the credit note is already sold out, cancelled or expired',
  PAYLOAD_TOO_LARGE: 'the body is over the size limit',
  UNSUPPORTED_MEDIA_TYPE: 'the body is not JSON',
  INSUFFICIENT_BALANCE: 'the wallet’s available balance does not cover the amount',
  KYC_REQUIRED: 'the investor has not passed identity verification',
  BANK_CARD_REQUIRED: 'the investor has no bound bank card',
  UNKNOWN_BANK: 'the card number matches no bank of the list',
  CARD_BANK_MISMATCH: 'the card number belongs to another bank than the one named',
  LOAN_NOT_REPAYING: 'the loan is not in repayment (secondary market, repayments)',
  ASSET_NOT_HELD: 'the asset is not the seller’s or no longer held',
  LOAN_MATURED: 'the loan’s last repayment date has passed',
  TRADE_COUNT_LIMIT: 'the asset changed hands `TRANSFER_TRADE_COUNT_LIMIT` times already',
  INSTALLMENT_TERM_TOO_SHORT:
    'an installment loan has less than `TRANSFER_FENQI_LIMIT_MONTHS` left',
  BULLET_TERM_TOO_SHORT: 'a bullet loan has less than `TRANSFER_DAOQI_LIMIT_DAYS` left',
  BEFORE_INTEREST_START: 'the loan has not started accruing interest yet',
  AFTER_NEXT_REPAYMENT: 'the next repayment date has passed without a repayment',
  HOLD_DAYS_NOT_REACHED: 'the asset was bought less than `TRANSFER_HOLD_DAYS` ago',
  TOO_CLOSE_TO_REPAYMENT: 'the next repayment is less than `TRANSFER_DURATION_DAYS` away',
  AMOUNT_OVER_TRADABLE: 'more principal than the asset (or the note) has left',
  AMOUNT_BELOW_MINIMUM: 'below the smallest amount allowed',
  REMAINDER_BELOW_MINIMUM: 'the part left after this one would be below the smallest amount',
  AMOUNT_NOT_INCREMENT: 'not a multiple of the step amount',
  NOTE_ENDED: 'the credit note’s lifetime is over',
  OWN_NOTE: 'an investor cannot buy their own credit note',
  OVER_LIMIT: 'the purchase would take the investor over `INVESTOR_LIMIT_AMOUNT`',
  WITHDRAWAL_ON_HOLD: 'withdrawals wait `CARD_CHANGE_WITHDRAW_HOLD_HOURS` after a card change',
  DISCOUNT_TOO_HIGH: 'at the note’s discount the buyer would pay no more than the transfer fee',
  LEDGER_UNBALANCED: 'an internal ledger transaction did not balance (a bug; nothing written)',
  RATE_LIMITED: 'too many requests; `Retry-After` says when to try again',
  INTERNAL_ERROR: 'an unexpected failure; nothing half-written is left',
  SERVICE_UNAVAILABLE: 'PostgreSQL or Redis does not answer; retry',
};

/** One field-level problem, as in the SPEC error shape. */
export interface ErrorDetail {
  path: string;
  message: string;
}

/**
 * The single error class. `operational` errors are expected outcomes (bad input, a rule that
 * failed); others are bugs. `retryable` tells processors whether another attempt may succeed.
 */
export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetail[] = [],
    readonly options: {
      operational?: boolean;
      retryable?: boolean;
      cause?: unknown;
      retryAfter?: number;
    } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'AppError';
    this.status = ERROR_CODES[code];
  }

  get operational(): boolean {
    return this.options.operational ?? this.status < 500;
  }

  get retryable(): boolean {
    return this.options.retryable ?? this.status >= 500;
  }

  /** The SPEC's JSON error body. */
  toBody(): { error: { code: ErrorCode; message: string; details: ErrorDetail[] } } {
    return { error: { code: this.code, message: this.message, details: this.details } };
  }
}

export const isAppError = (e: unknown): e is AppError => e instanceof AppError;
