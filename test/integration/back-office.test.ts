import { expect } from 'chai';
import { PROCESSORS } from '../../jobs/processors';
import { startWorkers, type WorkerPool } from '../../jobs/worker-factory';
import { Order } from '../../src/modules/orders/order.model';
import { QueueName } from '../../src/queues/queues';
import { apiClient, eventually, type Api } from '../helpers/api';
import { startApp, testRuntime } from '../helpers/context';
import { loanBody, makeInvestor, signedPost } from '../helpers/market';

const rt = testRuntime('backoffice');

describe('agreement, student loans, reconciliation summary', function () {
  this.timeout(30_000);
  let api: Api;
  let url: string;
  let close: () => Promise<void>;
  let pool: WorkerPool;
  let admin: string;

  before(async () => {
    ({ url, close } = await startApp(rt));
    api = apiClient(url);
    pool = startWorkers(rt, PROCESSORS, { queues: [QueueName.Orders] });
    admin = (
      await api.post('/admin/v1/auth/login', {
        username: rt.config.admin.user,
        password: rt.config.admin.password,
      })
    ).body.token;
  });
  after(async () => {
    await pool.close();
    await close();
  });

  it('when a paid order asks for its agreement, then an HTML document names the parties masked and the terms', async () => {
    const body = loanBody({ yearRateFin: '12.5' });
    expect(
      (await signedPost(url, '/partner/v1/loans', body, rt.config.partner.secret)).status,
    ).to.equal(201);
    const inv = await makeInvestor(rt, { wallet: 1_000_000n });
    const res = await api.post(
      '/api/v1/orders',
      { creditorNo: body.creditorNo, amount: 1_000_000, payWith: 'wallet' },
      { token: inv.token },
    );
    await eventually(async () => (await Order.findByPk(res.body.id))!.status === 'paid');
    const doc = await api.get(`/api/v1/orders/${res.body.id}/agreement`, { token: inv.token });
    expect(doc.status).to.equal(200);
    expect(doc.headers.get('content-type')).to.match(/text\/html/);
    expect(doc.body)
      .to.contain('Loan Service Agreement')
      .and.contain(body.creditorNo)
      .and.contain('12.5000%')
      .and.contain('T*** I*******');
    // No NIK or card number (16 digits) outside the loan's own number, which may be all digits.
    expect(doc.body.replaceAll(body.creditorNo, '')).to.not.match(/\d{16}/);
    const other = await makeInvestor(rt);
    expect(
      (await api.get(`/api/v1/orders/${res.body.id}/agreement`, { token: other.token })).status,
    ).to.equal(404);
  });

  it('when a student applies, then an admin approves and records the offline disbursement; bad moves are 409', async () => {
    const inv = await makeInvestor(rt);
    const application = {
      schoolName: 'Universitas Indonesia',
      studentIdNo: '2106701234',
      major: 'Informatika',
      enrollmentYear: 2024,
      amount: 5_000_000,
      termMonths: 12,
      purpose: 'tuition fees',
    };
    const res = await api.post('/api/v1/student-loans', application, { token: inv.token });
    expect(res.status).to.equal(201);
    expect(res.body).to.include({ status: 'submitted', studentIdNo: '2106**1234' });
    const early = await api.post(
      `/admin/v1/student-loans/${res.body.id}/offline-disbursement`,
      { amount: 5_000_000, reference: 'BCA-TRX-1' },
      { token: admin },
    );
    expect(early.status).to.equal(409);
    expect(
      (
        await api.post(`/admin/v1/student-loans/${res.body.id}/approve`, undefined, {
          token: admin,
        })
      ).body.status,
    ).to.equal('approved');
    const done = await api.post(
      `/admin/v1/student-loans/${res.body.id}/offline-disbursement`,
      { amount: 5_000_000, reference: 'BCA-TRX-1' },
      { token: admin },
    );
    expect(done.body).to.include({
      status: 'disbursed_offline',
      disbursementRef: 'BCA-TRX-1',
      disbursementAmount: 5_000_000,
    });
    const list = await api.get('/admin/v1/student-loans?status=disbursed_offline&pageSize=100', {
      token: admin,
    });
    expect(list.body.items.map((i: { id: string }) => i.id)).to.include(res.body.id);
    const second = await api.post(
      '/api/v1/student-loans',
      { ...application, studentIdNo: '2106709999' },
      { token: inv.token },
    );
    const rej = await api.post(
      `/admin/v1/student-loans/${second.body.id}/reject`,
      { reason: 'incomplete documents' },
      { token: admin },
    );
    expect(rej.body).to.include({ status: 'rejected', reviewReason: 'incomplete documents' });
    expect(
      (await api.get('/api/v1/me/student-loans', { token: inv.token })).body.items,
    ).to.have.length(2);
    const bad = await api.post(
      '/api/v1/student-loans',
      { ...application, amount: 10 },
      { token: inv.token },
    );
    expect(bad.status).to.equal(400);
  });

  it('when the admin asks for the reconciliation summary, then platform accounts, instructions and waiting work come back', async () => {
    const res = await api.get('/admin/v1/reconciliation', { token: admin });
    expect(res.status).to.equal(200);
    expect(res.body.platformAccounts).to.have.keys([
      'escrow',
      'revenue:service_fee',
      'revenue:spread',
      'revenue:late_fee',
      'revenue:transfer_fee',
      'super_investor',
      'borrower_payable',
      'gateway_clearing',
    ]);
    expect(res.body.waitingForFinance).to.have.keys([
      'heldRepayments',
      'pendingPartnerNotifications',
      'disburseFailedLoans',
    ]);
    expect(res.body.instructions).to.be.an('array');
  });
});
