import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { SignedHttpClient } from '../../src/adapters/http-client';
import { HttpPartner, SandboxPartner } from '../../src/adapters/partner';
import { signPayload } from '../../src/lib/crypto';
import { AppError } from '../../src/lib/errors';
import { bindCard, listBanks } from '../../src/modules/banks/bank-card.service';
import { DEMO_BANKS } from '../../src/modules/banks/banks.seed';
import { syncBanks } from '../../src/modules/banks/banks.service';
import { Borrower, Loan } from '../../src/modules/loans/loan.model';
import { fetchBorrower } from '../../src/modules/loans/loans.service';
import { LoanStatus } from '../../src/modules/loans/loan.states';
import { randomCard } from '../helpers/api';
import { testDb, testRuntime } from '../helpers/context';
import { makeInvestor } from '../helpers/market';
import { SEED_BORROWER_REPLY } from '../helpers/partner-seed';

const SECRET = 'partner-http-test-secret';

interface Call {
  path: string;
  raw: string;
  body: any;
  requestId: string;
  timestamp: string;
  signature: string;
}

/** The partner on loopback: records every call and answers from `replies` by path. */
async function fakePartner() {
  const calls: Call[] = [];
  const replies = new Map<string, (body: any) => { status?: number; body: unknown }>();
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const body = raw ? JSON.parse(raw) : undefined;
      calls.push({
        path: req.url!,
        raw,
        body,
        requestId: String(req.headers['x-request-id']),
        timestamp: String(req.headers['x-timestamp']),
        signature: String(req.headers['x-signature']),
      });
      const answer = replies.get(req.url!)?.(body) ?? { status: 404, body: { msg: 'no route' } };
      res.writeHead(answer.status ?? 200, { 'Content-Type': 'application/json' });
      res.end(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    replies,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Signed as src/lib/crypto.ts signPayload does, with a timestamp of now. */
function expectSigned(call: Call) {
  expect(call.signature).to.equal(signPayload(SECRET, call.timestamp, call.raw));
  expect(Math.abs(Date.now() / 1000 - Number(call.timestamp))).to.be.lessThan(10);
}

async function rejection(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (err) {
    expect(err).to.be.instanceOf(AppError);
    return err as AppError;
  }
  throw new Error('expected a rejection');
}

describe('HTTP partner adapter (seed 000 items 6, 10, 11)', function () {
  this.timeout(20_000);
  const rt = testRuntime('partner-http');
  let partner: Awaited<ReturnType<typeof fakePartner>>;
  let adapter: HttpPartner;

  before(async () => {
    partner = await fakePartner();
    adapter = new HttpPartner(
      new SignedHttpClient({
        baseUrl: partner.url,
        secret: SECRET,
        retries: 1,
        backoffMs: () => 10,
      }),
    );
  });
  after(async () => partner.close());
  beforeEach(() => {
    partner.calls.length = 0;
    partner.replies.clear();
  });

  describe('borrower (item 10)', () => {
    const creditorNos: string[] = [];
    after(async () => {
      const loans = await Loan.findAll({ where: { creditorNo: creditorNos } });
      await Borrower.destroy({ where: { borrowerId: loans.map((l) => l.borrowerId) } });
      await Loan.destroy({ where: { creditorNo: creditorNos } });
    });

    it('when the partner answers in the seed shape, then the borrower is mapped ("0" is false) and the request is the seed one, signed', async () => {
      partner.replies.set('/api-order/order/selectLenderUserInfo', () => ({
        body: SEED_BORROWER_REPLY,
      }));
      const info = await adapter.fetchBorrower('B-77', 'CR-1111');
      expect(info).to.deep.include({
        lenderId: 'E916A745196F41939A0263D86A3FF9F0',
        name: 'Rina Herlina Mulviyusnah',
        idCardNo: '3175066301950004',
        sex: '2',
        identity: '2',
        education: 'Sekolah Menengah Atas',
        birthday: '1995-01-23',
        isIdentityAuth: true,
        isBankCardAuth: true,
        isLinkmanAuth: true,
        isInsuranceCardAuth: false,
        isFamilyCardAuth: true,
        isMarried: null,
      });
      expect(partner.calls).to.have.length(1);
      const call = partner.calls[0];
      expect(call.path).to.equal('/api-order/order/selectLenderUserInfo');
      expect(call.body).to.deep.equal({ sessionId: 'borrower-CR-1111', creditorNo: 'CR-1111' });
      expect(call.requestId).to.equal('borrower-CR-1111');
      expectSigned(call);
    });

    it('when the reply is wrapped as {data: …}, then the same borrower comes out', async () => {
      partner.replies.set('/api-order/order/selectLenderUserInfo', () => ({
        body: { code: 0, msg: 'success', data: SEED_BORROWER_REPLY },
      }));
      const info = await adapter.fetchBorrower('B-77', 'CR-2222');
      expect(info.name).to.equal('Rina Herlina Mulviyusnah');
      expect(info.isInsuranceCardAuth).to.equal(false);
    });

    it('when the reply lacks the name or the ID card number, then SERVICE_UNAVAILABLE (retryable)', async () => {
      for (const reply of [
        { ...SEED_BORROWER_REPLY, name: undefined },
        { data: { ...SEED_BORROWER_REPLY, idCardNo: '' } },
        { code: 500, msg: 'no such order', data: null },
      ]) {
        partner.replies.set('/api-order/order/selectLenderUserInfo', () => ({ body: reply }));
        const err = await rejection(adapter.fetchBorrower('B-77', 'CR-3333'));
        expect(err.code).to.equal('SERVICE_UNAVAILABLE');
        expect(err.retryable).to.equal(true);
      }
    });

    it('when the borrower.fetch use-case runs with the http partner, then the verification flags are stored as the partner meant them', async () => {
      const creditorNo = `CRH${randomUUID().replace(/-/g, '').slice(0, 14)}`;
      const borrowerId = `BH${randomUUID().slice(0, 8)}`;
      creditorNos.push(creditorNo);
      const cardNo = randomCard('455633');
      await Loan.create({
        creditorNo,
        loanPurpose: 'modal usaha',
        riskLevel: 'A',
        yearRateFin: '12.5',
        yearRateLoan: '18',
        term: 30,
        termUnit: 'day',
        repaymentMethod: 'bullet',
        amount: 10_000_000n,
        serviceFee: 500_000n,
        // Published long ago and already failed: no other test's loan list or sweeper cares.
        publishedAt: new Date('2020-01-01T00:00:00Z'),
        deadline: new Date('2020-01-01T06:00:00Z'),
        borrowerId,
        bankCode: 'BCA',
        bankName: 'Bank Central Asia',
        bankCardEncrypted: rt.cipher.encrypt(cardNo),
        bankCardLast4: cardNo.slice(-4),
        bankCardHolder: 'Rina Herlina',
        source: 'doit',
        status: LoanStatus.Failed,
        lockedAmount: 0n,
        boughtAmount: 0n,
        lateFee: 0n,
        overdueServiceFee: 0n,
        interest: 0n,
      });
      partner.replies.set('/api-order/order/selectLenderUserInfo', () => ({
        body: SEED_BORROWER_REPLY,
      }));
      expect(await fetchBorrower({ cipher: rt.cipher, partner: adapter }, creditorNo)).to.equal(
        'fetched',
      );
      const b = (await Borrower.findOne({ where: { borrowerId } }))!;
      expect({
        id: b.idVerified,
        bank: b.bankVerified,
        contacts: b.contactsVerified,
        insurance: b.insuranceVerified,
        family: b.familyVerified,
        isMarried: b.isMarried,
        age: b.age,
        education: b.education,
      }).to.deep.equal({
        id: true,
        bank: true,
        contacts: true,
        insurance: false,
        family: true,
        isMarried: null,
        age: null,
        education: 'Sekolah Menengah Atas',
      });
      expect(JSON.parse(rt.cipher.decrypt(b.piiEncrypted))).to.include({
        name: 'Rina Herlina Mulviyusnah',
        idCardNo: '3175066301950004',
        birthday: '1995-01-23',
      });
      expect(partner.calls[0].body.creditorNo).to.equal(creditorNo);
    });
  });

  describe('active loan (item 11)', () => {
    const person = { name: 'Test Investor', idCardNo: '3175066301950004', mobile: '081234567890' };

    it('when the partner answers true or false, then that is the answer; the request is signed', async () => {
      let answer: unknown = true;
      partner.replies.set('/investors/active-loan', () => ({ body: { hasActiveLoan: answer } }));
      expect(await adapter.hasActiveLoan(person)).to.equal(true);
      answer = false;
      expect(await adapter.hasActiveLoan(person)).to.equal(false);
      answer = '1';
      expect(await adapter.hasActiveLoan(person)).to.equal(true);
      answer = '0';
      expect(await adapter.hasActiveLoan(person)).to.equal(false);
      expect(partner.calls[0].path).to.equal('/investors/active-loan');
      expect(partner.calls[0].body).to.deep.equal(person);
      partner.calls.forEach(expectSigned);
    });

    it('when the answer is odd (missing, null, a word), then SERVICE_UNAVAILABLE (retryable), never "no loan"', async () => {
      for (const body of [{}, { hasActiveLoan: null }, { hasActiveLoan: 'no' }, { ok: true }]) {
        partner.replies.set('/investors/active-loan', () => ({ body }));
        const err = await rejection(adapter.hasActiveLoan(person));
        expect(err.code, JSON.stringify(body)).to.equal('SERVICE_UNAVAILABLE');
        expect(err.retryable).to.equal(true);
      }
    });
  });

  describe('bank list (item 6) and its sync into `banks`', () => {
    const NEW_CODE = `ZZ${randomUUID().slice(0, 6).toUpperCase()}`;
    const demo = (code: string) => DEMO_BANKS.find((b) => b.code === code)!;
    const activeCodes = async () => (await listBanks()).map((b) => b.code).sort();
    const row = async (code: string) => {
      const [rows] = (await testDb().query(
        'SELECT name, bin_prefixes, active FROM banks WHERE code = $1',
        { bind: [code] },
      )) as [{ name: string; bin_prefixes: string[]; active: boolean }[], unknown];
      return rows[0];
    };

    /** Tests share the database: the demo list comes back exactly as seeded. */
    after(async () => {
      await testDb().query(`DELETE FROM bank_cards WHERE bank_code = $1`, { bind: [NEW_CODE] });
      await testDb().query(`DELETE FROM banks WHERE code = $1`, { bind: [NEW_CODE] });
      for (const b of DEMO_BANKS) {
        await testDb().query(
          `INSERT INTO banks (code, name, bin_prefixes, active) VALUES ($1, $2, $3, true)
           ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name,
             bin_prefixes = EXCLUDED.bin_prefixes, active = true, updated_at = now()`,
          { bind: [b.code, b.name, b.binPrefixes] },
        );
      }
    });

    it('when the sandbox partner is asked, then it lists the demo banks and the sync keeps the table as it is', async () => {
      const sandbox = new SandboxPartner();
      expect(await sandbox.listBanks()).to.deep.equal(
        DEMO_BANKS.map((b) => ({ bankCode: b.code, bankName: b.name, binPrefixes: b.binPrefixes })),
      );
      const before = await activeCodes();
      expect(await syncBanks(sandbox)).to.equal('sandbox: demo list kept');
      expect(await activeCodes()).to.deep.equal(before);
    });

    it('when the partner lists banks, then they are read from either spelling and the request is signed', async () => {
      partner.replies.set('/system/getBankInfo', () => ({
        body: {
          data: [
            { bankCode: 'BCA', bankName: 'Bank Central Asia', binPrefixes: ['455633'] },
            { code: 'BRI', name: 'Bank Rakyat Indonesia', bins: ['518828'] },
            { code: 'NOBINS', name: 'No Bins Bank' },
            { name: 'no code' },
          ],
        },
      }));
      const skipped: unknown[] = [];
      const banks = await adapter.listBanks({ onSkipped: (s) => skipped.push(s) });
      expect(banks).to.deep.equal([
        { bankCode: 'BCA', bankName: 'Bank Central Asia', binPrefixes: ['455633'] },
        { bankCode: 'BRI', bankName: 'Bank Rakyat Indonesia', binPrefixes: ['518828'] },
        { bankCode: 'NOBINS', bankName: 'No Bins Bank', binPrefixes: [] },
      ]);
      expect(skipped).to.have.length(1);
      expect(partner.calls[0].path).to.equal('/system/getBankInfo');
      expect(partner.calls[0].raw).to.equal('{}');
      expectSigned(partner.calls[0]);
    });

    it('when the partner no longer lists a bank, then it is deactivated: not listed, not bindable; listed again, it is back', async () => {
      // The partner drops BNI and MANDIRI, renames BRI's BINs, adds a bank, sends CIMB unreadable.
      const listed = DEMO_BANKS.filter((b) => !['BNI', 'MANDIRI', 'CIMB'].includes(b.code)).map(
        (b) =>
          b.code === 'BRI'
            ? { code: b.code, name: b.name, bins: ['518828'] }
            : { bankCode: b.code, bankName: b.name, binPrefixes: b.binPrefixes },
      );
      let reply: unknown[] = [
        ...listed,
        { bankCode: NEW_CODE, bankName: 'Bank Uji Coba', binPrefixes: ['999001'] },
        { bankCode: 'CIMB', bankName: '', binPrefixes: ['451249'] },
      ];
      partner.replies.set('/system/getBankInfo', () => ({ body: reply }));
      const first = await syncBanks(adapter, { logger: rt.logger });
      expect(first).to.match(/deactivated \(BNI, MANDIRI\)/);
      expect(first).to.match(/1 skipped$/);

      expect(await row('BNI')).to.include({ active: false });
      expect(await row('MANDIRI')).to.include({ active: false });
      expect(await row('CIMB')).to.deep.include({ active: true, name: demo('CIMB').name });
      expect(await row('BRI')).to.deep.equal({
        name: demo('BRI').name,
        bin_prefixes: ['518828'],
        active: true,
      });
      expect(await row(NEW_CODE)).to.deep.equal({
        name: 'Bank Uji Coba',
        bin_prefixes: ['999001'],
        active: true,
      });
      const codes = await activeCodes();
      expect(codes).to.include(NEW_CODE).and.include('CIMB');
      expect(codes).to.not.include('BNI');

      const inv = await makeInvestor(rt, { card: false });
      const bniCard = randomCard(demo('BNI').binPrefixes[0]);
      const refused = await rejection(
        bindCard(rt, inv.userId, { bankCode: 'BNI', cardNo: bniCard }),
      );
      expect(refused.code).to.equal('UNKNOWN_BANK');

      // A second sync with the same list changes nothing.
      expect(await syncBanks(adapter)).to.match(/0 added or changed, 0 deactivated/);

      // The partner lists BNI again: active, listed and bindable again.
      reply = [...reply, { code: 'BNI', name: demo('BNI').name, bins: demo('BNI').binPrefixes }];
      expect(await syncBanks(adapter)).to.match(/1 added or changed, 0 deactivated/);
      expect(await row('BNI')).to.include({ active: true });
      expect(await activeCodes()).to.include('BNI');
      const bound = await bindCard(rt, inv.userId, { bankCode: 'BNI', cardNo: bniCard });
      expect(bound.created).to.equal(true);
      expect(bound.card.bankCode).to.equal('BNI');
    });

    it('when the partner sends an empty or unreadable list, then the sync fails retryably and changes nothing', async () => {
      const before = await testDb().query('SELECT code, active, name FROM banks ORDER BY code');
      for (const body of [[], { data: [] }, { data: null }, '"oops"', [{ name: 'no code' }]]) {
        partner.replies.set('/system/getBankInfo', () => ({ body }));
        const err = await rejection(syncBanks(adapter));
        expect(err.code, JSON.stringify(body)).to.equal('SERVICE_UNAVAILABLE');
        expect(err.retryable).to.equal(true);
      }
      expect(
        await testDb().query('SELECT code, active, name FROM banks ORDER BY code'),
      ).to.deep.equal(before);
    });
  });
});
