import type { Config } from '../../config';
import { SignedHttpClient } from './http-client';

/** What an SMS code is for. */
export type SmsPurpose = 'register' | 'login';

/** The SMS port (the gateway "淼科" sends the texts). */
export interface SmsPort {
  readonly mode: 'sandbox' | 'http';
  sendCode(mobile: string, code: string, purpose: SmsPurpose): Promise<void>;
}

/** Sandbox: sends nothing; the code stays in Redis and is shown as devCode outside production. */
export class SandboxSms implements SmsPort {
  readonly mode = 'sandbox' as const;
  async sendCode(): Promise<void> {}
}

/** Real provider over signed HTTP: POST {SMS_HTTP_URL}/sms/send {mobile, message}. */
export class HttpSms implements SmsPort {
  readonly mode = 'http' as const;
  constructor(private readonly client: SignedHttpClient) {}

  async sendCode(mobile: string, code: string, purpose: SmsPurpose): Promise<void> {
    const what = purpose === 'register' ? 'pendaftaran' : 'masuk';
    await this.client.post('/sms/send', {
      mobile,
      message: `Kode verifikasi ${what} Anda: ${code}. Berlaku 5 menit. Jangan berikan kode ini kepada siapa pun.`,
    });
  }
}

export function createSmsPort(config: Readonly<Config>): SmsPort {
  if (config.smsMode === 'sandbox') return new SandboxSms();
  return new HttpSms(
    new SignedHttpClient({ baseUrl: config.smsHttp.url!, secret: config.smsHttp.apiKey! }),
  );
}
