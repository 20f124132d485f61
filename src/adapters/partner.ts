import { createHash } from 'node:crypto';
import type { Config } from '../../config';
import { DEMO_BANKS } from '../modules/banks/banks.seed';
import { SignedHttpClient } from './http-client';
import {
  activeLoanFromReply,
  banksFromReply,
  borrowerFromReply,
  type BorrowerInfo,
  type PartnerBank,
  type SkippedBank,
} from './partner-replies';

export type { BorrowerInfo, PartnerBank, SkippedBank } from './partner-replies';

/** The lending partner's port ("doit"). */
export interface PartnerPort {
  readonly mode: 'sandbox' | 'http';
  /** Seed item 10: borrower details for a loan. */
  fetchBorrower(borrowerId: string, creditorNo: string): Promise<BorrowerInfo>;
  /**
   * Seed item 6: the banks investors may bind a card of. Items the adapter cannot read are left
   * out and reported to `onSkipped`; a reply with no usable bank is SERVICE_UNAVAILABLE.
   */
  listBanks(opts?: { onSkipped?: (s: SkippedBank) => void }): Promise<PartnerBank[]>;
  /** Seed item 11: does this investor have an active loan at the partner? */
  hasActiveLoan(person: { name: string; idCardNo: string; mobile: string }): Promise<boolean>;
  /** Seed item 16: a status change (idempotent at the partner by notificationId). */
  notify(n: {
    notificationId: string;
    event: string;
    creditorNo: string;
    data: Record<string, unknown>;
  }): Promise<void>;
}

const NAMES = [
  'Rina Herlina',
  'Budi Santoso',
  'Siti Aminah',
  'Agus Pratama',
  'Dewi Lestari',
  'Eko Saputra',
];

/** Sandbox: deterministic borrowers derived from the id; NIKs ending 9999 have an active loan. */
export class SandboxPartner implements PartnerPort {
  readonly mode = 'sandbox' as const;

  async fetchBorrower(borrowerId: string): Promise<BorrowerInfo> {
    const h = createHash('sha256').update(borrowerId).digest();
    const woman = h[0] % 2 === 0;
    const day = 1 + (h[1] % 28);
    const month = 1 + (h[2] % 12);
    const year = 70 + (h[3] % 30);
    const dd = String(day + (woman ? 40 : 0)).padStart(2, '0');
    return {
      lenderId: borrowerId,
      name: NAMES[h[4] % NAMES.length],
      idCardNo: `317506${dd}${String(month).padStart(2, '0')}${year}${String((h.readUInt16BE(5) % 9000) + 1000)}`,
      mobile: `0812${String(h.readUInt32BE(7) % 100_000_000).padStart(8, '0')}`,
      email: `borrower${h.readUInt16BE(11)}@example.com`,
      sex: woman ? '2' : '1',
      age: 2026 - (1900 + year),
      isMarried: h[13] % 2 === 0,
      identity: 'karyawan',
      education: 'Sekolah Menengah Atas',
      birthday: `19${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`,
      religion: 'Islam',
      address: `Jalan Bakti ${1 + (h[14] % 40)} Cilincing, Jakarta`,
      isIdentityAuth: true,
      isBankCardAuth: true,
      isLinkmanAuth: true,
      isInsuranceCardAuth: h[15] % 2 === 0,
      isFamilyCardAuth: true,
    };
  }

  async hasActiveLoan(person: { idCardNo: string }): Promise<boolean> {
    return person.idCardNo.endsWith('9999');
  }

  /** The demo list the database is seeded with (src/modules/banks/banks.seed.ts). */
  async listBanks(): Promise<PartnerBank[]> {
    return DEMO_BANKS.map((b) => ({
      bankCode: b.code,
      bankName: b.name,
      binPrefixes: [...b.binPrefixes],
    }));
  }

  /** Every notification is taken; the last ones are kept for inspection (tests, the demo). */
  readonly delivered: { notificationId: string; event: string; creditorNo: string }[] = [];
  async notify(n: { notificationId: string; event: string; creditorNo: string }): Promise<void> {
    this.delivered.push({
      notificationId: n.notificationId,
      event: n.event,
      creditorNo: n.creditorNo,
    });
    if (this.delivered.length > 1000) this.delivered.shift();
  }
}

/** Real partner over signed HTTP (PARTNER_HTTP_URL, signed with PARTNER_SECRET). */
export class HttpPartner implements PartnerPort {
  readonly mode = 'http' as const;
  constructor(private readonly client: SignedHttpClient) {}

  /**
   * Seed item 10: `POST /api-order/order/selectLenderUserInfo {sessionId, creditorNo}`. The
   * partner's API wants a `sessionId`; ours is the request id the client sends anyway
   * (X-Request-Id, `borrower-<creditorNo>`), the same on every retry.
   */
  async fetchBorrower(borrowerId: string, creditorNo: string): Promise<BorrowerInfo> {
    const sessionId = `borrower-${creditorNo}`;
    const reply = await this.client.post<unknown>(
      '/api-order/order/selectLenderUserInfo',
      { sessionId, creditorNo },
      sessionId,
    );
    return borrowerFromReply(reply, borrowerId);
  }

  /** Seed item 11; an answer that is not clearly yes or no is an error, never "no loan". */
  async hasActiveLoan(person: {
    name: string;
    idCardNo: string;
    mobile: string;
  }): Promise<boolean> {
    return activeLoanFromReply(await this.client.post<unknown>('/investors/active-loan', person));
  }

  /** Seed item 6: `POST /system/getBankInfo {}`; unreadable items go to `onSkipped`. */
  async listBanks(opts: { onSkipped?: (s: SkippedBank) => void } = {}): Promise<PartnerBank[]> {
    const { banks, skipped } = banksFromReply(
      await this.client.post<unknown>('/system/getBankInfo', {}),
    );
    for (const s of skipped) opts.onSkipped?.(s);
    return banks;
  }

  async notify(n: {
    notificationId: string;
    event: string;
    creditorNo: string;
    data: Record<string, unknown>;
  }): Promise<void> {
    await this.client.post('/notifications', n, `notification-${n.notificationId}`);
  }
}

export function createPartnerPort(config: Readonly<Config>): PartnerPort {
  if (config.partner.mode === 'sandbox') return new SandboxPartner();
  return new HttpPartner(
    new SignedHttpClient({ baseUrl: config.partner.httpUrl!, secret: config.partner.secret }),
  );
}
