import path from 'node:path';
import { SequelizeStorage, Umzug, type MigrationFn as UmzugMigrationFn } from 'umzug';
import type { Sequelize } from 'sequelize-typescript';

/** A migration: `up` and `down` receive the Sequelize instance. */
export type MigrationFn = UmzugMigrationFn<Sequelize>;

/** The migration runner over `migrations/*.ts`, recording applied names in `schema_migrations`. */
export function createMigrator(
  sequelize: Sequelize,
  logger?: { info: (o: object, m: string) => void },
) {
  return new Umzug<Sequelize>({
    migrations: {
      glob: ['*.ts', { cwd: path.resolve(__dirname, '..', '..', 'migrations') }],
      // require (not import) so that any TypeScript loader that hooks require works (tsx, mocha).
      resolve: ({ name, path: file, context }) => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const m = require(file!) as { up: MigrationFn; down: MigrationFn };
        return {
          name,
          up: () => m.up({ name, path: file, context }),
          down: () => m.down({ name, path: file, context }),
        };
      },
    },
    context: sequelize,
    storage: new SequelizeStorage({ sequelize, tableName: 'schema_migrations' }),
    logger: logger
      ? {
          info: (e) => logger.info(e as object, 'migration'),
          warn: (e) => logger.info(e as object, 'migration warning'),
          error: (e) => logger.info(e as object, 'migration error'),
          debug: () => undefined,
        }
      : undefined,
  });
}
