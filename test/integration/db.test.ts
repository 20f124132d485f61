import { expect } from 'chai';
import { QueryTypes } from 'sequelize';
import { withTransaction } from '../../src/lib/db';
import { testDb } from '../helpers/context';

describe('database transactions', () => {
  it('when a transaction runs, then it is READ COMMITTED, fixed by the connection rather than left to the server', async () => {
    const level = await withTransaction(testDb(), async (transaction) => {
      const [row] = await testDb().query<{ transaction_isolation: string }>(
        'SHOW transaction_isolation',
        {
          type: QueryTypes.SELECT,
          transaction,
        },
      );
      return row.transaction_isolation;
    });
    expect(level).to.equal('read committed');
    const [conn] = await testDb().query<{ setting: string; source: string }>(
      "SELECT setting, source FROM pg_settings WHERE name = 'default_transaction_isolation'",
      { type: QueryTypes.SELECT },
    );
    expect(conn).to.deep.equal({ setting: 'read committed', source: 'client' });
  });

  it('when a transaction asks for SERIALIZABLE, then it gets it', async () => {
    const level = await withTransaction(
      testDb(),
      async (transaction) => {
        const [row] = await testDb().query<{ transaction_isolation: string }>(
          'SHOW transaction_isolation',
          { type: QueryTypes.SELECT, transaction },
        );
        return row.transaction_isolation;
      },
      { isolationLevel: 'SERIALIZABLE' as never },
    );
    expect(level).to.equal('serializable');
  });
});
