import { expect } from 'chai';
import {
  activeLoanFromReply,
  banksFromReply,
  borrowerFromReply,
  isoBirthday,
  partnerFlag,
} from '../../src/adapters/partner-replies';
import { AppError } from '../../src/lib/errors';
import { SEED_BORROWER_REPLY } from '../helpers/partner-seed';

function thrown(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(AppError);
    return err as AppError;
  }
  throw new Error('expected an error');
}

describe('partner replies (seed 000 items 6, 10, 11)', () => {
  it('when the borrower reply of seed item 10 comes, then it maps field for field, "0" being false', () => {
    expect(borrowerFromReply(SEED_BORROWER_REPLY, 'B1')).to.deep.equal({
      lenderId: 'E916A745196F41939A0263D86A3FF9F0',
      name: 'Rina Herlina Mulviyusnah',
      idCardNo: '3175066301950004',
      mobile: '',
      email: 'rinaherlina2301@gmail.com',
      sex: '2',
      age: null,
      isMarried: null,
      identity: '2',
      education: 'Sekolah Menengah Atas',
      birthday: '1995-01-23',
      religion: 'Islam',
      address: 'Jalan Bakti 3 No.32 Rt.009/Rw.006 Cilincing',
      isIdentityAuth: true,
      isBankCardAuth: true,
      isLinkmanAuth: true,
      isInsuranceCardAuth: false,
      isFamilyCardAuth: true,
    });
  });

  it('when the reply is wrapped as {data: …}, then it maps the same', () => {
    expect(borrowerFromReply({ code: 0, msg: 'ok', data: SEED_BORROWER_REPLY })).to.deep.equal(
      borrowerFromReply(SEED_BORROWER_REPLY),
    );
  });

  it('when flags come as numbers, booleans, null or odd values, then only 1/"1"/true are true', () => {
    for (const yes of ['1', 1, true]) expect(partnerFlag(yes), String(yes)).to.equal(true);
    for (const no of ['0', 0, false, null, undefined, '', 'Y', 2, '2', 'true'])
      expect(partnerFlag(no), String(no)).to.equal(false);
    const b = borrowerFromReply({
      ...SEED_BORROWER_REPLY,
      age: 31,
      isMarried: '1',
      isIdentidyAuth: 0,
      isBankCardAuth: true,
      isLindManAuth: null,
    });
    expect(b).to.include({
      age: 31,
      isMarried: true,
      isIdentityAuth: false,
      isBankCardAuth: true,
      isLinkmanAuth: false,
    });
    expect(borrowerFromReply({ ...SEED_BORROWER_REPLY, isMarried: '0' }).isMarried).to.equal(false);
  });

  it('when the partner sends a birth date, then D/M/YYYY and ISO become ISO; impossible dates become empty', () => {
    expect(isoBirthday('23/1/1995')).to.equal('1995-01-23');
    expect(isoBirthday('01/12/1980')).to.equal('1980-12-01');
    expect(isoBirthday('29/2/2000')).to.equal('2000-02-29');
    expect(isoBirthday('1995-01-23')).to.equal('1995-01-23');
    for (const bad of ['29/2/1999', '32/1/1995', '1/13/1995', '1995/1/23', '', null, 19950123])
      expect(isoBirthday(bad), String(bad)).to.equal('');
  });

  it('when name or idCardNo is missing or empty, then SERVICE_UNAVAILABLE, retryable', () => {
    const { name: _n, ...noName } = SEED_BORROWER_REPLY;
    for (const reply of [
      noName,
      { ...SEED_BORROWER_REPLY, idCardNo: '' },
      { ...SEED_BORROWER_REPLY, idCardNo: null },
      { data: null },
      {},
      'oops',
      null,
    ]) {
      const err = thrown(() => borrowerFromReply(reply));
      expect(err.code).to.equal('SERVICE_UNAVAILABLE');
      expect(err.retryable).to.equal(true);
    }
  });

  it('when the active-loan answer is a boolean or "0"/"1", then it is read; anything else fails closed', () => {
    expect(activeLoanFromReply({ hasActiveLoan: true })).to.equal(true);
    expect(activeLoanFromReply({ hasActiveLoan: '1' })).to.equal(true);
    expect(activeLoanFromReply({ hasActiveLoan: false })).to.equal(false);
    expect(activeLoanFromReply({ data: { hasActiveLoan: '0' } })).to.equal(false);
    for (const odd of [{}, { hasActiveLoan: 'no' }, { hasActiveLoan: null }, null, 'false']) {
      const err = thrown(() => activeLoanFromReply(odd));
      expect(err.code).to.equal('SERVICE_UNAVAILABLE');
      expect(err.retryable).to.equal(true);
    }
  });

  it('when the bank list comes in either field spelling, then items are read and bad ones skipped', () => {
    const { banks, skipped } = banksFromReply({
      data: [
        { bankCode: 'BCA', bankName: 'Bank Central Asia', binPrefixes: ['455633'] },
        { code: 'BRI', name: ' Bank Rakyat Indonesia ', bins: ['518828', '436502'] },
        { code: 'JAGO', name: 'Bank Jago' },
        { code: 'BAD', name: 'Bad Bins', bins: [455633] },
        { name: 'No Code' },
        { bankCode: 'BCA', bankName: 'Twice' },
        'nonsense',
      ],
    });
    expect(banks).to.deep.equal([
      { bankCode: 'BCA', bankName: 'Bank Central Asia', binPrefixes: ['455633'] },
      { bankCode: 'BRI', bankName: 'Bank Rakyat Indonesia', binPrefixes: ['518828', '436502'] },
      { bankCode: 'JAGO', bankName: 'Bank Jago', binPrefixes: [] },
    ]);
    expect(skipped.map((s) => [s.index, s.bankCode])).to.deep.equal([
      [3, 'BAD'],
      [4, undefined],
      [5, 'BCA'],
      [6, undefined],
    ]);
    expect(banksFromReply([{ code: 'X1', name: 'X' }]).banks).to.have.length(1);
  });

  it('when the bank list is empty, not a list or has no valid item, then SERVICE_UNAVAILABLE', () => {
    for (const reply of [[], { data: [] }, {}, { data: 'x' }, null, [{ name: 'no code' }]]) {
      const err = thrown(() => banksFromReply(reply));
      expect(err.code, JSON.stringify(reply)).to.equal('SERVICE_UNAVAILABLE');
    }
  });
});
