import type { Config } from '../../config';
import { SignedHttpClient } from './http-client';

/** What the KYC provider says: passed, or a person has to look (seed 000 item 4). */
export interface KycResult {
  outcome: 'passed' | 'review';
  reason?: string;
  reference?: string;
}

/** The KYC port (provider "advance"). */
export interface KycPort {
  readonly mode: 'sandbox' | 'http';
  verify(input: { realName: string; nik: string; requestId: string }): Promise<KycResult>;
}

/** Sandbox: NIKs ending in 0000 go to manual review, every other one passes. */
export class SandboxKyc implements KycPort {
  readonly mode = 'sandbox' as const;
  async verify({ nik }: { nik: string }): Promise<KycResult> {
    return nik.endsWith('0000')
      ? { outcome: 'review', reason: 'sandbox: NIK ending 0000 needs a manual check' }
      : { outcome: 'passed', reference: `sandbox-${nik.slice(-4)}` };
  }
}

/** Real provider: POST {KYC_HTTP_URL}/kyc/verify {name, idCardNo} → {status: passed|failed, reference, reason}. */
export class HttpKyc implements KycPort {
  readonly mode = 'http' as const;
  constructor(private readonly client: SignedHttpClient) {}

  async verify(input: { realName: string; nik: string; requestId: string }): Promise<KycResult> {
    const res = await this.client.post<{ status?: string; reference?: string; reason?: string }>(
      '/kyc/verify',
      { name: input.realName, idCardNo: input.nik },
      input.requestId,
    );
    // Anything but a clear pass goes to a person (seed: failed checks wait for manual review).
    return res.status === 'passed'
      ? { outcome: 'passed', reference: res.reference }
      : {
          outcome: 'review',
          reason: res.reason ?? `provider said ${res.status ?? 'nothing'}`,
          reference: res.reference,
        };
  }
}

export function createKycPort(config: Readonly<Config>): KycPort {
  if (config.kycMode === 'sandbox') return new SandboxKyc();
  return new HttpKyc(
    new SignedHttpClient({
      baseUrl: config.kycHttp.url!,
      secret: config.kycHttp.apiKey!,
      timeoutMs: 15_000,
    }),
  );
}
