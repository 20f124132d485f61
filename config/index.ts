import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import dotenv from 'dotenv';
import Joi from 'joi';
import { PROJECT_ROOT } from '../src/lib/project-root';
import { MARKET_DEFAULTS } from './market';

/** Adapter choice for an outside party: the built-in deterministic sandbox or the real HTTP client. */
export type AdapterMode = 'sandbox' | 'http';

/** The whole configuration, validated once and frozen. The only reader of process.env. */
export interface Config {
  nodeEnv: 'development' | 'test' | 'production';
  port: number;
  /** Web processes per machine (cluster children sharing PORT). */
  webConcurrency: number;
  /** Worker processes per machine. */
  workerProcesses: number;
  databaseUrl: string;
  redisUrl: string;
  logLevel: string;
  logFormat: 'json' | 'pretty';
  queuePrefix: string;
  lockTtlSeconds: number;
  settlementDelaySeconds: number;
  minInvestAmount: bigint;
  investStepAmount: bigint;
  investorLimitAmount: bigint;
  /** The part of each new loan auto-invest may buy, a decimal fraction ("0.5"). */
  autoInvestMaxShare: string;
  superInvestorUserId: number;
  gateway: {
    mode: AdapterMode;
    secret: string;
    /** A payout's decline waits this long for a status query to confirm it. */
    declineConfirmSeconds: number;
    sandboxDelayMs: number;
    sandboxUnknownMs: number;
    /** Where the sandbox delivers its signed callbacks (this API's callback route). */
    sandboxCallbackUrl: string;
    httpUrl?: string;
  };
  partner: { mode: AdapterMode; secret: string; httpUrl?: string };
  kycMode: AdapterMode;
  /** A KYC submission still pending this long after it was made goes to manual review. */
  kycProviderTimeoutSeconds: number;
  smsMode: AdapterMode;
  /** Work that waits this long for a job that never came is started again by the recovery sweeper. */
  recoveryGraceSeconds: number;
  admin: { user: string; password: string; sessionTtlSeconds: number };
  /** 32-byte key (hex) for PII at rest: AES-256-GCM and HMAC lookup hashes derive from it. */
  dataEncryptionKey: string;
  /** Trust X-Forwarded-For (only behind a proxy that sets it). */
  trustProxy: boolean;
  /**
   * How many proxies of ours append to X-Forwarded-For: the client address is the entry the
   * outermost of them saw (Koa's maxIpsCount), never an entry the client wrote itself.
   */
  trustProxyHops: number;
  /** Bearer token that /metrics asks for when set (open when unset). */
  metricsToken?: string;
  auth: {
    sessionTtlSeconds: number;
    /** An investor session ends this long after login however active it is. */
    sessionMaxAgeSeconds: number;
    /** Withdrawals wait this long after a bound card is replaced. */
    cardChangeWithdrawHoldSeconds: number;
    captchaTtlSeconds: number;
    loginMaxFailures: number;
    loginLockSeconds: number;
  };
  smsHttp: { url?: string; apiKey?: string };
  kycHttp: { url?: string; apiKey?: string };
  sms: { perMinutePerMobile: number; perDayPerMobile: number; perDayPerIp: number };
  market: {
    tradeCountLimit: number;
    fenqiLimitMonths: number;
    daoqiLimitDays: number;
    holdDays: number;
    durationDays: number;
    feeRate: string;
    minOrderAmount: bigint;
    incrOrderAmount: bigint;
    noteLifetimeHours: number;
  };
}

/** An adapter mode: sandbox by default, and in production it must be set, to `http`. */
const mode = Joi.string()
  .valid('sandbox', 'http')
  .default('sandbox')
  .when('NODE_ENV', {
    is: 'production',
    then: Joi.required()
      .invalid('sandbox')
      .messages({ 'any.invalid': '{{#label}} must not be "sandbox" when NODE_ENV=production' }),
  });
const idr = (def: number) =>
  Joi.number().integer().min(0).max(Number.MAX_SAFE_INTEGER).default(def);
