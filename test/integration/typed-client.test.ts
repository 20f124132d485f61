import { expect } from 'chai';
import { QueueName } from '../../src/queues/queues';
import { typedClient } from '../client';
import { randomCard, randomIp, randomMobile, randomNik } from '../helpers/api';
import { loanBody, signedPost, startMarket, type Market } from '../helpers/market';

/**
 * Issue 15, point 4: the whole first purchase written with the client generated from the
 * OpenAPI document, the way a client team would: register → KYC → card → purchase → paid.
 */
describe('the typed client generated from the OpenAPI document', function () {
  this.timeout(60_000);
  let m: Market;

  before(async () => {
    m = await startMarket('typed-client', {
      queues: [QueueName.Investors, QueueName.Loans, QueueName.Orders, QueueName.Payments],
    });
  });
  after(async () => m.stop());

  const until = async <T>(what: string, fn: () => Promise<T | undefined>): Promise<T> => {
    const end = Date.now() + 15_000;
    for (;;) {
      const v = await fn();
      if (v !== undefined) return v;
      if (Date.now() > end) throw new Error(`${what}: not reached in time`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  it('when an investor registers, passes KYC, binds a card and buys, then the order is paid', async () => {
    const anon = typedClient(m.url);
    const mobile = randomMobile();

    const captcha = await anon.GET('/api/v1/captcha');
    expect(captcha.response.status).to.equal(200);
    const sms = await anon.POST('/api/v1/sms-codes', {
      body: {
        mobile,
        captchaId: captcha.data!.captchaId,
        captchaText: captcha.data!.devAnswer!,
        purpose: 'register',
      },
      headers: { 'X-Forwarded-For': randomIp() },
    });
    expect(sms.response.status).to.equal(201);
    const reg = await anon.POST('/api/v1/auth/register', {
      body: { mobile, smsCode: sms.data!.devCode!, password: 'secret123' },
    });
    expect(reg.response.status).to.equal(201);
    const me = typedClient(m.url, reg.data!.token);

    const kyc = await me.POST('/api/v1/me/kyc', {
      body: { realName: 'Siti Rahayu', idCardNo: randomNik() },
    });
    expect(kyc.response.status).to.equal(202);
    await until('KYC verified', async () =>
      (await me.GET('/api/v1/me/kyc')).data?.verified ? true : undefined,
    );

    const banks = await me.GET('/api/v1/banks');
    const bca = banks.data!.items.find((b) => b.bankCode === 'BCA')!;
    const card = await me.POST('/api/v1/me/bank-cards', {
      body: { bankCode: bca.bankCode, cardNo: randomCard(bca.binPrefixes[0], '4242') },
    });
    expect(card.response.status).to.equal(201);

    const loan = loanBody({ amountApply: 5_000_000 });
    expect(
      (await signedPost(m.url, '/partner/v1/loans', loan, m.rt.config.partner.secret)).status,
    ).to.equal(201);
    const listed = await anon.GET('/api/v1/loans', { params: { query: { pageSize: 100 } } });
    expect(listed.data!.items.map((l) => l.creditorNo)).to.include(loan.creditorNo);

    const placed = await me.POST('/api/v1/orders', {
      body: { creditorNo: loan.creditorNo, amount: 1_000_000, payWith: 'card' },
      headers: { 'Idempotency-Key': `typed-${mobile}` },
    });
    expect(placed.response.status).to.equal(202);
    const orderId = placed.data!.id;
    const paid = await until('order paid', async () => {
      const o = await me.GET('/api/v1/orders/{id}', { params: { path: { id: orderId } } });
      return o.data?.status === 'paid' ? o.data : undefined;
    });
    expect(paid).to.include({ creditorNo: loan.creditorNo, amount: 1_000_000, source: 'manual' });

    const investments = await me.GET('/api/v1/me/orders');
    expect(investments.data!.items.map((i) => i.id)).to.include(orderId);
    const account = await me.GET('/api/v1/me/account');
    expect(account.data!.sanbiaoBalance).to.equal(1_000_000);
  });
});
