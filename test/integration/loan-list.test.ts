import { randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { piiCipher } from '../../src/lib/model-columns';
import fc from 'fast-check';
import { createRedis } from '../../src/lib/redis';
import {
  LIST_TOTAL_KEY_PREFIX,
  LIST_TOTAL_LOCAL_MS,
  listOpenLoans,
} from '../../src/modules/loans/loans.service';
import { loanListQuery } from '../../src/modules/loans/loans.schemas';
import { apiClient, eventually, type Api } from '../helpers/api';
import { startApp, testDb, testRuntime } from '../helpers/context';

/** One loan of a fixture, as the test expects to see it. */
interface Fixture {
  id: bigint;
  creditorNo: string;
  rate: string;
  term: number;
  termUnit: 'day' | 'month';
  amount: number;
  /** published_at in epoch microseconds (the list must order by PostgreSQL's full precision). */
  publishedUs: bigint;
  status: string;
}

type Sort = 'yearRateFin' | 'amountApply' | 'term' | 'publishedAt';
const SORTS: Sort[] = ['yearRateFin', 'amountApply', 'term', 'publishedAt'];
const RATES = ['9.0000', '9.5000', '10.0000', '10.2500', '11.0000'];
const T0_US = 1_790_000_000_000_000n;
/** How old the README lets a total be (a cached count), with room for a slow machine. */
const TOTAL_AT_MOST_MS = 2_000 + 1_000;

/** An ISO timestamp with microseconds. */
const isoUs = (us: bigint) => {
  const ms = us / 1000n;
  return new Date(Number(ms)).toISOString().replace('Z', `${String(us % 1000n).padStart(3, '0')}Z`);
};

const sortValue = (f: Fixture, sort: Sort): bigint | number => {
  if (sort === 'yearRateFin') return Number(f.rate);
  if (sort === 'amountApply') return f.amount;
  if (sort === 'term') return f.term;
  return f.publishedUs;
};

/** The list's order: the sort's value, ties by id, both in the same direction. */
function ordered(loans: Fixture[], sort: Sort, order: 'asc' | 'desc'): Fixture[] {
  const sign = order === 'asc' ? 1 : -1;
  return [...loans].sort((a, b) => {
    const va = sortValue(a, sort);
    const vb = sortValue(b, sort);
    if (va !== vb) return (va < vb ? -1 : 1) * sign;
    return (a.id < b.id ? -1 : 1) * sign;
  });
}

describe('loan list (GET /api/v1/loans)', function () {
  this.timeout(60_000);
  const rt = testRuntime('loan-list');
  let api: Api;
  let stop: () => Promise<void>;

  before(async () => {
    const app = await startApp(rt);
    api = apiClient(app.url);
    stop = app.close;
  });
  // Fixture loans are rows only (no orders, plan or jobs): gone before the next file's
  // reconciliation or sweepers could see them.
  const tags: string[] = [];
  after(async () => {
    for (const tag of tags)
      await testDb().query('DELETE FROM loans WHERE creditor_no LIKE $1', { bind: [`${tag}-%`] });
    await stop();
  });

  /**
   * A fresh band of loans that no other test's loans fall in (amounts from a random base, which
   * every request filters on): ties on every sort column, published times that differ only in
   * microseconds, both term units, and some loans that are not open (never listed).
   */
  async function band(n = 75) {
    const base = 10 ** 12 + randomInt(0, 1_000_000) * 10 ** 7;
    const tag = `L${base}`;
    tags.push(tag);
    const rows = Array.from({ length: n }, (_, i) => ({
      creditorNo: `${tag}-${i}`,
      rate: RATES[(i * 7) % RATES.length],
      term: 7 + (i % 6) * 5,
      termUnit: (i % 4 === 0 ? 'month' : 'day') as 'day' | 'month',
      amount: base + (i % 9) * 1_000_000,
      publishedUs: T0_US - BigInt(i % 13) * 1_000_000n + BigInt(i % 3),
      status: i % 7 === 3 ? 'settling' : i % 11 === 5 ? 'repaying' : 'open',
    }));
    const [inserted] = (await testDb().query(
      `INSERT INTO loans (creditor_no, loan_purpose, risk_level, year_rate_fin, year_rate_loan, term, term_unit,
         repayment_method, amount, service_fee, published_at, deadline, borrower_id, bank_code, bank_name,
         bank_card_encrypted, bank_card_last4, bank_card_holder_encrypted, status, locked_amount, bought_amount)
       SELECT r.creditor_no, 'list test', 'A', r.rate::numeric, 18, r.term, r.term_unit,
              CASE r.term_unit WHEN 'day' THEN 'bullet' ELSE 'equal_installment' END, r.amount, 0,
              r.published_at::timestamptz, r.published_at::timestamptz + interval '6 hours', 'B-list', 'BCA', 'BCA',
              'x', '1234', $2, r.status, r.amount / 4, r.amount / 2
         FROM json_to_recordset($1::json) AS r(creditor_no text, rate text, term int, term_unit text,
              amount bigint, published_at text, status text)
       RETURNING id, creditor_no`,
      {
        bind: [
          JSON.stringify(
            rows.map((r) => ({
              creditor_no: r.creditorNo,
              rate: r.rate,
              term: r.term,
              term_unit: r.termUnit,
              amount: r.amount,
              published_at: isoUs(r.publishedUs),
              status: r.status,
            })),
          ),
          piiCipher().encrypt('List Borrower'),
        ],
      },
    )) as [{ id: string; creditor_no: string }[], unknown];
    const ids = new Map(inserted.map((r) => [r.creditor_no, BigInt(r.id)]));
    const loans: Fixture[] = rows.map((r) => ({ ...r, id: ids.get(r.creditorNo)! }));
    return {
      loans,
      open: () => loans.filter((l) => l.status === 'open'),
      /** The band's filter, to add to every query. */
      within: `minAmountApply=${base}&maxAmountApply=${base + 10 ** 7}`,
      base,
    };
  }

  const creditorNos = (items: { creditorNo: string }[]) => items.map((l) => l.creditorNo);

  it('when every page is walked, for each sort and order, then every open loan comes exactly once, in order, with the total', async () => {
    const b = await band();
    for (const sort of SORTS)
      for (const order of ['asc', 'desc'] as const) {
        const expected = creditorNos(ordered(b.open(), sort, order));
        const seen: string[] = [];
        for (let page = 1; ; page++) {
          const res = await api.get(
            `/api/v1/loans?${b.within}&sort=${sort}&order=${order}&page=${page}&pageSize=7`,
          );
          expect(res.status).to.equal(200);
          expect(res.body).to.include({ page, pageSize: 7, total: expected.length });
          expect(res.body.items.every((l: { status: string }) => l.status === 'open')).to.equal(
            true,
          );
          seen.push(...creditorNos(res.body.items));
          if (res.body.items.length < 7) break;
        }
        expect(seen, `${sort} ${order}`).to.deep.equal(expected);
      }
  });

  it('when the pages are walked by nextCursor, then the same loans come in the same order, pages numbered on, and the last page has no cursor', async () => {
    const b = await band();
    for (const sort of SORTS)
      for (const order of ['asc', 'desc'] as const) {
        const expected = creditorNos(ordered(b.open(), sort, order));
        const seen: string[] = [];
        let query = `${b.within}&sort=${sort}&order=${order}&pageSize=6`;
        for (let page = 1; ; page++) {
          const res = await api.get(`/api/v1/loans?${query}`);
          expect(res.status, JSON.stringify(res.body)).to.equal(200);
          expect(res.body).to.include({ page, pageSize: 6, total: expected.length });
          seen.push(...creditorNos(res.body.items));
          if (!res.body.nextCursor) break;
          expect(res.body.items).to.have.length(6);
          query = `${b.within}&sort=${sort}&order=${order}&pageSize=6&cursor=${res.body.nextCursor}`;
        }
        expect(seen, `${sort} ${order}`).to.deep.equal(expected);
      }
  });

  it('when loans leave the list between pages, then the cursor goes on right after the last loan seen', async () => {
    const b = await band();
    const before = ordered(b.open(), 'publishedAt', 'desc');
    const q = `${b.within}&sort=publishedAt&order=desc&pageSize=5`;
    const first = await api.get(`/api/v1/loans?${q}`);
    expect(creditorNos(first.body.items)).to.deep.equal(creditorNos(before.slice(0, 5)));
    // Two loans of the first page are bought out (settling): OFFSET paging would now skip two.
    await testDb().query(`UPDATE loans SET status = 'settling' WHERE id IN ($1, $2)`, {
      bind: [String(before[1].id), String(before[3].id)],
    });
    const next = await api.get(`/api/v1/loans?${q}&cursor=${first.body.nextCursor}`);
    expect(next.body.page).to.equal(2);
    expect(creditorNos(next.body.items)).to.deep.equal(creditorNos(before.slice(5, 10)));
  });

  it('when any filters are combined, then exactly the open loans in range come back, and the total counts them', async () => {
    const b = await band();
    const rate = fc.option(fc.constantFrom(...RATES, '9.2500', '10.1000'), { nil: undefined });
    const term = fc.option(fc.integer({ min: 5, max: 35 }), { nil: undefined });
    const amount = fc.option(fc.integer({ min: 0, max: 9 }), { nil: undefined });
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          minRate: rate,
          maxRate: rate,
          minTerm: term,
          maxTerm: term,
          minAmount: amount,
          maxAmount: amount,
          termUnit: fc.option(fc.constantFrom('day', 'month'), { nil: undefined }),
          sort: fc.constantFrom(...SORTS),
          order: fc.constantFrom('asc', 'desc'),
        }),
        async (f) => {
          const minAmount = b.base + (f.minAmount ?? 0) * 1_000_000;
          const maxAmount = b.base + (f.maxAmount ?? 10) * 1_000_000;
          const expected = ordered(
            b
              .open()
              .filter(
                (l) =>
                  (f.minRate === undefined || Number(l.rate) >= Number(f.minRate)) &&
                  (f.maxRate === undefined || Number(l.rate) <= Number(f.maxRate)) &&
                  (f.minTerm === undefined || l.term >= f.minTerm) &&
                  (f.maxTerm === undefined || l.term <= f.maxTerm) &&
                  (f.termUnit === undefined || l.termUnit === f.termUnit) &&
                  l.amount >= minAmount &&
                  l.amount <= maxAmount,
              ),
            f.sort,
            f.order as 'asc' | 'desc',
          );
          const params = new URLSearchParams({
            minAmountApply: String(minAmount),
            maxAmountApply: String(maxAmount),
            sort: f.sort,
            order: f.order,
            pageSize: '100',
          });
          if (f.minRate !== undefined) params.set('minYearRateFin', f.minRate);
          if (f.maxRate !== undefined) params.set('maxYearRateFin', f.maxRate);
          if (f.minTerm !== undefined) params.set('minTerm', String(f.minTerm));
          if (f.maxTerm !== undefined) params.set('maxTerm', String(f.maxTerm));
          if (f.termUnit !== undefined) params.set('termUnit', f.termUnit);
          const res = await api.get(`/api/v1/loans?${params}`);
          expect(res.status).to.equal(200);
          expect(creditorNos(res.body.items)).to.deep.equal(creditorNos(expected));
          expect(res.body.total).to.equal(expected.length);
          expect(res.body.nextCursor).to.equal(null);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('when a loan is listed, then its item is the loan out of its detail, with amounts and shares read fresh', async () => {
    const b = await band(12);
    const one = b.open()[0];
    await testDb().query(
      'UPDATE loans SET locked_amount = 1000000, bought_amount = amount - 3000000 WHERE id = $1',
      { bind: [String(one.id)] },
    );
    const res = await api.get(`/api/v1/loans?${b.within}&pageSize=100`);
    expect(res.body.items).to.have.length(b.open().length);
    for (const item of res.body.items) {
      const {
        borrower: _b,
        yearRateLoan: _r,
        serviceFee: _f,
        ...detail
      } = (await api.get(`/api/v1/loans/${item.creditorNo}`)).body;
      expect(item).to.deep.equal(detail);
    }
    const bought = res.body.items.find(
      (l: { creditorNo: string }) => l.creditorNo === one.creditorNo,
    );
    expect(bought).to.include({ lockedAmount: 1_000_000, availableAmount: 2_000_000 });
  });

  it('when loans enter or leave the list, then the items show it at once and the total within about two seconds; without a cached total it is counted exactly', async () => {
    const b = await band(30);
    const q = `/api/v1/loans?${b.within}&pageSize=100`;
    const n = b.open().length;
    expect((await api.get(q)).body.total).to.equal(n);
    const counted = Date.now();
    const [gone, stays] = b.open();
    await testDb().query(`UPDATE loans SET status = 'settling' WHERE id = $1`, {
      bind: [String(gone.id)],
    });
    await testDb().query(`UPDATE loans SET status = 'open' WHERE creditor_no = $1`, {
      bind: [b.loans.find((l) => l.status !== 'open')!.creditorNo],
    });
    const now = await api.get(q);
    expect(now.body.items).to.have.length(n);
    expect(creditorNos(now.body.items)).to.not.include(gone.creditorNo);
    expect(creditorNos(now.body.items)).to.include(stays.creditorNo);
    await testDb().query(`UPDATE loans SET status = 'settling' WHERE id = $1`, {
      bind: [String(stays.id)],
    });
    await eventually(async () => (await api.get(q)).body.total === n - 1, TOTAL_AT_MOST_MS);
    expect(Date.now() - counted).to.be.below(TOTAL_AT_MOST_MS);

    await testDb().query(`UPDATE loans SET status = 'settling' WHERE id = $1`, {
      bind: [String(b.open().find((l) => l !== gone && l !== stays)!.id)],
    });
    for (let cursor = '0'; ;) {
      const [next, keys] = await rt.redis.scan(cursor, 'MATCH', `${LIST_TOTAL_KEY_PREFIX}*`);
      if (keys.length) await rt.redis.del(...keys);
      if ((cursor = next) === '0') break;
    }
    // A web process may still answer from what it last read for LIST_TOTAL_LOCAL_MS.
    await sleep(LIST_TOTAL_LOCAL_MS);
    expect((await api.get(q)).body.total).to.equal(n - 2);
  });

  it('when Redis does not answer, then the list still answers, with an exact total', async () => {
    const b = await band(20);
    const down = createRedis('redis://127.0.0.1:1/0', 'client', { retryStrategy: () => null });
    down.on('error', () => undefined);
    try {
      const { value } = loanListQuery.validate(
        Object.fromEntries(new URLSearchParams(`${b.within}&pageSize=3`)),
      );
      const res = await listOpenLoans(value, { redis: down });
      expect(res.total).to.equal(b.open().length);
      expect(creditorNos(res.items)).to.deep.equal(
        creditorNos(ordered(b.open(), 'publishedAt', 'desc').slice(0, 3)),
      );
    } finally {
      down.disconnect();
    }
  });

  it('when a cursor is forged, made for another sort or filters, or sent with a page, then 400 naming it', async () => {
    const b = await band(20);
    const first = await api.get(`/api/v1/loans?${b.within}&sort=term&pageSize=3`);
    const cursor = first.body.nextCursor as string;
    const forged = Buffer.from(
      JSON.stringify({
        ...JSON.parse(Buffer.from(cursor, 'base64url').toString()),
        k: "1' OR 1=1",
      }),
    ).toString('base64url');
    for (const q of [
      `${b.within}&sort=term&cursor=not-a-cursor`,
      `${b.within}&sort=term&cursor=${forged}`,
      `${b.within}&sort=publishedAt&cursor=${cursor}`,
      `${b.within}&sort=term&order=asc&cursor=${cursor}`,
      `minAmountApply=0&sort=term&cursor=${cursor}`,
    ]) {
      const res = await api.get(`/api/v1/loans?${q}`);
      expect(res.status, q).to.equal(400);
      expect(res.body.error.code).to.equal('VALIDATION_ERROR');
      expect(res.body.error.details.map((d: { path: string }) => d.path)).to.include('cursor');
    }
    const both = await api.get(`/api/v1/loans?${b.within}&sort=term&page=2&cursor=${cursor}`);
    expect(both.status).to.equal(400);
    const past = await api.get(`/api/v1/loans?${b.within}&page=99`);
    expect(past.body).to.include({ page: 99, total: b.open().length, nextCursor: null });
    expect(past.body.items).to.deep.equal([]);
  });
});