const positive = (def: number) => Joi.number().integer().min(1).default(def);
const nonNegative = (def: number) => Joi.number().integer().min(0).default(def);
/** A process count: one per CPU, one under NODE_ENV=test (deterministic tests). */
const processCount = Joi.number()
  .integer()
  .min(1)
  .default(
    Joi.ref('NODE_ENV', { adjust: (e: string) => (e === 'test' ? 1 : os.availableParallelism()) }),
  );
const devSecret = (name: string) =>
  Joi.string()
    .min(16)
    .when('NODE_ENV', {
      is: 'production',
      then: Joi.required(),
      otherwise: Joi.optional().default(`dev-${name}-secret-change-me`),
    });

/** Every variable the process reads, with its local default. `.env.example` documents each. */
export const envSchema = Joi.object({
  NODE_ENV: Joi.string()
    .valid('development', 'test', 'production')
    .default('development')
    .description('development, test or production'),
  PORT: Joi.number().port().default(3000).description('web port'),
  WEB_CONCURRENCY: processCount.description(
    'web processes (node cluster children sharing `PORT`); default one per CPU, 1 under NODE_ENV=test',
  ),
  WORKER_PROCESSES: processCount.description(
    'worker processes (node cluster children); default one per CPU, 1 under NODE_ENV=test',
  ),
  DATABASE_URL: Joi.string()
    .uri({ scheme: ['postgres', 'postgresql'] })
    .default('postgres://postgres@127.0.0.1:5432/p2p_dev')
    .description('PostgreSQL'),
  REDIS_URL: Joi.string()
    .uri({ scheme: ['redis', 'rediss'] })
    .default('redis://127.0.0.1:6379/0')
    .description('Redis'),
  LOG_LEVEL: Joi.string()
    .valid('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent')
    .default('info')
    .description('pino level (`silent` in tests)'),
  LOG_FORMAT: Joi.string()
    .valid('json', 'pretty')
    .default(
      Joi.ref('NODE_ENV', { adjust: (e: string) => (e === 'development' ? 'pretty' : 'json') }),
    )
    .description('log line format; default pretty in development, else json'),
  QUEUE_PREFIX: Joi.string()
    .pattern(/^[a-z0-9_-]+$/i)
    .default('p2p')
    .description(
      "prefix of BullMQ keys: a queue's keys are `{<prefix>:<queue>}:…` (a Redis Cluster hash tag)",
    ),
  LOCK_TTL_SECONDS: positive(1800).description('purchase lock lifetime'),
  SETTLEMENT_DELAY_SECONDS: positive(21600).description('settlement deadline after publishedAt'),
  MIN_INVEST_AMOUNT: idr(100_000).description('smallest purchase, IDR'),
  INVEST_STEP_AMOUNT: Joi.number()
    .integer()
    .min(1)
    .default(100_000)
    .description('purchase step, IDR'),
  INVESTOR_LIMIT_AMOUNT: idr(2_000_000_000).description("an investor's outstanding limit, IDR"),
  AUTO_INVEST_MAX_SHARE: Joi.string()
    .pattern(/^(0(\.\d{1,4})?|1(\.0{1,4})?)$/)
    .default('0.5')
    .description(
      'part of each new loan that auto-invest rules may buy (a fraction, 0 to 1); the rest stays for manual buyers',
    ),
  SUPER_INVESTOR_USER_ID: positive(1).max(1000).description('the seeded super investor'),
  GATEWAY_MODE: mode.description('gateway adapter: sandbox or http'),
  GATEWAY_SECRET: devSecret('gateway').description(
    'HMAC secret of gateway callbacks (a dev value outside production; required in production)',
  ),
  GATEWAY_DECLINE_CONFIRM_SECONDS: positive(600).description(
    "a payout's decline is applied only when a status query this long after confirms it",
  ),
  GATEWAY_SANDBOX_DELAY_MS: nonNegative(200).description('sandbox callback delay'),
  GATEWAY_SANDBOX_UNKNOWN_MS: nonNegative(60_000).description(
    "how long the sandbox's silent cards stay pending; when its …0036 cards succeed after declining",
  ),
  GATEWAY_SANDBOX_CALLBACK_URL: Joi.string()
    .uri({ scheme: ['http', 'https'] })
    .default(
      Joi.ref('PORT', {
        adjust: (port: number) => `http://127.0.0.1:${port}/callbacks/v1/payments`,
      }),
    )
    .description(
      'where the sandbox gateway sends its signed callbacks; default http://127.0.0.1:PORT/callbacks/v1/payments',
    ),
  GATEWAY_HTTP_URL: Joi.string()
    .uri({ scheme: ['http', 'https'] })
    .when('GATEWAY_MODE', { is: 'http', then: Joi.required() })
    .description('real gateway (required when `GATEWAY_MODE=http`)'),
  PARTNER_MODE: mode.description('partner adapter'),
  PARTNER_HTTP_URL: Joi.string()
    .uri({ scheme: ['http', 'https'] })
    .when('PARTNER_MODE', { is: 'http', then: Joi.required() })
    .description("partner's API (required when `PARTNER_MODE=http`)"),
  PARTNER_SECRET: devSecret('partner').description(
    'HMAC secret of partner routes (a dev value outside production; required in production)',
  ),
  KYC_MODE: mode.description('KYC adapter'),
  KYC_PROVIDER_TIMEOUT_SECONDS: positive(900).description(
    'a KYC submission still unanswered this long after it goes to manual review (seed #4)',
  ),
  SMS_MODE: mode.description('SMS adapter'),
  RECOVERY_GRACE_SECONDS: positive(120).description(
    'work waiting this long for a job that never ran is started again by `recovery.sweep`',
  ),
  ADMIN_USER: Joi.string()
    .pattern(/^[a-zA-Z0-9_.-]{3,64}$/)
    .default('admin')
    .description('admin login'),
  ADMIN_PASSWORD: Joi.string()
    .min(8)
    .when('NODE_ENV', {
      is: 'production',
      then: Joi.required(),
      otherwise: Joi.optional().default('admin-password'),
    })
    .description('admin password (required in production)'),
  ADMIN_SESSION_TTL_SECONDS: positive(8 * 3600).description(
    'admin sessions end after this long unused',
  ),
  DATA_ENCRYPTION_KEY: Joi.string()
    .pattern(/^[0-9a-fA-F]{64}$/)
    .message('{{#label}} must be 64 hex characters (32 bytes)')
    .when('NODE_ENV', {
      is: 'production',
      then: Joi.required(),
      otherwise: Joi.optional().default(
        '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff',
      ),
    })
    .description(
      '64 hex chars: AES-256-GCM for PII at rest, HMAC lookup hashes (a public dev key outside production; required in production)',
    ),
  TRUST_PROXY: Joi.boolean()
    .default(false)
    .description('take client addresses from X-Forwarded-For (only behind a proxy)'),
  TRUST_PROXY_HOPS: positive(1).description(
    'proxies of ours that append to X-Forwarded-For; the client IP is the entry the outermost saw',
  ),
  METRICS_TOKEN: Joi.string()
    .min(16)
    .description('when set, `/metrics` asks for `Authorization: Bearer <token>`'),
  SESSION_MAX_AGE_HOURS: positive(720).description(
    'an investor session ends this long after login, however active',
  ),
  CARD_CHANGE_WITHDRAW_HOLD_HOURS: nonNegative(24).description(
    'withdrawals wait this long after a bound card is replaced',
  ),
  SESSION_TTL_SECONDS: positive(7 * 24 * 3600).description(
    'investor sessions end after this long unused (sliding)',
  ),
  CAPTCHA_TTL_SECONDS: positive(120).description('captcha answer lifetime'),
  LOGIN_MAX_FAILURES: positive(5).description(
    'failed logins per mobile (×10 per IP) before logins are refused for `LOGIN_LOCK_SECONDS`',
  ),
  LOGIN_LOCK_SECONDS: positive(900).description(
    'how long logins stay refused after `LOGIN_MAX_FAILURES`',
  ),
  SMS_HTTP_URL: Joi.string()
    .uri({ scheme: ['http', 'https'] })
    .when('SMS_MODE', { is: 'http', then: Joi.required() })
    .description('SMS provider (required when `SMS_MODE=http`)'),
  SMS_API_KEY: Joi.string()
    .min(8)
    .when('SMS_MODE', { is: 'http', then: Joi.required() })
    .description('SMS provider (required when `SMS_MODE=http`)'),
  KYC_HTTP_URL: Joi.string()
    .uri({ scheme: ['http', 'https'] })
    .when('KYC_MODE', { is: 'http', then: Joi.required() })
    .description('KYC provider (required when `KYC_MODE=http`)'),
  KYC_API_KEY: Joi.string()
    .min(8)
    .when('KYC_MODE', { is: 'http', then: Joi.required() })
    .description('KYC provider (required when `KYC_MODE=http`)'),
  SMS_PER_MINUTE_PER_MOBILE: positive(1).description('SMS code sends per minute per mobile'),
  SMS_PER_DAY_PER_MOBILE: positive(10).description('per day per mobile'),
  SMS_PER_DAY_PER_IP: positive(10).description('per day per IP'),
  TRANSFER_TRADE_COUNT_LIMIT: positive(MARKET_DEFAULTS.tradeCountLimit).description(
    'times an asset may change hands',
  ),
  TRANSFER_FENQI_LIMIT_MONTHS: nonNegative(MARKET_DEFAULTS.fenqiLimitMonths).description(
    'months left needed on installment loans',
  ),
  TRANSFER_DAOQI_LIMIT_DAYS: nonNegative(MARKET_DEFAULTS.daoqiLimitDays).description(
    'days left needed on bullet loans',
  ),
  TRANSFER_HOLD_DAYS: nonNegative(MARKET_DEFAULTS.holdDays).description(
    'days held before an asset can be sold',
  ),
  TRANSFER_DURATION_DAYS: nonNegative(MARKET_DEFAULTS.durationDays).description(
    'no sale this many days before the next repayment',
  ),
  TRANSFER_FEE_RATE: Joi.string()
    .pattern(/^(0(\.\d{1,6})?|1(\.0{1,6})?)$/)
    .default(MARKET_DEFAULTS.feeRate)
    .description('transfer fee, fraction of the principal sold'),
  TRANSFER_MIN_ORDER_AMOUNT: idr(MARKET_DEFAULTS.minOrderAmount).description(
    'smallest principal a buyer may take',
  ),
  TRANSFER_INCR_ORDER_AMOUNT: Joi.number()
    .integer()
    .min(1)
    .default(MARKET_DEFAULTS.incrOrderAmount)
    .description('principal step'),
  TRANSFER_NOTE_LIFETIME_HOURS: positive(MARKET_DEFAULTS.noteLifetimeHours).description(
    'note lifetime',
  ),
}).unknown(true);

