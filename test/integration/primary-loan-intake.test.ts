import { expect } from 'chai';
import { Borrower, Loan, LoanOriginal } from '../../src/modules/loans/loan.model';
import { signPayload } from '../../src/lib/crypto';
import { eventually } from '../helpers/api';
import { testDb } from '../helpers/context';
import { loanBody, signedPost } from '../helpers/market';
import {
  usePrimaryMarket,
  rt,
  api,
  url,
  partnerSecret,
  gatewaySecret,
  newLoan,
} from '../helpers/primary-market';

describe('primary market: loan intake and the loan list', function () {
  this.timeout(30_000);
  usePrimaryMarket('primary-loan-intake');

  describe('loan intake (partner)', () => {
    it('when the partner sends a loan, then the original record and the loan are stored, the borrower is fetched and settlement is scheduled', async () => {
      const { body, loan } = await newLoan();
      expect(loan).to.include({
        creditorNo: body.creditorNo,
        status: 'open',
        amountApply: 10_000_000,
        yearRateFin: '12.5000',
        availableAmount: 10_000_000,
        progress: 0,
      });
      const original = await LoanOriginal.findOne({ where: { creditorNo: body.creditorNo } });
      expect(JSON.stringify(original!.body)).to.not.contain(body.bankCardNo);
      await eventually(
        async () => (await Borrower.count({ where: { borrowerId: body.borrowerId } })) === 1,
      );
      const detail = await api.get(`/api/v1/loans/${body.creditorNo}`);
      expect(detail.body.borrower.name).to.match(/^\w\*+ \w\*+$/);
      // No NIK or card number (16 digits) outside the loan's own number, which may be all digits.
      expect(JSON.stringify(detail.body).replaceAll(body.creditorNo, '')).to.not.match(/\d{16}/);
      const [rows] = (await testDb().query(
        `SELECT run_at FROM outbox WHERE job_name = 'loan.settle' AND payload->>'loanId' = $1`,
        {
          bind: [String((await Loan.findOne({ where: { creditorNo: body.creditorNo } }))!.id)],
        },
      )) as [{ run_at: Date }[], unknown];
      expect(rows[0].run_at.getTime()).to.equal(
        new Date(body.publishedAt).getTime() + rt.config.settlementDelaySeconds * 1000,
      );
    });

    it('when the same loan comes twice, then it is one loan; another body under the same creditorNo is 409', async () => {
      const body = loanBody();
      const ts = Math.floor(Date.now() / 1000);
      expect(
        (await signedPost(url, '/partner/v1/loans', body, partnerSecret(), { timestamp: ts }))
          .status,
      ).to.equal(201);
      // A partner retry is signed again (another timestamp), so it is no replay.
      const again = await signedPost(url, '/partner/v1/loans', body, partnerSecret(), {
        timestamp: ts - 5,
      });
      expect(again.status).to.equal(200);
      expect(await Loan.count({ where: { creditorNo: body.creditorNo } })).to.equal(1);
      const other = await signedPost(
        url,
        '/partner/v1/loans',
        { ...body, amountApply: 20_000_000 },
        partnerSecret(),
      );
      expect(other.status).to.equal(409);
      expect(other.body.error.code).to.equal('LOAN_CONFLICT');
    });

    it('when the signature is forged or stale, then 401 and nothing is stored; a replay gets the first answer', async () => {
      const body = loanBody();
      const forged = await signedPost(url, '/partner/v1/loans', body, 'not-the-partner-secret');
      const stale = await signedPost(url, '/partner/v1/loans', body, partnerSecret(), {
        timestamp: Math.floor(Date.now() / 1000) - 301,
      });
      const gatewaySigned = await signedPost(url, '/partner/v1/loans', body, gatewaySecret());
      for (const r of [forged, stale, gatewaySigned]) {
        expect(r.status).to.equal(401);
        expect(r.body.error.code).to.equal('INVALID_SIGNATURE');
      }
      expect(await LoanOriginal.count({ where: { creditorNo: body.creditorNo } })).to.equal(0);
      const ts = Math.floor(Date.now() / 1000);
      const first = await signedPost(url, '/partner/v1/loans', body, partnerSecret(), {
        timestamp: ts,
      });
      expect(first.status).to.equal(201);
      const replay = await signedPost(url, '/partner/v1/loans', body, partnerSecret(), {
        timestamp: ts,
      });
      expect(replay).to.deep.equal(first);
      expect(await Loan.count({ where: { creditorNo: body.creditorNo } })).to.equal(1);
    });

    it('when the partner resends the very same signed loan (a retry after a timeout), then it gets the first answer again (201, same body) and there is one loan', async () => {
      const body = loanBody();
      const raw = JSON.stringify(body);
      const ts = Math.floor(Date.now() / 1000);
      const send = () =>
        fetch(`${url}/partner/v1/loans`, {
          method: 'POST',
          headers: {
            'Content-Type': 'application/json',
            'X-Timestamp': String(ts),
            'X-Signature': signPayload(partnerSecret(), ts, raw),
          },
          body: raw,
        });
      const first = await send();
      const firstBody = await first.json();
      expect(first.status).to.equal(201);
      expect(first.headers.get('idempotent-replayed')).to.equal(null);
      for (let i = 0; i < 2; i++) {
        const again = await send();
        expect(again.status).to.equal(201);
        expect(again.headers.get('idempotent-replayed')).to.equal('true');
        expect(await again.json()).to.deep.equal(firstBody);
      }
      expect(await Loan.count({ where: { creditorNo: body.creditorNo } })).to.equal(1);
      expect(await LoanOriginal.count({ where: { creditorNo: body.creditorNo } })).to.equal(1);
      // Signed again (a new timestamp), the same loan is answered fresh: 200, still one loan.
      const resigned = await signedPost(url, '/partner/v1/loans', body, partnerSecret(), {
        timestamp: ts - 1,
      });
      expect(resigned.status).to.equal(200);
      expect(resigned.body.creditorNo).to.equal(body.creditorNo);
      expect(await Loan.count({ where: { creditorNo: body.creditorNo } })).to.equal(1);
    });

    it('when fields are missing or inconsistent, then 400 naming them', async () => {
      const res = await signedPost(
        url,
        '/partner/v1/loans',
        loanBody({
          termUnit: 'day',
          repaymentMethod: 'equal_installment',
          yearRateFin: '12.12345',
          serviceFee: 20_000_000,
          extra: 1,
        }),
        partnerSecret(),
      );
      expect(res.status).to.equal(400);
      expect(
        [...new Set(res.body.error.details.map((d: { path: string }) => d.path))].sort(),
      ).to.deep.equal(['extra', 'repaymentMethod', 'serviceFee', 'yearRateFin']);
    });
  });

  describe('loan list', () => {
    it('when loans are listed with filters, then only open loans in range come back, sorted and paged', async () => {
      const tag = `${Date.now()}`;
      await newLoan({
        yearRateFin: '9.1',
        amountApply: 3_000_000,
        serviceFee: 0,
        term: 14,
        loanPurpose: tag,
      });
      await newLoan({
        yearRateFin: '9.3',
        amountApply: 4_000_000,
        serviceFee: 0,
        term: 21,
        loanPurpose: tag,
      });
      await newLoan({
        yearRateFin: '9.2',
        amountApply: 5_000_000,
        serviceFee: 0,
        term: 60,
        loanPurpose: tag,
      });
      const res = await api.get(
        '/api/v1/loans?minYearRateFin=9.1&maxYearRateFin=9.3&minTerm=10&maxTerm=30&sort=yearRateFin&order=asc&pageSize=100',
      );
      expect(res.status).to.equal(200);
      const mine = res.body.items.filter((l: { loanPurpose: string }) => l.loanPurpose === tag);
      expect(mine.map((l: { yearRateFin: string }) => l.yearRateFin)).to.deep.equal([
        '9.1000',
        '9.3000',
      ]);
      const amount = await api.get(
        '/api/v1/loans?minAmountApply=4000000&maxAmountApply=4000000&pageSize=100',
      );
      expect(
        amount.body.items.every((l: { amountApply: number }) => l.amountApply === 4_000_000),
      ).to.equal(true);
      const bad = await api.get('/api/v1/loans?minYearRateFin=abc&pageSize=0');
      expect(bad.status).to.equal(400);
    });
  });
});
