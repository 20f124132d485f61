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
