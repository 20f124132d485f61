import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { SignedHttpClient } from '../../src/adapters/http-client';
import { HttpKyc, SandboxKyc } from '../../src/adapters/kyc';
import { HttpSms } from '../../src/adapters/sms';
import { signPayload } from '../../src/lib/crypto';
import { AppError } from '../../src/lib/errors';

const KEY = 'provider-key-123456';

/** A fake provider on loopback: checks signatures, answers as `behave` says, records calls. */
async function fakeProvider(
  behave: (n: number, body: any) => { status: number; body?: unknown; delayMs?: number },
) {
  const calls: { path: string; body: any; requestId: string; signed: boolean }[] = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const ts = String(req.headers['x-timestamp']);
      const signed =
        req.headers['x-signature'] === signPayload(KEY, ts, raw) &&
        Math.abs(Date.now() / 1000 - Number(ts)) < 300;
      const body = JSON.parse(raw);
      calls.push({ path: req.url!, body, requestId: String(req.headers['x-request-id']), signed });
      const out = behave(calls.length, body);
      setTimeout(() => {
        res.writeHead(out.status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(out.body ?? {}));
      }, out.delayMs ?? 0);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    calls,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const client = (url: string, timeoutMs = 2_000) =>
  new SignedHttpClient({ baseUrl: url, secret: KEY, timeoutMs, retries: 2, backoffMs: () => 10 });

describe('outside-party HTTP adapters', () => {
  it('when the KYC provider fails once with 5xx, then the signed request is retried with the same request id', async () => {
    const p = await fakeProvider((n) =>
      n === 1 ? { status: 502 } : { status: 200, body: { status: 'passed', reference: 'adv-1' } },
    );
    try {
      const res = await new HttpKyc(client(p.url)).verify({
        realName: 'Rina',
        nik: '3175066301950004',
        requestId: 'kyc-7',
      });
      expect(res).to.deep.equal({ outcome: 'passed', reference: 'adv-1' });
      expect(p.calls).to.have.length(2);
      expect(
        p.calls.every((c) => c.signed && c.requestId === 'kyc-7' && c.path === '/kyc/verify'),
      ).to.equal(true);
      expect(p.calls[0].body).to.deep.equal({ name: 'Rina', idCardNo: '3175066301950004' });
    } finally {
      await p.close();
    }
  });

  it('when the KYC provider does not pass the person, then the outcome is manual review', async () => {
    const p = await fakeProvider(() => ({
      status: 200,
      body: { status: 'failed', reason: 'face mismatch' },
    }));
    try {
      const res = await new HttpKyc(client(p.url)).verify({
        realName: 'Rina',
        nik: '3175066301950004',
        requestId: 'kyc-8',
      });
      expect(res).to.include({ outcome: 'review', reason: 'face mismatch' });
    } finally {
      await p.close();
    }
  });

  it('when the SMS provider refuses with 4xx, then there is no retry and the error is not retryable', async () => {
    const p = await fakeProvider(() => ({ status: 400, body: { error: 'bad number' } }));
    try {
      let err: AppError | undefined;
      await new HttpSms(client(p.url))
        .sendCode('081234567890', '123456', 'login')
        .catch((e) => (err = e));
      expect(err).to.be.instanceOf(AppError);
      expect(err!.code).to.equal('SERVICE_UNAVAILABLE');
      expect(err!.retryable).to.equal(false);
      expect(p.calls).to.have.length(1);
      expect(p.calls[0].body.message).to.contain('123456');
    } finally {
      await p.close();
    }
  });

  it('when the provider never answers in time, then every attempt times out and a retryable error comes back', async () => {
    const p = await fakeProvider(() => ({ status: 200, delayMs: 500 }));
    try {
      let err: AppError | undefined;
      await client(p.url, 100)
        .post('/kyc/verify', {})
        .catch((e) => (err = e));
      expect(err!.code).to.equal('SERVICE_UNAVAILABLE');
      expect(err!.retryable).to.equal(true);
      expect(err!.message).to.contain('timed out');
      expect(p.calls).to.have.length(3);
    } finally {
      await p.close();
    }
  });

  it('when the sandbox KYC sees an NIK ending 0000, then review; otherwise passed', async () => {
    const k = new SandboxKyc();
    expect((await k.verify({ nik: '3175066301950000' })).outcome).to.equal('review');
    expect((await k.verify({ nik: '3175066301950004' })).outcome).to.equal('passed');
  });
});
