import { Writable } from 'node:stream';
import { expect } from 'chai';
import { DatabaseError, UniqueConstraintError, ValidationErrorItem } from 'sequelize';
import { createLogger } from '../../src/lib/logger';
import { maskCard, maskIdCard, maskMobile, maskName } from '../../src/lib/masking';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { lines, logger: createLogger({ name: 'test', level: 'info' }, stream) };
}

describe('logging and masking', () => {
  it('when PII and secrets are logged, then only masked or redacted forms reach the output', () => {
    const { lines, logger } = capture();
    logger.info(
      {
        password: 'hunter2-secret',
        headers: { authorization: 'Bearer abcdef0123456789' },
        user: { idCardNo: '3175066301950004', mobile: '081234565678', cardNo: '4556330000001234' },
        body: { bankCardNo: '5241690000009999' },
      },
      'card 4556330000001234 for NIK 3175066301950004',
    );
    const out = lines.join('');
    for (const secret of [
      'hunter2-secret',
      'abcdef0123456789',
      '3175066301950004',
      '081234565678',
      '4556330000001234',
      '5241690000009999',
    ]) {
      expect(out).to.not.contain(secret);
    }
    expect(out).to.contain('3175********0004');
    expect(out).to.contain('0812****5678');
    expect(out).to.contain('****1234');
  });

  it('when a database error is logged, then its bind values are not', () => {
    const { lines, logger } = capture();
    const err = Object.assign(new Error('duplicate key'), {
      sql: 'INSERT INTO users (mobile) VALUES ($1)',
      parameters: ['081234565678'],
    });
    logger.error({ err }, 'insert failed');
    const out = lines.join('');
    expect(out).to.contain('duplicate key');
    expect(out).to.not.contain('081234565678');
  });

  it('when a Sequelize error is logged, then the row it quotes, its fields and item values are not', () => {
    const { lines, logger } = capture();
    // What pg and Sequelize hand over for a violated constraint: the server's detail quotes the
    // failing row, the unique error lists the offending fields and each item's value.
    const pgError = Object.assign(new Error('new row violates check constraint "kyc_name"'), {
      detail: 'Failing row contains (17, Siti Aminah Rahayu, pending).',
      sql: "INSERT INTO kyc (real_name) VALUES ('Siti Aminah Rahayu')",
    });
    const err = new UniqueConstraintError({
      parent: pgError,
      fields: { realName: 'Siti Aminah Rahayu' },
      errors: [
        new ValidationErrorItem(
          'realName must be unique',
          'unique violation',
          'realName',
          'Siti Aminah Rahayu',
          undefined as never,
          'not_unique',
          'unique',
          [],
        ),
      ],
    });
    logger.error({ err }, 'insert failed');
    logger.warn({ job: 'x', err: new DatabaseError(pgError as never) }, 'job failed');
    const out = lines.join('');
    expect(out).to.contain('insert failed');
    expect(out).to.contain('job failed');
    expect(out).to.not.contain('Siti Aminah');
  });

  it('when values are masked, then they keep only the agreed characters', () => {
    expect(maskMobile('081234565678')).to.equal('0812****5678');
    expect(maskIdCard('3175066301950004')).to.equal('3175********0004');
    expect(maskCard('4556330000001234')).to.equal('****1234');
    expect(maskName('Rina Herlina')).to.equal('R*** H******');
  });
});
