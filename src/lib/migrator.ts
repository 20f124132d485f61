import path from 'node:path';
import { SequelizeStorage, Umzug, type MigrationFn as UmzugMigrationFn } from 'umzug';
import type { Sequelize } from 'sequelize-typescript';

/** A migration: `up` and `down` receive the Sequelize instance. */
export type MigrationFn = UmzugMigrationFn<Sequelize>;

/**
 * Migrations run from the sources under tsx (`migrations/*.ts`) and compiled under `dist/`
 * (`dist/migrations/*.js`): this file's own extension says which, so one set is ever loaded.
 */
const SOURCE_EXT = path.extname(__filename);

/**
 * The migration runner over `migrations/*.ts` (or their compiled `.js`), recording applied
 * names in `schema_migrations`. A migration's name is its source file's (`…_0001_foundation.ts`)
 * either way, so a database migrated from the sources and from dist agree on what is applied.
 */
export function createMigrator(
  sequelize: Sequelize,
  logger?: { info: (o: object, m: string) => void },
) {
  return new Umzug<Sequelize>({
    migrations: {
      glob: [`*${SOURCE_EXT}`, { cwd: path.resolve(__dirname, '..', '..', 'migrations') }],
      // require (not import) so that any TypeScript loader that hooks require works (tsx, mocha).
      resolve: ({ name: fileName, path: file, context }) => {
        const name = `${path.basename(fileName, SOURCE_EXT)}.ts`;
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
