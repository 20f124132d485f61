import pino, { type Logger } from 'pino';
import { maskCard, maskDigitRuns, maskIdCard, maskMobile } from './masking';

export type { Logger };

/** Keys whose values never reach a log line as they are. */
const SECRET_KEYS = [
  'password',
  'token',
  'secret',
  'authorization',
  'cookie',
  'smsCode',
  'captchaText',
];
const PII_MASKERS: Record<string, (v: string) => string> = {
  idCardNo: maskIdCard,
  nik: maskIdCard,
  cardNo: maskCard,
  bankCardNo: maskCard,
  mobile: maskMobile,
};

// PostgreSQL's data exceptions (SQLSTATE class 22: "invalid input syntax for type bigint:
// \"…\"", "value \"…\" is out of range") quote the offending value in their message, which
// pino repeats in the stack: the quoted parts of those go, the rest of the message stays.
const QUOTED = /"(?:[^"\\]|\\.)*"/g;
type SerializedErr = { code?: unknown; message?: unknown; stack?: unknown } & Record<
  string,
  unknown
>;

function scrubDataException(out: SerializedErr): SerializedErr {
  const layers = [out, out.parent, out.original].filter(
    (l): l is SerializedErr => typeof l === 'object' && l !== null,
  );
  if (!layers.some((l) => typeof l.code === 'string' && l.code.startsWith('22'))) return out;
  for (const l of layers) {
    for (const k of ['message', 'stack'] as const) {
      const v = l[k];
      if (typeof v === 'string') l[k] = v.replace(QUOTED, '"[redacted]"');
    }
  }
  return out;
}

/** pino's error serializer, without the values that database errors quote in their message. */
const errSerializer = (err: unknown): unknown => {
  const out = pino.stdSerializers.err(err as Error) as unknown;
  return typeof out === 'object' && out !== null ? scrubDataException(out as SerializedErr) : out;
};

function paths(keys: string[]): string[] {
  return keys.flatMap((k) => [k, `*.${k}`, `*.*.${k}`, `*.*.*.${k}`]);
}

/**
 * Builds the process logger: JSON lines, secrets censored, ID/card numbers and mobiles masked
 * wherever they appear in a logged object, digit runs masked in messages.
 */
export function createLogger(
  opts: { level: string; name: string; pretty?: boolean },
  destination?: pino.DestinationStream,
): Logger {
  const options: pino.LoggerOptions = {
    name: opts.name,
    level: opts.level,
    base: { pid: process.pid, proc: opts.name },
    timestamp: pino.stdTimeFunctions.isoTime,
    serializers: { err: errSerializer },
    redact: {
      paths: [
        ...paths(SECRET_KEYS),
        ...paths(Object.keys(PII_MASKERS)),
        'req.headers["x-signature"]',
        // Database errors carry their bind values (mobiles, ciphertexts) in their parameters,
        // their SQL, the server's detail ("Failing row contains (…)", "Key (mobile)=(…)") and,
        // for Sequelize's validation and unique errors, the fields and each item's value:
        // never log them.
        ...['err', '*.err'].flatMap((e) => [
          `${e}.parameters`,
          `${e}.original.parameters`,
          `${e}.parent.parameters`,
          `${e}.sql`,
          `${e}.original.sql`,
          `${e}.parent.sql`,
          `${e}.detail`,
          `${e}.original.detail`,
          `${e}.parent.detail`,
          // The server's context line may carry bind values ("portal parameter $1 = '…'").
          `${e}.original.where`,
          `${e}.parent.where`,
          `${e}.fields`,
          `${e}.errors[*].value`,
          `${e}.errors[*].instance`,
          // pino's error serializer repeats an error's `errors` as `aggregateErrors`.
          `${e}.aggregateErrors[*].value`,
          `${e}.aggregateErrors[*].instance`,
        ]),
      ],
      censor: (value, path) => {
        const key = path[path.length - 1];
        const masker = PII_MASKERS[key];
        if (masker && typeof value === 'string') return masker(value);
        return '[redacted]';
      },
    },
    hooks: {
      logMethod(args, method) {
        const masked = args.map((a) => (typeof a === 'string' ? maskDigitRuns(a) : a));
        return method.apply(this, masked as Parameters<typeof method>);
      },
    },
    ...(opts.pretty
      ? {
          transport: {
            target: 'pino-pretty',
            options: {
              colorize: true,
              singleLine: true,
              translateTime: 'SYS:HH:MM:ss.l',
              ignore: 'pid,hostname,proc',
            },
          },
        }
      : {}),
  };
  return destination ? pino(options, destination) : pino(options);
}
