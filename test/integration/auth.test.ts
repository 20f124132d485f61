import { expect } from 'chai';
import { advanceClock, setClock } from '../../src/lib/clock';
import { sha256Hex } from '../../src/lib/crypto';
import { mobileLookup, User } from '../../src/modules/users/user.model';
import { apiClient, randomIp, randomMobile, registerInvestor, type Api } from '../helpers/api';
import { startApp, testRuntime } from '../helpers/context';

const rt = testRuntime('auth', {
  sms: { perMinutePerMobile: 1, perDayPerMobile: 10, perDayPerIp: 1000 },
  auth: { ...testRuntime.defaults().auth, loginMaxFailures: 3 },
});

async function captcha(api: Api) {
  const res = await api.get('/api/v1/captcha');
  return { captchaId: res.body.captchaId as string, captchaText: res.body.devAnswer as string };
}

async function sendCode(api: Api, mobile: string, purpose: 'register' | 'login', ip = randomIp()) {
  return api.post(
    '/api/v1/sms-codes',
    { mobile, ...(await captcha(api)), purpose },
    { headers: { 'X-Forwarded-For': ip } },
  );
}

describe('investors: captcha, SMS codes, register, login, logout', () => {
  let api: Api;
  let close: () => Promise<void>;
  before(async () => {
    const app = await startApp(rt);
    api = apiClient(app.url);
    close = app.close;
  });
  after(async () => close());
  afterEach(() => setClock());

  describe('captcha', () => {
    it('when a captcha is asked for, then an SVG comes with an id and (outside production) its answer', async () => {
      const res = await api.get('/api/v1/captcha');
      expect(res.status).to.equal(200);
      expect(res.body.svg).to.match(/^<svg/);
      expect(res.body.captchaId).to.be.a('string');
      expect(res.body.devAnswer).to.match(/^\w{5}$/);
      expect(await rt.redis.ttl(`captcha:${res.body.captchaId}`)).to.be.within(
        1,
        rt.config.auth.captchaTtlSeconds,
      );
    });

    it('when the captcha answer is wrong, then 400 CAPTCHA_INVALID, and the captcha is spent', async () => {
      const c = await captcha(api);
      const mobile = randomMobile();
      const wrong = await api.post('/api/v1/sms-codes', {
        mobile,
        captchaId: c.captchaId,
        captchaText: 'zzzzz',
        purpose: 'register',
      });
      expect(wrong.status).to.equal(400);
      expect(wrong.body.error.code).to.equal('CAPTCHA_INVALID');
      const reused = await api.post('/api/v1/sms-codes', { mobile, ...c, purpose: 'register' });
      expect(reused.body.error.code).to.equal('CAPTCHA_INVALID');
    });

    it('when a right captcha is used twice, then the second use is refused', async () => {
      const c = await captcha(api);
      expect(
        (
          await api.post(
            '/api/v1/sms-codes',
            { mobile: randomMobile(), ...c, purpose: 'register' },
            { headers: { 'X-Forwarded-For': randomIp() } },
          )
        ).status,
      ).to.equal(201);
      const again = await api.post('/api/v1/sms-codes', {
        mobile: randomMobile(),
        ...c,
        purpose: 'register',
      });
      expect(again.body.error.code).to.equal('CAPTCHA_INVALID');
    });
  });

  describe('SMS codes', () => {
    it('when the mobile is malformed, then 400 VALIDATION_ERROR on mobile', async () => {
      for (const mobile of ['12345', '0712345678', '+6581234567', '08123', 'abc']) {
        const res = await api.post('/api/v1/sms-codes', {
          mobile,
          ...(await captcha(api)),
          purpose: 'register',
        });
        expect(res.status, mobile).to.equal(400);
        expect(res.body.error.details.map((d: { path: string }) => d.path)).to.deep.equal([
          'mobile',
        ]);
      }
    });

    it('when a code is sent, then it is stored hashed for 5 minutes and shown as devCode', async () => {
      const mobile = randomMobile();
      const res = await sendCode(api, mobile, 'register');
      expect(res.status).to.equal(201);
      expect(res.body.devCode).to.match(/^\d{6}$/);
      expect(res.body.expiresIn).to.equal(300);
      const key = `sms-code:register:${mobileLookup(mobile)}`;
      expect(await rt.redis.ttl(key)).to.be.within(290, 300);
      expect(JSON.stringify(await rt.redis.hgetall(key))).to.not.contain(res.body.devCode);
    });

    it('when a second code is asked within a minute, then 429 RATE_LIMITED with Retry-After', async () => {
      const mobile = randomMobile();
      expect((await sendCode(api, mobile, 'register')).status).to.equal(201);
      const again = await sendCode(api, mobile, 'register');
      expect(again.status).to.equal(429);
      expect(again.body.error.code).to.equal('RATE_LIMITED');
      expect(Number(again.headers.get('retry-after'))).to.be.within(1, 60);
    });

    it('when the per-day limits per mobile and per IP are reached, then 429', async () => {
      const strict = testRuntime('auth-limits', {
        sms: { perMinutePerMobile: 100, perDayPerMobile: 2, perDayPerIp: 3 },
      });
      const app = await startApp(strict);
      const s = apiClient(app.url);
      try {
        const mobile = randomMobile();
        {
          const r = await sendCode(s, mobile, 'login');
          expect(r.status, JSON.stringify(r.body)).to.equal(201);
        }
        {
          const r = await sendCode(s, mobile, 'login');
          expect(r.status, JSON.stringify(r.body)).to.equal(201);
        }
        const third = await sendCode(s, mobile, 'login');
        expect(third.status).to.equal(429);
        expect(third.body.error.message).to.contain('per day for this mobile');
        const ip = randomIp();
        for (let i = 0; i < 3; i++)
          expect((await sendCode(s, randomMobile(), 'login', ip)).status).to.equal(201);
        const fourth = await sendCode(s, randomMobile(), 'login', ip);
        expect(fourth.status).to.equal(429);
        expect(fourth.body.error.message).to.contain('from this address');
      } finally {
        await app.close();
      }
    });

    it('when a code is wrong 5 times, then it is dead even for the right code', async () => {
      const mobile = randomMobile();
      const { body } = await sendCode(api, mobile, 'register');
      const wrong = body.devCode === '000000' ? '111111' : '000000';
      for (let i = 0; i < 5; i++) {
        const r = await api.post('/api/v1/auth/register', {
          mobile,
          smsCode: wrong,
          password: 'secret123',
        });
        expect(r.status).to.equal(400);
        expect(r.body.error.code).to.equal('SMS_CODE_INVALID');
      }
      const right = await api.post('/api/v1/auth/register', {
        mobile,
        smsCode: body.devCode,
        password: 'secret123',
      });
      expect(right.body.error.code).to.equal('SMS_CODE_INVALID');
      expect(await User.count({ where: { mobileHash: mobileLookup(mobile) } })).to.equal(0);
    });

    it('when the code has expired, then SMS_CODE_INVALID says so and nothing is created', async () => {
      const mobile = randomMobile();
      const { body } = await sendCode(api, mobile, 'register');
      advanceClock(5 * 60_000 + 1_000); // five minutes later
      const res = await api.post('/api/v1/auth/register', {
        mobile,
        smsCode: body.devCode,
        password: 'secret123',
      });
      expect(res.status).to.equal(400);
      expect(res.body.error.code).to.equal('SMS_CODE_INVALID');
      expect(res.body.error.message).to.contain('expired');
      expect(await User.count({ where: { mobileHash: mobileLookup(mobile) } })).to.equal(0);
    });

    it('when the SMS port fails, then 503 and no code is left behind', async () => {
      const failing = testRuntime('auth-sms-down');
      const orig = failing.ports.sms.sendCode;
      failing.ports.sms.sendCode = async () => {
        throw new Error('provider down');
      };
      const app = await startApp(failing);
      try {
        const mobile = randomMobile();
        const res = await sendCode(apiClient(app.url), mobile, 'register');
        expect(res.status).to.equal(503);
        expect(await rt.redis.exists(`sms-code:register:${mobileLookup(mobile)}`)).to.equal(0);
      } finally {
        failing.ports.sms.sendCode = orig;
        await app.close();
      }
    });
  });

  describe('register', () => {
    it('when an investor registers with +62 form, then a token comes back with the mobile masked and stored as 08…', async () => {
      const local = randomMobile();
      const intl = `+62 ${local.slice(1)}`;
      const { body } = await sendCode(api, intl, 'register');
      const res = await api.post('/api/v1/auth/register', {
        mobile: intl,
        smsCode: body.devCode,
        password: 'secret123',
      });
      expect(res.status).to.equal(201);
      expect(res.body.token).to.be.a('string');
      expect(res.body.user.mobile).to.equal(`${local.slice(0, 4)}****${local.slice(-4)}`);
      const user = await User.findOne({ where: { mobileHash: mobileLookup(local) } });
      expect(user?.passwordHash).to.match(/^\$argon2id\$/);
    });

    it('when the password is weak, then 400 on password and nothing is created (the code survives)', async () => {
      const mobile = randomMobile();
      const { body } = await sendCode(api, mobile, 'register');
      for (const password of ['short1', 'onlyletters', '12345678']) {
        const r = await api.post('/api/v1/auth/register', {
          mobile,
          smsCode: body.devCode,
          password,
        });
        expect(r.status, password).to.equal(400);
        expect(r.body.error.details[0].path).to.equal('password');
      }
      expect(await User.count({ where: { mobileHash: mobileLookup(mobile) } })).to.equal(0);
      expect(
        (
          await api.post('/api/v1/auth/register', {
            mobile,
            smsCode: body.devCode,
            password: 'good-pass-1',
          })
        ).status,
      ).to.equal(201);
    });

    it('when the mobile is already registered, then the SMS step answers as for a new one, register without a valid code too, and only the code sent to that mobile gets 409', async () => {
      const inv = await registerInvestor(api);
      const attempt = (mobile: string, smsCode = '123456') =>
        api.post('/api/v1/auth/register', { mobile, smsCode, password: 'secret123' });
      const alike = async (known: string, unknown: string) => {
        const [k, u] = [await attempt(known), await attempt(unknown)];
        expect(k.status).to.equal(u.status);
        expect(k.body.error).to.deep.equal(u.body.error);
        expect(k.body.error.code).to.equal('SMS_CODE_INVALID');
      };
      // No code asked for either.
      await alike(inv.mobile, randomMobile());

      advanceClock(61_000); // past the sign-up's own per-minute SMS window
      const fresh = randomMobile();
      const [known, unknown] = [
        await sendCode(api, inv.mobile, 'register'),
        await sendCode(api, fresh, 'register'),
      ];
      expect([known.status, unknown.status]).to.deep.equal([201, 201]);
      expect(Object.keys(known.body).sort()).to.deep.equal(Object.keys(unknown.body).sort());
      expect(known.body.expiresIn).to.equal(unknown.body.expiresIn);
      // The registered mobile's limits are counted like any other's (one a minute here).
      const [knownAgain, unknownAgain] = [
        await sendCode(api, inv.mobile, 'register'),
        await sendCode(api, fresh, 'register'),
      ];
      expect([knownAgain.status, unknownAgain.status]).to.deep.equal([429, 429]);
      expect(knownAgain.body.error).to.deep.equal(unknownAgain.body.error);
      // A code asked for both, and a wrong guess at it.
      await alike(inv.mobile, fresh);

      // The phone's holder, with the code it received, is told to log in instead; nothing changes.
      const taken = await attempt(inv.mobile, known.body.devCode);
      expect(taken.status).to.equal(409);
      expect(taken.body.error.code).to.equal('MOBILE_ALREADY_REGISTERED');
      expect(await User.count({ where: { mobileHash: mobileLookup(inv.mobile) } })).to.equal(1);
      const login = await api.post(
        '/api/v1/auth/login',
        { mobile: inv.mobile, password: inv.password },
        { headers: { 'X-Forwarded-For': randomIp() } },
      );
      expect(login.status).to.equal(200);
    });

    it('when unknown fields are sent, then 400 and nothing is created', async () => {
      const mobile = randomMobile();
      const res = await api.post('/api/v1/auth/register', {
        mobile,
        smsCode: '123456',
        password: 'secret123',
        role: 'admin',
      });
      expect(res.status).to.equal(400);
      expect(res.body.error.details.map((d: { path: string }) => d.path)).to.deep.equal(['role']);
      expect(await User.count({ where: { mobileHash: mobileLookup(mobile) } })).to.equal(0);
    });

    it('when the body is oversized, then 413', async () => {
      const res = await api.call('POST', '/api/v1/auth/register', {
        raw: JSON.stringify({ mobile: 'x'.repeat(70_000) }),
      });
      expect(res.status).to.equal(413);
      expect(res.body.error.code).to.equal('PAYLOAD_TOO_LARGE');
    });
  });

  describe('login and sessions', () => {
    it('when the password is right, then a session works on /me; a wrong one is 401', async () => {
      const inv = await registerInvestor(api);
      const ok = await api.post(
        '/api/v1/auth/login',
        { mobile: inv.mobile, password: inv.password },
        { headers: { 'X-Forwarded-For': randomIp() } },
      );
      expect(ok.status).to.equal(200);
      expect((await api.get('/api/v1/me', { token: ok.body.token })).status).to.equal(200);
      const bad = await api.post(
        '/api/v1/auth/login',
        { mobile: inv.mobile, password: 'wrong-pass1' },
        { headers: { 'X-Forwarded-For': randomIp() } },
      );
      expect(bad.status).to.equal(401);
      expect(bad.body.error.code).to.equal('INVALID_CREDENTIALS');
    });

    it('when logins fail repeatedly, then the mobile is throttled (429) even with the right password', async () => {
      const inv = await registerInvestor(api);
      for (let i = 0; i < 3; i++) {
        expect(
          (await api.post('/api/v1/auth/login', { mobile: inv.mobile, password: 'wrong-pass1' }))
            .status,
        ).to.equal(401);
      }
      const locked = await api.post('/api/v1/auth/login', {
        mobile: inv.mobile,
        password: inv.password,
      });
      expect(locked.status).to.equal(429);
      expect(Number(locked.headers.get('retry-after'))).to.be.greaterThan(0);
    });

    it('when logging in by SMS code, then it works once with the code', async () => {
      const inv = await registerInvestor(api);
      advanceClock(61_000); // a minute later
      const { body } = await sendCode(api, inv.mobile, 'login');
      const ok = await api.post('/api/v1/auth/login', {
        mobile: inv.mobile,
        smsCode: body.devCode,
      });
      expect(ok.status).to.equal(200);
      const reuse = await api.post('/api/v1/auth/login', {
        mobile: inv.mobile,
        smsCode: body.devCode,
      });
      expect(reuse.body.error.code).to.equal('SMS_CODE_INVALID');
    });

    it('when both password and smsCode (or neither) are sent, then 400', async () => {
      const both = await api.post('/api/v1/auth/login', {
        mobile: randomMobile(),
        password: 'secret123',
        smsCode: '123456',
      });
      expect(both.status).to.equal(400);
      const none = await api.post('/api/v1/auth/login', { mobile: randomMobile() });
      expect(none.status).to.equal(400);
    });

    it('when the investor logs out, then the token stops working', async () => {
      const inv = await registerInvestor(api);
      expect(
        (await api.post('/api/v1/auth/logout', undefined, { token: inv.token })).status,
      ).to.equal(204);
      const after = await api.get('/api/v1/me', { token: inv.token });
      expect(after.status).to.equal(401);
    });

    it('when the password changes, then every session ends and only the new password logs in', async () => {
      const inv = await registerInvestor(api);
      const second = (
        await api.post('/api/v1/auth/login', { mobile: inv.mobile, password: inv.password })
      ).body.token;
      const wrong = await api.post(
        '/api/v1/me/password',
        { oldPassword: 'nope-nope1', newPassword: 'new-pass-2' },
        { token: inv.token },
      );
      expect(wrong.status).to.equal(401);
      expect(
        (
          await api.post(
            '/api/v1/me/password',
            { oldPassword: inv.password, newPassword: 'new-pass-2' },
            { token: inv.token },
          )
        ).status,
      ).to.equal(204);
      expect((await api.get('/api/v1/me', { token: inv.token })).status).to.equal(401);
      expect((await api.get('/api/v1/me', { token: second })).status).to.equal(401);
      expect(
        (await api.post('/api/v1/auth/login', { mobile: inv.mobile, password: inv.password }))
          .status,
      ).to.equal(401);
      expect(
        (await api.post('/api/v1/auth/login', { mobile: inv.mobile, password: 'new-pass-2' }))
          .status,
      ).to.equal(200);
    });

    it('when a session is used, then its expiry slides forward; unused for its TTL, it is over', async () => {
      const inv = await registerInvestor(api);
      const ttl = rt.config.auth.sessionTtlSeconds * 1000;
      const key = `session:${sha256Hex(inv.token)}`;
      await rt.redis.expire(key, 100);
      advanceClock(ttl - 60_000);
      expect((await api.get('/api/v1/me', { token: inv.token })).status).to.equal(200);
      expect(await rt.redis.ttl(key)).to.be.greaterThan(100);
      advanceClock(ttl - 60_000);
      expect((await api.get('/api/v1/me', { token: inv.token })).status).to.equal(200);
      advanceClock(ttl + 1_000);
      expect((await api.get('/api/v1/me', { token: inv.token })).status).to.equal(401);
      expect(await rt.redis.exists(key)).to.equal(0);
    });
  });
});
