import { nowMs } from '../lib/clock';

/**
 * Every deterministic BullMQ job id, built in one place. A job id is how BullMQ de-duplicates:
 * the same id added twice while the first is kept gives one job, so each id names the one piece
 * of work it stands for (a row, an attempt, a minute). Changing a format changes what counts as
 * "the same job": keep them stable.
 */
export const jobIds = {
  /** The job of one outbox row (relay fast path and sweeper alike). */
  outbox: (rowId: string | number): string => `outbox-${rowId}`,
  /** A recovery sweeper's job for one stuck row, once per minute however many sweepers run. */
  recovery: (tag: string, key: string, minute = recoveryMinute()): string =>
    `${tag}-${key}-${minute}`,
  /** One delivery attempt of a partner notification. */
  partnerNotify: (notificationId: string | number, attempt: number): string =>
    `notify-${notificationId}-${attempt}`,
  /** The resubmission of a lost submit, per submit attempt. */
  instructionResubmit: (instructionId: string | number, attempt: number): string =>
    `resubmit-${instructionId}-${attempt}`,
  /** A status query of an instruction, per query attempt. */
  instructionQuery: (instructionId: string | number, attempt: number): string =>
    `query-${instructionId}-${attempt}`,
  /** The sandbox gateway's callback of an instruction (a tag for its second, contradicting one). */
  sandboxCallback: (instructionId: string, tag?: string): string =>
    `gw-callback-${instructionId}${tag ? `-${tag}` : ''}`,
};

/** The one-minute time bucket (on the clock) of recovery job ids. */
export const recoveryMinute = (): number => Math.floor(nowMs() / 60_000);
