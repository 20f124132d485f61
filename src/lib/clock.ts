/**
 * The one source of "now" for decisions (lock expiry, deadlines, due dates, note end times,
 * accrued interest). Production reads the system time; tests and the simulator move it with
 * `setClock`. Bookkeeping timestamps (created_at, updated_at) stay on the database's clock.
 */
let source: () => number = Date.now;

/** Now, as a Date. */
export const now = (): Date => new Date(source());

/** Now, in milliseconds since the epoch. */
export const nowMs = (): number => source();

/** The Jakarta (UTC+7) calendar date of an instant, YYYY-MM-DD. */
export const jakartaDate = (t: Date): string =>
  new Date(t.getTime() + 7 * 3_600_000).toISOString().slice(0, 10);

/** Today in Jakarta, YYYY-MM-DD. */
export const today = (): string => jakartaDate(now());

/** The instant a Jakarta calendar day starts (00:00:00 +07:00). */
export const startOfJakartaDay = (date: string): Date => new Date(`${date}T00:00:00+07:00`);

/** The instant a Jakarta calendar day ends (23:59:59 +07:00). */
export const endOfJakartaDay = (date: string): Date => new Date(`${date}T23:59:59+07:00`);

/**
 * Moves the clock (tests and the simulator only): `offsetMs` shifts the system time, `at`
 * freezes it at one instant. Called with nothing, it goes back to the system time.
 */
export function setClock(opts: { offsetMs?: number; at?: Date } = {}): void {
  if (opts.at) {
    const fixed = opts.at.getTime();
    source = () => fixed;
  } else if (opts.offsetMs) {
    const offset = opts.offsetMs;
    source = () => Date.now() + offset;
  } else source = Date.now;
}

/** Shifts the clock forward by `ms` from where it stands, keeping it running. */
export function advanceClock(ms: number): void {
  const offset = source() - Date.now() + ms;
  source = () => Date.now() + offset;
}
