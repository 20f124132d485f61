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

  it('when a database data exception quoting the bad value is logged, then the value is not, and other errors keep their quoted names', () => {
    const { lines, logger } = capture();
    // What pg hands over for a value that does not fit its column (SQLSTATE class 22): the
    // message, and so the stack, quote the value; the context line may carry the bind value.
    const pgError = Object.assign(
      new Error('invalid input syntax for type bigint: "Siti Aminah 081234565678"'),
      { code: '22P02', where: "unnamed portal parameter $1 = 'Siti Aminah 081234565678'" },
    );
    logger.error({ err: new DatabaseError(pgError as never) }, 'insert failed');
    const unique = Object.assign(
      new Error('duplicate key value violates unique constraint "users_mobile_hash_key"'),
      { code: '23505' },
    );
    logger.error({ err: new DatabaseError(unique as never) }, 'insert failed');
    const out = lines.join('');
    expect(out).to.not.contain('Siti Aminah');
    expect(out).to.contain('invalid input syntax for type bigint');
    expect(out).to.contain('users_mobile_hash_key');
  });

  it('when values are masked, then they keep only the agreed characters', () => {
    expect(maskMobile('081234565678')).to.equal('0812****5678');
    expect(maskIdCard('3175066301950004')).to.equal('3175********0004');
    expect(maskCard('4556330000001234')).to.equal('****1234');
    expect(maskName('Rina Herlina')).to.equal('R*** H******');
  });
});
