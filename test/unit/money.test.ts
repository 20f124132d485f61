import { expect } from 'chai';
import { Dec, formatRate, idrToJson, mulFloor, toIdr } from '../../src/lib/money';

describe('money helpers', () => {
  it('when pg gives BIGINT strings, then they become bigint exactly, beyond 2^53', () => {
    expect(toIdr('9007199254740993')).to.equal(9007199254740993n);
    expect(toIdr(-5)).to.equal(-5n);
  });

  it('when an amount is fractional or not a number, then it is refused', () => {
    for (const bad of ['1.5', '1e3', 'abc', '']) expect(() => toIdr(bad)).to.throw(RangeError);
    expect(() => toIdr(0.1 + 0.2)).to.throw(RangeError);
  });

  it('when a rate is formatted, then it has 4 decimals without float error', () => {
    expect(formatRate('12.5')).to.equal('12.5000');
    expect(formatRate('0.1')).to.equal('0.1000');
    expect(formatRate(7)).to.equal('7.0000');
  });

  it('when an amount is multiplied by a ratio, then the result is floored to whole IDR', () => {
    expect(mulFloor(1_000_001n, new Dec('0.005'))).to.equal(5_000n);
    expect(mulFloor(10_000_000n, new Dec('12.5').div(100).mul(30).div(365))).to.equal(102_739n);
  });

  it('when a bigint goes to JSON, then safe ones are numbers and huge ones strings', () => {
    expect(idrToJson(5n)).to.equal(5);
    expect(idrToJson(2n ** 60n)).to.equal('1152921504606846976');
  });
});
