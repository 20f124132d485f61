import { randomInt } from 'node:crypto';
import { expect } from 'chai';
import { Client } from 'pg';
import { QueryTypes } from 'sequelize';
import { Sequelize } from 'sequelize-typescript';
import { createMigrator } from '../../src/lib/migrator';
import { piiCipher } from '../../src/lib/model-columns';
import { KycVerification } from '../../src/modules/kyc/kyc.model';
import { Loan } from '../../src/modules/loans/loan.model';
import { mobileLookup, User } from '../../src/modules/users/user.model';
import { StudentLoan } from '../../src/modules/student-loans/student-loan.model';
import {
  apiClient,
  eventually,
  randomCard,
  randomNik,
  registerInvestor,
  type Api,
} from '../helpers/api';
import { startApp, testDb, testRuntime } from '../helpers/context';
import { loanBody, signedPost } from '../helpers/market';
import { PROCESSORS } from '../../jobs/processors';
import { startWorkers, type WorkerPool } from '../../jobs/worker-factory';

const rt = testRuntime('pii');

/** Every text of a row as PostgreSQL holds it, read with plain SQL. */
async function rawRow(table: string, id: string): Promise<string> {
  const [row] = await testDb().query(`SELECT * FROM ${table} WHERE id = $1`, {
    bind: [id],
    type: QueryTypes.SELECT,
  });
  return JSON.stringify(row);
}

/** A name-like word no other row holds ("Kq" and eight random letters). */
const randomWord = () =>
  `Kq${Array.from({ length: 8 }, () => String.fromCharCode(97 + randomInt(26))).join('')}`;

/** The tables of the database any of whose rows, read as text, contains one of `needles`. */
async function tablesHolding(needles: string[]): Promise<string[]> {
  const tables = await testDb().query<{ name: string }>(
    `SELECT table_name AS name FROM information_schema.tables
      WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`,
    { type: QueryTypes.SELECT },
  );
  const found: string[] = [];
  for (const { name } of tables) {
    const [hit] = await testDb().query<{ n: string }>(
      `SELECT count(*)::text AS n FROM "${name}" t WHERE t::text ILIKE ANY($1::text[])`,
      { bind: [needles.map((n) => `%${n}%`)], type: QueryTypes.SELECT },
    );
    if (hit.n !== '0') found.push(name);
  }
  return found;
}

