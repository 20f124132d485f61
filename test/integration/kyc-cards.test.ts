import { expect } from 'chai';
import { withTransaction } from '../../src/lib/db';
import {
  AccountType,
  investorAccount,
  platformAccount,
} from '../../src/modules/ledger/ledger.accounts';
import { LedgerKind } from '../../src/modules/ledger/ledger.kinds';
import { postTransaction } from '../../src/modules/ledger/ledger.service';
import { BankCard } from '../../src/modules/banks/bank-card.model';
import { KycVerification } from '../../src/modules/kyc/kyc.model';
import { PROCESSORS } from '../../jobs/processors';
import { startWorkers, type WorkerPool } from '../../jobs/worker-factory';
import {
  apiClient,
  eventually,
  randomCard,
  randomNik,
  registerInvestor,
  type Api,
} from '../helpers/api';
import { startApp, testDb, testRuntime } from '../helpers/context';

const rt = testRuntime('kyc');
const freshNik = () => randomNik();

describe('investors: KYC, bank cards, profile and account views', () => {
  let api: Api;
  let close: () => Promise<void>;
  let pool: WorkerPool;
  before(async () => {
    const app = await startApp(rt);
    api = apiClient(app.url);
    close = app.close;
    pool = startWorkers(rt, PROCESSORS, { queues: ['investors'] });
  });
  after(async () => {
    await pool.close();
    await close();
  });

  const kycOf = async (token: string) => (await api.get('/api/v1/me/kyc', { token })).body;
  async function verified(token: string, nik = freshNik()) {
    const res = await api.post(
      '/api/v1/me/kyc',
      { realName: 'Rina Herlina', idCardNo: nik },
      { token },
    );
    expect(res.status, JSON.stringify(res.body)).to.equal(202);
    await eventually(async () => (await kycOf(token)).status !== 'pending');
    return nik;
  }

  describe('KYC', () => {
    it('when an investor submits a valid NIK, then 202 pending, and the job verifies it', async () => {
      const inv = await registerInvestor(api);
      expect(await kycOf(inv.token)).to.deep.equal({ verified: false, status: 'none' });
      const res = await api.post(
        '/api/v1/me/kyc',
        { realName: 'Rina Herlina', idCardNo: freshNik() },
        { token: inv.token },
      );
      expect(res.status).to.equal(202);
      expect(res.body).to.deep.equal({ verified: false, status: 'pending' });
      await eventually(async () => (await kycOf(inv.token)).verified === true);
      const v = await KycVerification.findOne({ where: { userId: inv.userId } });
      expect(v!.verifiedBy).to.equal('provider');
    });

    it('when the NIK is stored, then only its ciphertext and a keyed hash are in the database', async () => {
      const inv = await registerInvestor(api);
      const nik = await verified(inv.token);
      const [rows] = (await testDb().query('SELECT * FROM kyc_verifications WHERE user_id = $1', {
        bind: [inv.userId],
      })) as [object[], unknown];
      const raw = JSON.stringify(rows);
      expect(raw).to.not.contain(nik);
      expect(rt.cipher.decrypt((rows[0] as { nik_encrypted: string }).nik_encrypted)).to.equal(nik);
    });

    it('when the sandbox sends it to manual review and an admin approves, then verified is true', async () => {
      const inv = await registerInvestor(api);
      await verified(inv.token, freshNik().replace(/\d{4}$/, '0000'));
      expect(await kycOf(inv.token)).to.deep.equal({ verified: false, status: 'manual_review' });
      const admin = (
        await api.post('/admin/v1/auth/login', {
          username: rt.config.admin.user,
          password: rt.config.admin.password,
        })
      ).body.token;
      const queue = await api.get('/admin/v1/kyc?pageSize=100', { token: admin });
      const item = queue.body.items.find((i: { userId: string }) => i.userId === inv.userId);
      expect(item.idCardNo).to.match(/^\d{4}\*{8}0000$/);
      expect(item.realName).to.equal('R*** H******');
      const ok = await api.post(`/admin/v1/kyc/${item.id}/approve`, undefined, { token: admin });
      expect(ok.status).to.equal(200);
      expect(await kycOf(inv.token)).to.deep.equal({ verified: true, status: 'verified' });
      const twice = await api.post(`/admin/v1/kyc/${item.id}/approve`, undefined, { token: admin });
      expect(twice.status).to.equal(409);
      expect(twice.body.error.code).to.equal('INVALID_STATE_TRANSITION');
    });

    it('when an admin rejects with a reason, then the investor sees it and may submit again', async () => {
      const inv = await registerInvestor(api);
      const nik = freshNik().replace(/\d{4}$/, '0000');
      await verified(inv.token, nik);
      const admin = (
        await api.post('/admin/v1/auth/login', {
          username: rt.config.admin.user,
          password: rt.config.admin.password,
        })
      ).body.token;
      const v = await KycVerification.findOne({ where: { userId: inv.userId } });
      const noReason = await api.post(`/admin/v1/kyc/${v!.id}/reject`, {}, { token: admin });
      expect(noReason.status).to.equal(400);
      const rej = await api.post(
        `/admin/v1/kyc/${v!.id}/reject`,
        { reason: 'photo unreadable' },
        { token: admin },
      );
      expect(rej.body).to.deep.equal({ id: String(v!.id), status: 'rejected' });
      const me = await api.get('/api/v1/me', { token: inv.token });
      expect(me.body.kyc).to.include({
        status: 'rejected',
        verified: false,
        reason: 'photo unreadable',
      });
      const again = await api.post(
        '/api/v1/me/kyc',
        { realName: 'Rina Herlina', idCardNo: nik },
        { token: inv.token },
      );
      expect(again.status).to.equal(202);
    });

    it('when the NIK belongs to another investor, then 409 NIK_ALREADY_USED and nothing is written', async () => {
      const a = await registerInvestor(api);
      const b = await registerInvestor(api);
      const nik = await verified(a.token);
      const res = await api.post(
        '/api/v1/me/kyc',
        { realName: 'Other Person', idCardNo: nik },
        { token: b.token },
      );
      expect(res.status).to.equal(409);
      expect(res.body.error.code).to.equal('NIK_ALREADY_USED');
      expect(await KycVerification.count({ where: { userId: b.userId } })).to.equal(0);
      expect(await kycOf(b.token)).to.deep.equal({ verified: false, status: 'none' });
    });

    it('when the NIK is malformed, then 400 naming idCardNo', async () => {
      const inv = await registerInvestor(api);
      for (const idCardNo of [
        '123',
        '31750663019500041',
        '3175062313950004',
        '3175063201950004',
        '3175067201950004',
        '0075066301950004',
        '317506630195000a',
      ]) {
        const res = await api.post(
          '/api/v1/me/kyc',
          { realName: 'Rina', idCardNo },
          { token: inv.token },
        );
        expect(res.status, idCardNo).to.equal(400);
        expect(res.body.error.details.map((d: { path: string }) => d.path)).to.deep.equal([
          'idCardNo',
        ]);
      }
      expect(await KycVerification.count({ where: { userId: inv.userId } })).to.equal(0);
    });

    it('when KYC is submitted twice, then 409 KYC_ALREADY_SUBMITTED', async () => {
      const inv = await registerInvestor(api);
      await verified(inv.token);
      const res = await api.post(
        '/api/v1/me/kyc',
        { realName: 'Rina Herlina', idCardNo: freshNik() },
        { token: inv.token },
      );
      expect(res.status).to.equal(409);
      expect(res.body.error.code).to.equal('KYC_ALREADY_SUBMITTED');
    });

    it('when the same Idempotency-Key and body come twice, then one submission and the same answer', async () => {
      const inv = await registerInvestor(api);
      const body = { realName: 'Rina Herlina', idCardNo: freshNik() };
      const headers = { 'Idempotency-Key': 'kyc-key-1' };
      const first = await api.post('/api/v1/me/kyc', body, { token: inv.token, headers });
      const second = await api.post('/api/v1/me/kyc', body, { token: inv.token, headers });
      expect(second.status).to.equal(first.status);
      expect(second.body).to.deep.equal(first.body);
      expect(second.headers.get('idempotent-replayed')).to.equal('true');
      expect(await KycVerification.count({ where: { userId: inv.userId } })).to.equal(1);
      const other = await api.post(
        '/api/v1/me/kyc',
        { ...body, realName: 'Someone Else' },
        { token: inv.token, headers },
      );
      expect(other.status).to.equal(409);
      expect(other.body.error.code).to.equal('IDEMPOTENCY_CONFLICT');
    });

    it('when a request under an Idempotency-Key is malformed, then the key stays free for the corrected request', async () => {
      const inv = await registerInvestor(api);
      const headers = { 'Idempotency-Key': 'kyc-key-2' };
      const bad = await api.post(
        '/api/v1/me/kyc',
        { realName: 'Rina', idCardNo: '123' },
        { token: inv.token, headers },
      );
      expect(bad.status).to.equal(400);
      const good = await api.post(
        '/api/v1/me/kyc',
        { realName: 'Rina Herlina', idCardNo: freshNik() },
        { token: inv.token, headers },
      );
      expect(good.status).to.equal(202);
    });
  });

  describe('bank cards', () => {
    it('when KYC is not verified, then binding is 422 KYC_REQUIRED', async () => {
      const inv = await registerInvestor(api);
      const res = await api.post(
        '/api/v1/me/bank-cards',
        { bankCode: 'BCA', cardNo: '4556330000001234' },
        { token: inv.token },
      );
      expect(res.status).to.equal(422);
      expect(res.body.error.code).to.equal('KYC_REQUIRED');
    });

    it('when the BIN belongs to another bank or the bank is unknown, then 422 and nothing is stored', async () => {
      const inv = await registerInvestor(api);
      await verified(inv.token);
      const mismatch = await api.post(
        '/api/v1/me/bank-cards',
        { bankCode: 'BRI', cardNo: '4556330000001234' },
        { token: inv.token },
      );
      expect(mismatch.status).to.equal(422);
      expect(mismatch.body.error.code).to.equal('CARD_BANK_MISMATCH');
      const unknown = await api.post(
        '/api/v1/me/bank-cards',
        { bankCode: 'NOPE', cardNo: '4556330000001234' },
        { token: inv.token },
      );
      expect(unknown.body.error.code).to.equal('UNKNOWN_BANK');
      const letters = await api.post(
        '/api/v1/me/bank-cards',
        { bankCode: 'BCA', cardNo: '4556-3300-0000' },
        { token: inv.token },
      );
      expect(letters.status).to.equal(400);
      expect(await BankCard.count({ where: { userId: inv.userId } })).to.equal(0);
    });

    it('when a card is bound and then replaced, then it is masked, encrypted, and the old one is recorded as replaced', async () => {
      const inv = await registerInvestor(api);
      await verified(inv.token);
      const bca = randomCard('455633', '1234');
      const bri = randomCard('518828', '5678');
      const first = await api.post(
        '/api/v1/me/bank-cards',
        { bankCode: 'BCA', cardNo: bca },
        { token: inv.token },
      );
      expect(first.status).to.equal(201);
      expect(first.body).to.include({
        bankCode: 'BCA',
        bankName: 'Bank Central Asia',
        cardNo: '****1234',
      });
      const same = await api.post(
        '/api/v1/me/bank-cards',
        { bankCode: 'BCA', cardNo: bca },
        { token: inv.token },
      );
      expect(same.status).to.equal(200);
      const second = await api.post(
        '/api/v1/me/bank-cards',
        { bankCode: 'BRI', cardNo: bri, password: inv.password },
        { token: inv.token },
      );
      expect(second.status).to.equal(201);
      const cards = await BankCard.findAll({
        where: { userId: inv.userId },
        order: [['id', 'ASC']],
      });
      expect(cards.map((c) => c.status)).to.deep.equal(['replaced', 'active']);
      expect(cards[0].replacedAt).to.be.instanceOf(Date);
      const [rows] = (await testDb().query('SELECT * FROM bank_cards WHERE user_id = $1', {
        bind: [inv.userId],
      })) as [object[], unknown];
      expect(JSON.stringify(rows)).to.not.contain(bri).and.not.contain(bca);
      const me = await api.get('/api/v1/me', { token: inv.token });
      expect(me.body.bankCard).to.include({ bankCode: 'BRI', cardNo: '****5678' });
    });

    it("when the card is another investor's active card, then 409 CARD_ALREADY_BOUND", async () => {
      const a = await registerInvestor(api);
      const b = await registerInvestor(api);
      await verified(a.token);
      await verified(b.token);
      const cardNo = randomCard('524169');
      expect(
        (await api.post('/api/v1/me/bank-cards', { bankCode: 'BCA', cardNo }, { token: a.token }))
          .status,
      ).to.equal(201);
      const res = await api.post(
        '/api/v1/me/bank-cards',
        { bankCode: 'BCA', cardNo },
        { token: b.token },
      );
      expect(res.status).to.equal(409);
      expect(res.body.error.code).to.equal('CARD_ALREADY_BOUND');
    });

    it('when the bank list is asked for, then banks come with BIN prefixes', async () => {
      const res = await api.get('/api/v1/banks');
      expect(res.status).to.equal(200);
      const bca = res.body.items.find((b: { bankCode: string }) => b.bankCode === 'BCA');
      expect(bca.binPrefixes).to.include('455633');
    });
  });

  describe('profile and account', () => {
    it('when /me is read, then mobile, name, NIK and card are masked', async () => {
      const inv = await registerInvestor(api);
      const nik = await verified(inv.token);
      const card = randomCard('461699', '4321');
      expect(
        (
          await api.post(
            '/api/v1/me/bank-cards',
            { bankCode: 'MANDIRI', cardNo: card },
            { token: inv.token },
          )
        ).status,
      ).to.equal(201);
      const me = await api.get('/api/v1/me', { token: inv.token });
      expect(me.body.mobile).to.equal(`${inv.mobile.slice(0, 4)}****${inv.mobile.slice(-4)}`);
      expect(me.body.kyc).to.include({
        verified: true,
        status: 'verified',
        realName: 'R*** H******',
        idCardNo: `${nik.slice(0, 4)}********${nik.slice(-4)}`,
      });
      expect(me.body.bankCard.cardNo).to.equal('****4321');
      const raw = JSON.stringify(me.body);
      for (const secret of [inv.mobile, nik, card, 'Rina Herlina'])
        expect(raw).to.not.contain(secret);
    });

    it('when money moves in the ledger, then /me/account and /me/ledger show it', async () => {
      const inv = await registerInvestor(api);
      const empty = await api.get('/api/v1/me/account', { token: inv.token });
      expect(empty.body).to.deep.equal({
        userId: inv.userId,
        sanbiaoBalance: 0,
        sanbiaoLockBalance: 0,
        currentBalance: 0,
        currentLockBalance: 0,
        depositBalance: 0,
        depositLockBalance: 0,
        availableBalance: 0,
        lockedBalance: 0,
        totalIncome: 0,
      });
      await withTransaction(testDb(), async (transaction) => {
        await postTransaction(
          {
            kind: LedgerKind.Recharge,
            idempotencyKey: `test-recharge-${inv.userId}`,
            entries: [
              { account: platformAccount(AccountType.GatewayClearing), amount: -1_000_000n },
              { account: investorAccount(inv.userId, 'available'), amount: 1_000_000n },
            ],
          },
          { transaction },
        );
        await postTransaction(
          {
            kind: LedgerKind.Adjustment,
            idempotencyKey: `test-lock-${inv.userId}`,
            entries: [
              { account: investorAccount(inv.userId, 'available'), amount: -300_000n },
              { account: investorAccount(inv.userId, 'locked'), amount: 300_000n },
            ],
          },
          { transaction },
        );
        await postTransaction(
          {
            kind: LedgerKind.RepaymentClearing,
            idempotencyKey: `test-interest-${inv.userId}`,
            entries: [
              { account: platformAccount(AccountType.GatewayClearing), amount: -12_345n },
              {
                account: investorAccount(inv.userId, 'available'),
                amount: 12_345n,
                memo: 'interest',
              },
            ],
          },
          { transaction },
        );
      });
      const acc = await api.get('/api/v1/me/account', { token: inv.token });
      expect(acc.body).to.include({
        availableBalance: 712_345,
        lockedBalance: 300_000,
        sanbiaoLockBalance: 300_000,
        totalIncome: 12_345,
      });
      const ledger = await api.get('/api/v1/me/ledger?pageSize=2', { token: inv.token });
      expect(ledger.body.total).to.equal(4);
      expect(ledger.body.items).to.have.length(2);
      expect(ledger.body.items[0]).to.include({
        kind: 'repayment_clearing',
        account: 'available',
        amount: 12_345,
        balanceAfter: 712_345,
        memo: 'interest',
      });
      const locked = await api.get('/api/v1/me/ledger?account=locked', { token: inv.token });
      expect(locked.body.items.map((i: { amount: number }) => i.amount)).to.deep.equal([300_000]);
      const bad = await api.get('/api/v1/me/ledger?pageSize=1000', { token: inv.token });
      expect(bad.status).to.equal(400);
    });
  });
});
