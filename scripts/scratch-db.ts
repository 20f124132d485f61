import { Client } from 'pg';

/**
 * Drops and creates the database `name` on the server of `databaseUrl` (the benchmarks' scratch
 * databases); returns its URL.
 */
export async function scratchDatabase(databaseUrl: string, name: string): Promise<string> {
  const url = new URL(databaseUrl);
  url.pathname = '/postgres';
  const admin = new Client({ connectionString: url.toString() });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  url.pathname = `/${name}`;
  return url.toString();
}
