import type { Redis } from 'ioredis';
import type { Config } from '../../config';
import { SignedHttpClient } from './http-client';

/** What the platform asks the gateway to do; the instruction id is the gateway's idempotency key. */
export interface GatewayInstruction {
  instructionId: string;
  kind: 'collection' | 'payout' | 'custody_transfer';
  amount: bigint;
  /** The card to collect from or pay out to (decrypted only for this call). */
  cardNo?: string;
}

/** What the gateway says of an instruction when asked. */
export interface GatewayStatus {
  status: 'pending' | 'success' | 'failed' | 'not_found';
  gatewayTxnId?: string;
  failReason?: string;
}

/** The payment gateway port ("淼科"). Results arrive by signed callback; `query` is the fallback. */
export interface GatewayPort {
  readonly mode: 'sandbox' | 'http';
  /** Hands an instruction over; submitting the same id twice is one instruction. */
  submit(
    i: GatewayInstruction,
  ): Promise<{ accepted: boolean; gatewayTxnId?: string; failReason?: string }>;
  query(instructionId: string): Promise<GatewayStatus>;
}

const stateKey = (id: string) => `gw-sandbox:${id}`;

/**
 * Sandbox gateway: remembers instructions in Redis and calls the API's own callback route,
 * signed, after GATEWAY_SANDBOX_DELAY_MS (through `deliver`, a delayed job). Cards ending 0002
 * are declined; cards ending 0119 never call back, and a status query answers pending for
 * GATEWAY_SANDBOX_UNKNOWN_MS after submission, then success; cards ending 0036 are declined,
 * then a success callback for the same instruction follows GATEWAY_SANDBOX_UNKNOWN_MS after
 * submission (a status query says failed, then success). Everything else succeeds.
 */
export class SandboxGateway implements GatewayPort {
  readonly mode = 'sandbox' as const;

  constructor(
    private readonly redis: Redis,
    private readonly opts: { delayMs: number; unknownMs: number },
    private readonly deliver: (
      instructionId: string,
      delayMs: number,
      tag?: string,
    ) => Promise<void>,
    private readonly now: () => number = Date.now,
  ) {}

  async submit(i: GatewayInstruction) {
    const last4 = (i.cardNo ?? '').slice(-4);
    const txn = `SBX-${i.instructionId}`;
    const created = await this.redis.hsetnx(
      stateKey(i.instructionId),
      'submittedAt',
      String(this.now()),
    );
    if (created) {
      await this.redis.hset(
        stateKey(i.instructionId),
        'amount',
        i.amount.toString(),
        'last4',
        last4,
        'txn',
        txn,
      );
      await this.redis.expire(stateKey(i.instructionId), 7 * 86_400);
    }
    // One delivery per time the sandbox took the instruction (a gateway that lost it and is
    // handed it again calls back again).
    const at = await this.redis.hget(stateKey(i.instructionId), 'submittedAt');
    if (last4 !== '0119') await this.deliver(i.instructionId, this.opts.delayMs, `${at}`);
    if (last4 === '0036')
      await this.deliver(i.instructionId, this.opts.unknownMs + 50, `${at}-late`);
    return { accepted: true, gatewayTxnId: txn };
  }

  async query(instructionId: string): Promise<GatewayStatus> {
    const s = await this.redis.hgetall(stateKey(instructionId));
    if (!s.submittedAt) return { status: 'not_found' };
    if (s.last4 === '0002')
      return { status: 'failed', gatewayTxnId: s.txn, failReason: 'card declined (sandbox …0002)' };
    const early = this.now() < Number(s.submittedAt) + this.opts.unknownMs;
    if (s.last4 === '0119' && early) return { status: 'pending', gatewayTxnId: s.txn };
    if (s.last4 === '0036' && early)
      return { status: 'failed', gatewayTxnId: s.txn, failReason: 'card declined (sandbox …0036)' };
    return { status: 'success', gatewayTxnId: s.txn };
  }

  /** The callback body the sandbox sends for an instruction (used by the delivery job). */
  async callbackBody(instructionId: string): Promise<Record<string, unknown> | undefined> {
    const s = await this.redis.hgetall(stateKey(instructionId));
    if (!s.submittedAt) return undefined;
    const result = await this.query(instructionId);
    if (result.status !== 'success' && result.status !== 'failed') return undefined;
    return {
      instructionId,
      gatewayTxnId: s.txn,
      status: result.status,
      amount: Number(s.amount),
      ...(result.failReason ? { failReason: result.failReason } : {}),
    };
  }
}

/** Real gateway over signed HTTP (GATEWAY_HTTP_URL, GATEWAY_SECRET). */
export class HttpGateway implements GatewayPort {
  readonly mode = 'http' as const;
  constructor(private readonly client: SignedHttpClient) {}

  submit(i: GatewayInstruction) {
    return this.client.post<{ accepted: boolean; gatewayTxnId?: string; failReason?: string }>(
      '/instructions',
      {
        instructionId: i.instructionId,
        kind: i.kind,
        amount: i.amount.toString(),
        cardNo: i.cardNo,
      },
      `instruction-${i.instructionId}`,
    );
  }

  query(instructionId: string) {
    return this.client.post<GatewayStatus>('/instructions/query', { instructionId });
  }
}

export function createGatewayPort(
  config: Readonly<Config>,
  redis: Redis,
  deliver: (instructionId: string, delayMs: number, tag?: string) => Promise<void>,
): GatewayPort {
  if (config.gateway.mode === 'sandbox') {
    return new SandboxGateway(
      redis,
      { delayMs: config.gateway.sandboxDelayMs, unknownMs: config.gateway.sandboxUnknownMs },
      deliver,
    );
  }
  return new HttpGateway(
    new SignedHttpClient({ baseUrl: config.gateway.httpUrl!, secret: config.gateway.secret }),
  );
}