describe('PII at rest: mobile numbers, real names, student ID numbers, card holder names', () => {
  let api: Api;
  let url: string;
  let close: () => Promise<void>;
  let pool: WorkerPool;
  before(async () => {
    const app = await startApp(rt);
    ({ url, close } = app);
    api = apiClient(url);
    pool = startWorkers(rt, PROCESSORS, { queues: ['investors'] });
  });
  after(async () => {
    await pool.close();
    await close();
  });

  it('when an investor signs up, passes KYC, binds a card and applies for a student loan, and the partner sends a loan, then no table holds the mobile, real name, student ID number or holder name, and the API shows them masked as before', async () => {
    const inv = await registerInvestor(api);
    const realName = `${randomWord()} ${randomWord()}`;
    const holder = `${randomWord()} ${randomWord()}`;
    const studentIdNo = `2024${String(randomInt(1e9)).padStart(9, '0')}`;
    const kyc = await api.post(
      '/api/v1/me/kyc',
      { realName, idCardNo: randomNik() },
      { token: inv.token },
    );
    expect(kyc.status).to.equal(202);
    await eventually(
      async () => (await api.get('/api/v1/me/kyc', { token: inv.token })).body.verified === true,
    );
    const card = await api.post(
      '/api/v1/me/bank-cards',
      { bankCode: 'BCA', cardNo: randomCard('455633') },
      { token: inv.token },
    );
    expect(card.status, JSON.stringify(card.body)).to.be.oneOf([200, 201]);
    const student = await api.post(
      '/api/v1/student-loans',
      {
        schoolName: 'Universitas Indonesia',
        studentIdNo,
        major: 'Informatika',
        enrollmentYear: 2024,
        amount: 5_000_000,
        termMonths: 12,
        purpose: 'tuition',
      },
      { token: inv.token },
    );
    expect(student.status, JSON.stringify(student.body)).to.equal(201);
    const body = loanBody({ bankCardHolder: holder });
    const loan = await signedPost(url, '/partner/v1/loans', body, rt.config.partner.secret);
    expect(loan.status).to.equal(201);

    const needles = [
      inv.mobile.slice(1),
      ...realName.split(' '),
      studentIdNo,
      ...holder.split(' '),
    ];
    expect(await tablesHolding(needles)).to.deep.equal([]);

    // What the API shows is unchanged: masked, from the decrypted values.
    const maskedMobile = `${inv.mobile.slice(0, 4)}****${inv.mobile.slice(-4)}`;
    const maskedName = realName
      .split(' ')
      .map((w) => `${w[0]}${'*'.repeat(w.length - 1)}`)
      .join(' ');
    const me = await api.get('/api/v1/me', { token: inv.token });
    expect(me.body.mobile).to.equal(maskedMobile);
    expect(me.body.kyc.realName).to.equal(maskedName);
    expect(student.body.studentIdNo).to.equal(
      `${studentIdNo.slice(0, 4)}*****${studentIdNo.slice(-4)}`,
    );
    const mine = await api.get('/api/v1/me/student-loans', { token: inv.token });
    expect(mine.body.items[0].studentIdNo).to.equal(student.body.studentIdNo);
    const admin = (
      await api.post('/admin/v1/auth/login', {
        username: rt.config.admin.user,
        password: rt.config.admin.password,
      })
    ).body.token as string;
    const listed = await api.get(`/admin/v1/investors?mobile=${inv.mobile}`, { token: admin });
    expect(listed.body.total).to.equal(1);
    expect(listed.body.items[0]).to.include({ id: inv.userId, mobile: maskedMobile });
    const login = await api.post('/api/v1/auth/login', {
      mobile: inv.mobile,
      password: inv.password,
    });
    expect(login.status).to.equal(200);
    expect(login.body.user).to.deep.equal({ id: inv.userId, mobile: maskedMobile });
    expect(
      (await Loan.findOne({ where: { creditorNo: body.creditorNo } }))!.bankCardHolder,
    ).to.equal(holder);
  });

  it('when an investor signs up with an SMS code and a login fails, then no Redis key holds the mobile number, and the code and the throttle still work', async () => {
    // registerInvestor sends, limits and consumes a register code for the mobile.
    const inv = await registerInvestor(api);
    const wrong = await api.post('/api/v1/auth/login', { mobile: inv.mobile, password: 'nope-1' });
    expect(wrong.status).to.equal(401);
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await rt.redis.scan(
        cursor,
        'MATCH',
        `*${inv.mobile.slice(1)}*`,
        'COUNT',
        1000,
      );
      keys.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    expect(keys).to.deep.equal([]);
    const failKey = `login-fail:mobile:${mobileLookup(inv.mobile)}`;
    expect(await rt.redis.get(failKey)).to.equal('1');
    const login = await api.post('/api/v1/auth/login', {
      mobile: inv.mobile,
      password: inv.password,
    });
    expect(login.status).to.equal(200);
    expect(await rt.redis.exists(failKey)).to.equal(0);
  });

  it('when an investor signs up, then the row holds no mobile number, and login, the profile and the admin filter still find it', async () => {
    const inv = await registerInvestor(api);
    const raw = await rawRow('users', inv.userId);
    expect(raw).to.not.contain(inv.mobile).and.not.contain(inv.mobile.slice(1));
    const row = (await User.findByPk(inv.userId))!;
    expect(row.mobile).to.equal(inv.mobile);
    expect(row.mobileHash).to.equal(mobileLookup(inv.mobile));
    const login = await api.post('/api/v1/auth/login', {
      mobile: `+62${inv.mobile.slice(1)}`,
      password: inv.password,
    });
    expect(login.status).to.equal(200);
    expect(login.body.user.mobile).to.equal(`${inv.mobile.slice(0, 4)}****${inv.mobile.slice(-4)}`);
    const me = await api.get('/api/v1/me', { token: inv.token });
    expect(me.body.mobile).to.equal(`${inv.mobile.slice(0, 4)}****${inv.mobile.slice(-4)}`);
  });

  it('when an investor passes KYC, then the row holds no real name, and the API shows it masked as before', async () => {
    const inv = await registerInvestor(api);
    const realName = 'Rina Herlina Mulviyusnah';
    const res = await api.post(
      '/api/v1/me/kyc',
      { realName, idCardNo: randomNik() },
      { token: inv.token },
    );
    expect(res.status).to.equal(202);
    await eventually(
      async () => (await api.get('/api/v1/me/kyc', { token: inv.token })).body.status !== 'pending',
    );
    const kyc = (await KycVerification.findOne({ where: { userId: inv.userId } }))!;
    expect(kyc.realName).to.equal(realName);
    const raw = await rawRow('kyc_verifications', kyc.id);
    expect(raw).to.not.contain('Rina').and.not.contain('Herlina');
    const me = await api.get('/api/v1/me', { token: inv.token });
    expect(me.body.kyc.realName).to.equal('R*** H****** M**********');
  });

  it('when a student loan is applied for, then the row holds no student ID number', async () => {
    const inv = await registerInvestor(api);
    const studentIdNo = '2024118877665';
    const res = await api.post(
      '/api/v1/student-loans',
      {
        schoolName: 'Universitas Indonesia',
        studentIdNo,
        major: 'Informatika',
        enrollmentYear: 2024,
        amount: 5_000_000,
        termMonths: 12,
        purpose: 'tuition',
      },
      { token: inv.token },
    );
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    const row = (await StudentLoan.findOne({ where: { userId: inv.userId } }))!;
    expect(row.studentIdNo).to.equal(studentIdNo);
    expect(await rawRow('student_loans', row.id)).to.not.contain(studentIdNo);
  });

  it("when the partner sends a loan, then the row holds no borrower's card holder name", async () => {
    const body = loanBody({ bankCardHolder: 'Budi Santoso Wibowo' });
    const res = await signedPost(url, '/partner/v1/loans', body, rt.config.partner.secret);
    expect(res.status).to.equal(201);
    const loan = (await Loan.findOne({ where: { creditorNo: body.creditorNo } }))!;
    expect(loan.bankCardHolder).to.equal('Budi Santoso Wibowo');
    expect(await rawRow('loans', loan.id))
      .to.not.contain('Budi')
      .and.not.contain('Wibowo');
  });

  it('when migrations 0015, 0016 and 0017 run on rows written in plaintext before them, then they are encrypted, the lookup hash is filled and no plaintext is left; down brings them back', async function () {
    this.timeout(60_000);
    const base = new URL(rt.config.databaseUrl);
    const name = `${base.pathname.slice(1)}_pii_${process.pid}`;
    const adminUrl = new URL(base);
    adminUrl.pathname = '/postgres';
    const c = new Client({ connectionString: adminUrl.toString() });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${name}`);
    const scratch = new URL(base);
    scratch.pathname = `/${name}`;
    const db = new Sequelize(scratch.toString(), { dialect: 'postgres', logging: false });
    const q = <T extends object>(sql: string, bind: unknown[] = []) =>
      db.query<T>(sql, { bind, type: QueryTypes.SELECT });
    const row = async (table: string, id: string) =>
      (await q<Record<string, string | null>>(`SELECT * FROM ${table} WHERE id = $1`, [id]))[0];
    const cipher = piiCipher();
    const plain = {
      mobile: '081299990000',
      realName: 'Siti Aminah',
      studentIdNo: '2019556677881',
      holder: 'Agus Salim',
      originalHolder: 'Dewi Lestari',
    };
    try {
      const migrator = createMigrator(db);
      await migrator.up({ to: '20261122_0013_loan_list.ts' });
      // Rows as the code before 0015 wrote them: every value in plaintext.
      const [user] = await q<{ id: string }>(
        `INSERT INTO users (role, mobile) VALUES ('investor', $1) RETURNING id`,
        [plain.mobile],
      );
      const [kyc] = await q<{ id: string }>(
        `INSERT INTO kyc_verifications (user_id, real_name, nik_encrypted, nik_hash, nik_last4, status)
         VALUES ($1, $2, 'x', 'h-pii', '0004', 'verified') RETURNING id`,
        [user.id, plain.realName],
      );
      const [student] = await q<{ id: string }>(
        `INSERT INTO student_loans (user_id, school_name, student_id_no, major, enrollment_year, amount,
           term_months, purpose, status)
         VALUES ($1, 'UI', $2, 'Informatika', 2019, 5000000, 12, 'tuition', 'submitted') RETURNING id`,
        [user.id, plain.studentIdNo],
      );
      const [loan] = await q<{ id: string }>(
        `INSERT INTO loans (creditor_no, loan_purpose, risk_level, year_rate_fin, year_rate_loan, term,
           term_unit, repayment_method, amount, service_fee, published_at, deadline, borrower_id, bank_code,
           bank_name, bank_card_encrypted, bank_card_last4, bank_card_holder, status, locked_amount, bought_amount)
         VALUES ('C-pii', 'p', 'A', 12, 18, 30, 'day', 'bullet', 1000000, 0, now(), now(), 'B-pii', 'BCA',
           'BCA', 'x', '1234', $1, 'open', 0, 0) RETURNING id`,
        [plain.holder],
      );
      const [original] = await q<{ id: string }>(
        `INSERT INTO loan_originals (creditor_no, body, body_hash)
         VALUES ('C-pii', jsonb_build_object('creditorNo', 'C-pii', 'bankCardHolder', $1::text), 'h')
         RETURNING id`,
        [plain.originalHolder],
      );
      // A record the new code wrote before 0017 ran: already ciphertext, to be left alone.
      const already = cipher.encrypt('Budi Hartono');
      const [written] = await q<{ id: string }>(
        `INSERT INTO loan_originals (creditor_no, body, body_hash)
         VALUES ('C-pii-2', jsonb_build_object('bankCardHolder', $1::text), 'h2') RETURNING id`,
        [already],
      );

      await migrator.up();
      const rows = {
        users: await row('users', user.id),
        kyc: await row('kyc_verifications', kyc.id),
        student: await row('student_loans', student.id),
        loan: await row('loans', loan.id),
        original: await row('loan_originals', original.id),
      };
      for (const [what, value] of Object.entries(plain))
        expect(JSON.stringify(rows), what).to.not.contain(value.split(' ')[0]);
      expect(rows.users).to.not.have.property('mobile');
      expect(cipher.decrypt(rows.users.mobile_encrypted!)).to.equal(plain.mobile);
      expect(rows.users.mobile_hash).to.equal(mobileLookup(plain.mobile));
      expect(rows.kyc).to.not.have.property('real_name');
      expect(cipher.decrypt(rows.kyc.real_name_encrypted!)).to.equal(plain.realName);
      expect(rows.student).to.not.have.property('student_id_no');
      expect(cipher.decrypt(rows.student.student_id_no_encrypted!)).to.equal(plain.studentIdNo);
      expect(rows.loan).to.not.have.property('bank_card_holder');
      expect(cipher.decrypt(rows.loan.bank_card_holder_encrypted!)).to.equal(plain.holder);
      const body = rows.original.body as unknown as { bankCardHolder: string; creditorNo: string };
      expect(body.creditorNo).to.equal('C-pii');
      expect(cipher.decrypt(body.bankCardHolder)).to.equal(plain.originalHolder);
      const writtenBody = (await row('loan_originals', written.id)).body as unknown as {
        bankCardHolder: string;
      };
      expect(writtenBody.bankCardHolder).to.equal(already);
      // The app reads the migrated rows through its models as before.
      expect(
        (
          await q<{ id: string }>('SELECT id FROM users WHERE mobile_hash = $1', [
            mobileLookup(plain.mobile),
          ])
        )[0].id,
      ).to.equal(user.id);

      await migrator.down({ to: '20261122_0015_pii_at_rest.ts' });
      expect((await row('users', user.id)).mobile).to.equal(plain.mobile);
      const back = await row('kyc_verifications', kyc.id);
      expect(back.real_name).to.equal(plain.realName);
      expect(back).to.not.have.property('real_name_encrypted');
      expect((await row('student_loans', student.id)).student_id_no).to.equal(plain.studentIdNo);
      expect((await row('loans', loan.id)).bank_card_holder).to.equal(plain.holder);
      expect(
        ((await row('loan_originals', original.id)).body as unknown as { bankCardHolder: string })
          .bankCardHolder,
      ).to.equal(plain.originalHolder);
    } finally {
      await db.close();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    }
  });
});
