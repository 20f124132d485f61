/** `npm run migrate [-- up|down|status]`: runs the umzug migrations against DATABASE_URL. */
import { Command } from 'commander';
import { getConfig } from '../config';
import { createSequelize } from '../src/lib/db';
import { createMigrator } from '../src/lib/migrator';

async function run(action: (m: ReturnType<typeof createMigrator>) => Promise<void>): Promise<void> {
  const sequelize = createSequelize(getConfig().databaseUrl, { poolMax: 2 });
  try {
    await action(createMigrator(sequelize));
  } finally {
    await sequelize.close();
  }
}

const program = new Command().name('migrate').description('database migrations (umzug)');
program
  .command('up', { isDefault: true })
  .description('apply every pending migration')
  .option('--to <name>', 'stop after this migration')
  .action((o: { to?: string }) =>
    run(async (m) => {
      const done = await m.up(o.to ? { to: o.to } : {});
      console.log(
        done.length ? done.map((d) => `applied ${d.name}`).join('\n') : 'nothing to apply',
      );
    }),
  );
program
  .command('down')
  .description('revert the last migration (or down to and including --to; --to 0 reverts all)')
  .option('--to <name>', 'revert down to this migration')
  .action((o: { to?: string }) =>
    run(async (m) => {
      const done = await m.down(o.to ? { to: o.to === '0' ? 0 : o.to } : {});
      console.log(
        done.length ? done.map((d) => `reverted ${d.name}`).join('\n') : 'nothing to revert',
      );
    }),
  );
program
  .command('status')
  .description('list applied and pending migrations')
  .action(() =>
    run(async (m) => {
      for (const x of await m.executed()) console.log(`applied  ${x.name}`);
      for (const x of await m.pending()) console.log(`pending  ${x.name}`);
    }),
  );
program.parseAsync().catch((err: Error) => {
  console.error(`migrate failed: ${err.message}`);
  process.exit(1);
});
