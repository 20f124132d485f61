import { expect } from 'chai';
import { checkLedger } from '../../src/modules/ledger/ledger.service';

// Runs last (file order): whatever the suite did to money, the ledger must still balance.
describe('the ledger after the whole suite', () => {
  it('when every test has run, then the trial balance is zero and every cached balance matches its entries', async () => {
    const check = await checkLedger();
    expect(check.mismatches).to.deep.equal([]);
    expect(check.unbalancedTransactions).to.deep.equal([]);
    expect(check.trialBalance).to.equal(0n);
    expect(check.cachedTotal).to.equal(0n);
  });
});
