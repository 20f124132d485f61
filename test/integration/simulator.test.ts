import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { expect } from 'chai';

const ROOT = path.resolve(__dirname, '..', '..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');
const LAST_LINE = /^simulate seed=(\d+) events=(\d+) faults=(\d+) checks=(\d+) violations=(\d+)$/;

/** One run of `npm run simulate` in its own process, on its own scratch database and Redis db. */
function simulate(args: string[]) {
  const scratch = ['--database', 'p2p_test_sim', '--redis-db', '11'];
  const res = spawnSync(TSX, ['scripts/simulate.ts', '--quiet', ...scratch, ...args], {
    cwd: ROOT,
    env: process.env,
    encoding: 'utf8',
    timeout: 120_000,
  });
  const lines = res.stdout.trimEnd().split('\n');
  const last = LAST_LINE.exec(lines[lines.length - 1] ?? '');
  return {
    status: res.status,
    out: `${res.stdout}\n${res.stderr}`,
    last: last
      ? { faults: Number(last[3]), checks: Number(last[4]), violations: Number(last[5]) }
      : undefined,
    fingerprint: /fingerprint ([0-9a-f]+)/.exec(res.stdout)?.[1],
  };
}

/**
 * The simulator in CI (issue #10): a fixed set of short seeds must run clean with faults of many
 * kinds, a seed must replay event for event, and each planted bug must be caught by the
 * invariant that stands for it.
 */
describe('simulator: short seeds', function () {
  this.timeout(180_000);

  for (const seed of [1, 2, 3]) {
    it(`when seed ${seed} runs 1000 events with faults, then every invariant holds and it exits 0`, () => {
      const r = simulate(['--seed', String(seed), '--events', '1000']);
      expect(r.status, r.out).to.equal(0);
      expect(r.last, r.out).to.include({ violations: 0 });
      expect(r.last!.faults, 'faults were injected').to.be.greaterThan(10);
      expect(r.last!.checks).to.be.greaterThan(100);
      expect(r.out).to.contain('faults by kind');
    });
  }

  it('when the same seed and events run again, then the run is the same, event for event', () => {
    const a = simulate(['--seed', '4', '--events', '400']);
    const b = simulate(['--seed', '4', '--events', '400']);
    expect(a.status, a.out).to.equal(0);
    expect(a.fingerprint).to.match(/^[0-9a-f]{16}$/);
    expect(b.fingerprint).to.equal(a.fingerprint);
  });
});

describe('simulator: planted bugs are caught', function () {
  this.timeout(180_000);

  const PLANTED: [string, string][] = [
    ['double-callback', 'gateway.one_effect'],
    ['lost-release', 'loan.locked_vs_locks'],
    ['split-remainder', 'loan.plan_vs_holders'],
    ['skip-outbox', 'outbox.every_enqueue'],
  ];
  for (const [plant, invariant] of PLANTED) {
    it(`when --plant ${plant} is on, then the run exits 1 naming ${invariant} and how to replay it`, () => {
      const r = simulate(['--seed', '1', '--events', '3000', '--plant', plant]);
      expect(r.status, r.out).to.equal(1);
      expect(r.last!.violations, r.out).to.be.greaterThan(0);
      expect(r.out).to.contain(`invariant ${invariant}:`);
      expect(r.out).to.match(
        new RegExp(`replay: npm run simulate -- --seed 1 --events \\d+ --plant ${plant}`),
      );
    });
  }
});
