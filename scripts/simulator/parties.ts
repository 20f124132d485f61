import type { GatewayInstruction, GatewayPort, GatewayStatus } from '../../src/adapters/gateway';
import { SandboxKyc } from '../../src/adapters/kyc';
import { SandboxPartner } from '../../src/adapters/partner';
import { AppError } from '../../src/lib/errors';
import type { Rng } from './rng';

/** What the simulator counts: events by kind and faults by kind. */
export type Tally = (kind: string, fault?: boolean) => void;

/** One callback the gateway will send, at a simulated time. */
export interface Delivery {
  at: number;
  body: {
    instructionId: string;
    gatewayTxnId: string;
    status: 'success' | 'failed';
    amount: number;
    failReason?: string;
  };
  /** Deliveries with the same tag are the same signed request (a byte-identical replay). */
  tag: string;
}

interface Taken {
  id: string;
  amount: bigint;
  last4: string;
  submittedAt: number;
  declined: boolean;
}

/** Faults the gateway may play, each with its chance in percent (0 when faults are off). */
export interface GatewayFaults {
  drop: number;
  duplicate: number;
  delay: number;
  reorder: number;
  timeout: number;
  unknown: number;
  refuse: number;
  /** The bank declines a payment it would normally make (once: another instruction goes through). */
  decline: number;
  /** The first callback arrives, and is applied, before the submit's answer. */
  early: number;
}

export const NO_GATEWAY_FAULTS: GatewayFaults = {
  drop: 0,
  duplicate: 0,
  delay: 0,
  reorder: 0,
  timeout: 0,
  unknown: 0,
  refuse: 0,
  decline: 0,
  early: 0,
};

/**
 * The payment gateway as the simulator plays it: the SPEC's sandbox behaviour by card (0002
 * declined, 0119 silent then success, 0036 declined then success), callbacks scheduled at
 * simulated times, and the faults the seed chooses: callbacks dropped, duplicated, reordered or
 * delayed past the lock or applied before the submit's answer, submits that time out (taken or
 * not), submits refused, a payment the bank declines, status queries that do not know yet.
 */
export class SimGateway implements GatewayPort {
  readonly mode = 'sandbox' as const;
  readonly deliveries: Delivery[] = [];
  private readonly taken = new Map<string, Taken>();
  private sent = 0;
  faults: GatewayFaults = NO_GATEWAY_FAULTS;
  /** How a callback is received and applied at once (set by the world). */
  early?: (d: Delivery) => Promise<void>;

  constructor(
    private readonly rng: Rng,
    private readonly now: () => number,
    private readonly tally: Tally,
    private readonly timing: { delayMs: number; unknownMs: number },
  ) {}

  async submit(i: GatewayInstruction) {
    const f = this.faults;
    if (this.rng.chance(f.timeout)) {
      this.tally('gateway timeout', true);
      // Half the time the gateway took it and only the answer was lost.
      if (this.rng.chance(50)) this.record(i);
      throw new AppError('SERVICE_UNAVAILABLE', 'gateway timed out (simulated)');
    }
    if (!this.taken.has(i.instructionId) && this.rng.chance(f.refuse)) {
      this.tally('gateway refused a submit', true);
      return { accepted: false, failReason: 'refused (simulated)' };
    }
    this.record(i);
    const first = this.deliveries.find((d) => d.body.instructionId === i.instructionId);
    if (first && this.early && this.rng.chance(f.early)) {
      // The callback races the submit's answer, and wins.
      this.tally('callback before the submit answer', true);
      this.deliveries.splice(this.deliveries.indexOf(first), 1);
      await this.early(first);
    }
    return { accepted: true, gatewayTxnId: `SIM-${i.instructionId}` };
  }