/** Raised for an invalid environment; names every offending variable. */
export class ConfigError extends Error {
  constructor(
    readonly variables: string[],
    message: string,
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Validates an environment and builds the frozen configuration. Throws ConfigError. */
export function loadConfig(env: NodeJS.ProcessEnv): Readonly<Config> {
  // Empty strings mean "unset", as in most .env files.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''));
  const { value: v, error } = envSchema.validate(cleaned, { abortEarly: false, convert: true });
  if (error) {
    const variables = [...new Set(error.details.map((d) => String(d.context?.label ?? d.path[0])))];
    const lines = error.details.map((d) => `  ${d.context?.label ?? d.path[0]}: ${d.message}`);
    throw new ConfigError(variables, `Invalid configuration:\n${lines.join('\n')}`);
  }
  const config: Config = {
    nodeEnv: v.NODE_ENV,
    port: v.PORT,
    webConcurrency: v.WEB_CONCURRENCY,
    workerProcesses: v.WORKER_PROCESSES,
    databaseUrl: v.DATABASE_URL,
    redisUrl: v.REDIS_URL,
    logLevel: v.LOG_LEVEL,
    logFormat: v.LOG_FORMAT,
    queuePrefix: v.QUEUE_PREFIX,
    lockTtlSeconds: v.LOCK_TTL_SECONDS,
    settlementDelaySeconds: v.SETTLEMENT_DELAY_SECONDS,
    minInvestAmount: BigInt(v.MIN_INVEST_AMOUNT),
    investStepAmount: BigInt(v.INVEST_STEP_AMOUNT),
    investorLimitAmount: BigInt(v.INVESTOR_LIMIT_AMOUNT),
    autoInvestMaxShare: v.AUTO_INVEST_MAX_SHARE,
    superInvestorUserId: v.SUPER_INVESTOR_USER_ID,
    gateway: {
      mode: v.GATEWAY_MODE,
      secret: v.GATEWAY_SECRET,
      declineConfirmSeconds: v.GATEWAY_DECLINE_CONFIRM_SECONDS,
      sandboxDelayMs: v.GATEWAY_SANDBOX_DELAY_MS,
      sandboxUnknownMs: v.GATEWAY_SANDBOX_UNKNOWN_MS,
      sandboxCallbackUrl: v.GATEWAY_SANDBOX_CALLBACK_URL,
      httpUrl: v.GATEWAY_HTTP_URL,
    },
    partner: { mode: v.PARTNER_MODE, secret: v.PARTNER_SECRET, httpUrl: v.PARTNER_HTTP_URL },
    kycMode: v.KYC_MODE,
    kycProviderTimeoutSeconds: v.KYC_PROVIDER_TIMEOUT_SECONDS,
    smsMode: v.SMS_MODE,
    recoveryGraceSeconds: v.RECOVERY_GRACE_SECONDS,
    admin: {
      user: v.ADMIN_USER,
      password: v.ADMIN_PASSWORD,
      sessionTtlSeconds: v.ADMIN_SESSION_TTL_SECONDS,
    },
    dataEncryptionKey: v.DATA_ENCRYPTION_KEY,
    trustProxy: v.TRUST_PROXY,
    trustProxyHops: v.TRUST_PROXY_HOPS,
    metricsToken: v.METRICS_TOKEN,
    auth: {
      sessionTtlSeconds: v.SESSION_TTL_SECONDS,
      sessionMaxAgeSeconds: v.SESSION_MAX_AGE_HOURS * 3600,
      cardChangeWithdrawHoldSeconds: v.CARD_CHANGE_WITHDRAW_HOLD_HOURS * 3600,
      captchaTtlSeconds: v.CAPTCHA_TTL_SECONDS,
      loginMaxFailures: v.LOGIN_MAX_FAILURES,
      loginLockSeconds: v.LOGIN_LOCK_SECONDS,
    },
    smsHttp: { url: v.SMS_HTTP_URL, apiKey: v.SMS_API_KEY },
    kycHttp: { url: v.KYC_HTTP_URL, apiKey: v.KYC_API_KEY },
    sms: {
      perMinutePerMobile: v.SMS_PER_MINUTE_PER_MOBILE,
      perDayPerMobile: v.SMS_PER_DAY_PER_MOBILE,
      perDayPerIp: v.SMS_PER_DAY_PER_IP,
    },
    market: {
      tradeCountLimit: v.TRANSFER_TRADE_COUNT_LIMIT,
      fenqiLimitMonths: v.TRANSFER_FENQI_LIMIT_MONTHS,
      daoqiLimitDays: v.TRANSFER_DAOQI_LIMIT_DAYS,
      holdDays: v.TRANSFER_HOLD_DAYS,
      durationDays: v.TRANSFER_DURATION_DAYS,
      feeRate: v.TRANSFER_FEE_RATE,
      minOrderAmount: BigInt(v.TRANSFER_MIN_ORDER_AMOUNT),
      incrOrderAmount: BigInt(v.TRANSFER_INCR_ORDER_AMOUNT),
      noteLifetimeHours: v.TRANSFER_NOTE_LIFETIME_HOURS,
    },
  };
  return deepFreeze(config);
}

function deepFreeze<T extends object>(o: T): Readonly<T> {
  for (const value of Object.values(o)) {
    if (value && typeof value === 'object') deepFreeze(value as object);
  }
  return Object.freeze(o);
}

let cached: Readonly<Config> | undefined;

/**
 * The process configuration: `.env` (if present, never overriding the real environment), then
 * the environment. A bad value prints the variables at fault and exits with code 1.
 */
export function getConfig(): Readonly<Config> {
  if (cached) return cached;
  const envFile = path.join(PROJECT_ROOT, '.env');
  if (fs.existsSync(envFile)) dotenv.config({ path: envFile, quiet: true });
  try {
    cached = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  return cached;
}
