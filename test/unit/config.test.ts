import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../config';

const ROOT = path.resolve(__dirname, '..', '..');

function rejected(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return err as ConfigError;
  }
  expect.fail('expected a ConfigError');
}

describe('configuration', () => {
  it('when nothing is set, then local defaults apply', () => {
    const c = loadConfig({});
    expect(c.port).to.equal(3000);
    expect(c.databaseUrl).to.equal('postgres://postgres@127.0.0.1:5432/p2p_dev');
    expect(c.lockTtlSeconds).to.equal(1800);
    expect(c.settlementDelaySeconds).to.equal(21600);
    expect(c.minInvestAmount).to.equal(100_000n);
    expect(c.gateway.mode).to.equal('sandbox');
    expect(c.sms).to.deep.equal({ perMinutePerMobile: 1, perDayPerMobile: 10, perDayPerIp: 10 });
    expect(c.market.feeRate).to.equal('0.005');
    expect([c.trustProxy, c.trustProxyHops, c.metricsToken]).to.deep.equal([false, 1, undefined]);
    expect(Object.isFrozen(c) && Object.isFrozen(c.gateway)).to.equal(true);
  });

  it('when values are given as strings, then they are converted', () => {
    const c = loadConfig({ PORT: '8080', MIN_INVEST_AMOUNT: '250000', TRANSFER_HOLD_DAYS: '5' });
    expect(c.port).to.equal(8080);
    expect(c.minInvestAmount).to.equal(250_000n);
    expect(c.market.holdDays).to.equal(5);
  });

  for (const [name, value] of [
    ['PORT', 'abc'],
    ['DATABASE_URL', 'mysql://x'],
    ['REDIS_URL', 'not a url'],
    ['LOCK_TTL_SECONDS', '0'],
    ['MIN_INVEST_AMOUNT', '12.5'],
    ['GATEWAY_MODE', 'live'],
    ['NODE_ENV', 'staging'],
    ['TRANSFER_FEE_RATE', '5%'],
    ['AUTO_INVEST_MAX_SHARE', '1.5'],
    ['AUTO_INVEST_MAX_SHARE', '0.5e0'],
    ['SMS_PER_DAY_PER_IP', '-1'],
    ['TRUST_PROXY_HOPS', '0'],
    ['METRICS_TOKEN', 'short'],
  ] as const) {
    it(`when ${name}=${value}, then it is rejected naming ${name}`, () => {
      const err = rejected({ [name]: value });
      expect(err.variables).to.include(name);
      expect(err.message).to.contain(name);
    });
  }

  it('when NODE_ENV=production without secrets, then each missing secret is named', () => {
    const err = rejected({ NODE_ENV: 'production' });
    expect(err.variables).to.include.members([
      'GATEWAY_SECRET',
      'PARTNER_SECRET',
      'ADMIN_PASSWORD',
    ]);
  });

  it('when NODE_ENV=production with a sandbox adapter, then the process refuses to start', () => {
    const err = rejected({
      NODE_ENV: 'production',
      GATEWAY_SECRET: 'g'.repeat(32),
      PARTNER_SECRET: 'p'.repeat(32),
      ADMIN_PASSWORD: 'a'.repeat(16),
      GATEWAY_MODE: 'http',
      PARTNER_MODE: 'http',
      KYC_MODE: 'http',
      SMS_MODE: 'sandbox',
      DATA_ENCRYPTION_KEY: 'ab'.repeat(32),
      KYC_HTTP_URL: 'https://kyc.example.test',
      GATEWAY_HTTP_URL: 'https://gateway.example.test',
      PARTNER_HTTP_URL: 'https://partner.example.test',
      KYC_API_KEY: 'k'.repeat(16),
    });
    expect(err.variables).to.deep.equal(['SMS_MODE']);
    expect(err.message).to.contain('sandbox');
  });

  it('when NODE_ENV=production leaves an adapter mode unset, then it is required (no silent sandbox)', () => {
    const err = rejected({
      NODE_ENV: 'production',
      GATEWAY_SECRET: 'g'.repeat(32),
      PARTNER_SECRET: 'p'.repeat(32),
      ADMIN_PASSWORD: 'a'.repeat(16),
    });
    expect(err.variables).to.include.members([
      'GATEWAY_MODE',
      'PARTNER_MODE',
      'KYC_MODE',
      'SMS_MODE',
    ]);
  });

  it('when an adapter is http without its URL and key, then both are named', () => {
    const err = rejected({ SMS_MODE: 'http' });
    expect(err.variables).to.have.members(['SMS_HTTP_URL', 'SMS_API_KEY']);
  });

  it('when the web process starts with a bad value, then it exits with code 1 naming the variable', function () {
    this.timeout(30_000);
    const res = spawnSync(path.join(ROOT, 'node_modules', '.bin', 'tsx'), ['src/server.ts'], {
      cwd: ROOT,
      env: { ...process.env, PORT: 'not-a-port' },
      encoding: 'utf8',
      timeout: 25_000,
    });
    expect(res.status).to.equal(1);
    expect(res.stderr).to.contain('PORT');
  });
});