  /** Takes an instruction once, and schedules its callbacks. */
  private record(i: GatewayInstruction): void {
    if (this.taken.has(i.instructionId)) return;
    const t: Taken = {
      id: i.instructionId,
      amount: i.amount,
      last4: (i.cardNo ?? '').slice(-4),
      submittedAt: this.now(),
      declined: false,
    };
    this.taken.set(t.id, t);
    const f = this.faults;
    if (['0002', '0036', '0119'].indexOf(t.last4) < 0 && this.rng.chance(f.decline)) {
      this.tally('bank declined a payment', true);
      t.declined = true;
    }
    const first = this.now() + this.timing.delayMs;
    const late = t.submittedAt + this.timing.unknownMs + 50;
    const plan: { at: number; status: 'success' | 'failed' }[] = [];
    if (t.last4 === '0002' || t.declined) plan.push({ at: first, status: 'failed' });
    else if (t.last4 === '0036')
      plan.push({ at: first, status: 'failed' }, { at: late, status: 'success' });
    else if (t.last4 !== '0119') plan.push({ at: first, status: 'success' });
    if (plan.length === 2 && this.rng.chance(f.reorder)) {
      this.tally('callbacks reordered', true);
      [plan[0].at, plan[1].at] = [plan[1].at, plan[0].at];
    }
    for (const p of plan) {
      if (this.rng.chance(f.drop)) {
        this.tally('callback dropped', true);
        continue;
      }
      let at = p.at;
      if (this.rng.chance(f.delay)) {
        this.tally('callback delayed past the lock', true);
        at += this.rng.int(31, 240) * 60_000;
      }
      this.schedule(t, p.status, at);
      if (this.rng.chance(f.duplicate)) {
        this.tally('callback duplicated', true);
        this.schedule(t, p.status, at + this.rng.int(1, 600) * 1_000, true);
      }
    }
  }

  private schedule(t: Taken, status: 'success' | 'failed', at: number, replay = false) {
    const body: Delivery['body'] = {
      instructionId: t.id,
      gatewayTxnId: `SIM-${t.id}`,
      status,
      amount: Number(t.amount),
      ...(status === 'failed' ? { failReason: `card declined (simulated …${t.last4})` } : {}),
    };
    const previous = this.deliveries.find(
      (d) => d.body.instructionId === t.id && d.body.status === status,
    );
    // A replay is sometimes the very same signed request, sometimes signed again.
    const tag = replay && previous && this.rng.chance(50) ? previous.tag : `sig-${++this.sent}`;
    this.deliveries.push({ at, body, tag });
  }

  /** The next callback due now (the first scheduled of those due), taken off the list. */
  nextDue(): Delivery | undefined {
    const now = this.now();
    const d = this.deliveries.find((x) => x.at <= now);
    if (d) this.deliveries.splice(this.deliveries.indexOf(d), 1);
    return d;
  }

  /** What the gateway knows of an instruction now (its truth, without faults). */
  truth(instructionId: string): GatewayStatus['status'] {
    const t = this.taken.get(instructionId);
    if (!t) return 'not_found';
    const early = this.now() < t.submittedAt + this.timing.unknownMs;
    if (t.last4 === '0002' || t.declined) return 'failed';
    if (t.last4 === '0036') return early ? 'failed' : 'success';
    if (t.last4 === '0119') return early ? 'pending' : 'success';
    return 'success';
  }

  async query(instructionId: string): Promise<GatewayStatus> {
    const status = this.truth(instructionId);
    if (status !== 'not_found' && this.rng.chance(this.faults.unknown)) {
      this.tally('status query unknown', true);
      return { status: 'pending' };
    }
    return {
      status,
      gatewayTxnId: `SIM-${instructionId}`,
      ...(status === 'failed' ? { failReason: 'card declined (simulated)' } : {}),
    };
  }
}

/** The partner as the simulator plays it: the sandbox, down while the seed says so. */
export class SimPartner extends SandboxPartner {
  downUntil = 0;

  constructor(private readonly now: () => number) {
    super();
  }

  private check(): void {
    if (this.now() < this.downUntil)
      throw new AppError('SERVICE_UNAVAILABLE', 'partner unreachable (simulated)');
  }

  override async fetchBorrower(borrowerId: string) {
    this.check();
    return super.fetchBorrower(borrowerId);
  }

  override async hasActiveLoan(person: { idCardNo: string }) {
    this.check();
    return super.hasActiveLoan(person);
  }

  override async notify(n: { notificationId: string; event: string; creditorNo: string }) {
    this.check();
    return super.notify(n);
  }
}

/** The KYC provider as the simulator plays it: the sandbox, down while the seed says so. */
export class SimKyc extends SandboxKyc {
  downUntil = 0;

  constructor(private readonly now: () => number) {
    super();
  }

  override async verify(input: { nik: string }) {
    if (this.now() < this.downUntil)
      throw new AppError('SERVICE_UNAVAILABLE', 'KYC provider unreachable (simulated)');
    return super.verify(input);
  }
}
