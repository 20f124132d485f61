/**
 * `npm run simulate -- --seed N --events K [--investors I --loans L] [--plant NAME]`: a seeded,
 * reproducible run of the whole market with faults, every invariant checked as it goes
 * (scripts/simulator/). The last line is exactly
 * `simulate seed=N events=K faults=F checks=C violations=V`; exit 0 when V is 0.
 */
import { Command, Option } from 'commander';
import { PLANTS, type PlantName } from '../src/lib/plants';
import { simulate } from './simulator/run';

const opts = new Command()
  .name('simulate')
  .description('a deterministic market simulation with fault injection; exits 1 on a violation')
  .option('--seed <n>', 'the seed: the same seed and events replay the same run', '1')
  .option('--events <k>', 'how many events', '1000')
  .option('--investors <i>', 'investors who sign up, at most', '40')
  .option(
    '--loans <l>',
    'loans the partner sends, at most (default: no limit; one every 2 to 24 simulated hours)',
  )
  .addOption(
    new Option(
      '--plant <name>',
      'switch on one deliberate bug (the checker must catch it)',
    ).choices(Object.keys(PLANTS)),
  )
  .option('--database <name>', 'the scratch database (dropped and created)', 'p2p_sim')
  .option('--redis-db <n>', 'the scratch Redis database (flushed)', '13')
  .option('--quiet', 'no progress line')
  .option('--log', 'print every event (to follow a replay)')
  .parse()
  .opts<{
    seed: string;
    events: string;
    investors: string;
    loans?: string;
    plant?: PlantName;
    database: string;
    redisDb: string;
    quiet?: boolean;
    log?: boolean;
  }>();

const seed = Number(opts.seed);
const events = Number(opts.events);

async function main(): Promise<number> {
  const r = await simulate({
    seed,
    events,
    investors: Number(opts.investors),
    loans: opts.loans ? Number(opts.loans) : Number.POSITIVE_INFINITY,
    plant: opts.plant,
    database: opts.database,
    redisDb: Number(opts.redisDb),
    progress: !opts.quiet && process.stderr.isTTY,
    log: opts.log ? (line) => console.log(line) : undefined,
  });
  const events_ = [...r.tallies].filter(([k]) => k.startsWith('event: ')).sort();
  const faults = [...r.tallies].filter(([k]) => k.startsWith('fault: ')).sort();
  const pad = (s: string, n: number) => s.padEnd(n);
  console.log(`\nevents by kind`);
  for (const [k, v] of events_) console.log(`  ${pad(k.slice(7), 30)} ${String(v).padStart(6)}`);
  console.log(`faults by kind`);
  for (const [k, v] of faults) console.log(`  ${pad(k.slice(7), 30)} ${String(v).padStart(6)}`);
  console.log(
    `\ninvariants checked ${r.checks}; simulated days ${r.simulatedDays.toFixed(1)}; wall time ${(r.wallMs / 1000).toFixed(1)} s; fingerprint ${r.fingerprint}${opts.plant ? `; plant ${opts.plant}` : ''}`,
  );
  if (r.violations.length) {
    console.log(
      r.quietStep === undefined
        ? `\nVIOLATION at event ${r.violationAt} (seed ${seed}):`
        : `\nVIOLATION in the quiet phase after event ${r.violationAt}, at its step ${r.quietStep} (seed ${seed}):`,
    );
    for (const v of r.violations.slice(0, 5)) {
      console.log(`  invariant ${v.invariant}: ${v.detail}`);
      for (const row of v.rows.slice(0, 10))
        console.log(`    ${typeof row === 'string' ? row : JSON.stringify(row)}`);
    }
    console.log(
      `replay: npm run simulate -- --seed ${seed} --events ${r.violationAt}${opts.investors !== '40' ? ` --investors ${opts.investors}` : ''}${opts.loans ? ` --loans ${opts.loans}` : ''}${opts.plant ? ` --plant ${opts.plant}` : ''}`,
    );
  }
  console.log(
    `simulate seed=${seed} events=${events} faults=${r.faults} checks=${r.checks} violations=${r.violations.length}`,
  );
  return r.violations.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`simulate failed: ${err.stack ?? err.message}`);
    process.exit(2);
  },
);
