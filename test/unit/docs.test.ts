import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { envSchema } from '../../config';
import { ERROR_CODES } from '../../src/lib/errors';
import { JOBS } from '../../src/queues/queues';

const ROOT = path.resolve(__dirname, '..', '..');
const variables = Object.keys(envSchema.describe().keys ?? {});

describe('configuration is documented', () => {
  it('when a variable is validated, then .env.example and the README both document it', () => {
    const example = fs.readFileSync(path.join(ROOT, '.env.example'), 'utf8');
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    expect(variables.length).to.be.greaterThan(30);
    expect(
      variables.filter((v) => !new RegExp(`^${v}=`, 'm').test(example)),
      '.env.example',
    ).to.deep.equal([]);
    expect(
      variables.filter((v) => !readme.includes(`\`${v}\``)),
      'README',
    ).to.deep.equal([]);
  });
});

describe('the README lists every job and every error code', () => {
  it('when a job or an error code exists, then the README names it', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    expect(
      Object.keys(JOBS).filter((j) => !readme.includes(`\`${j}\``)),
      'jobs',
    ).to.deep.equal([]);
    expect(
      Object.keys(ERROR_CODES).filter((c) => !readme.includes(`\`${c}\``)),
      'error codes',
    ).to.deep.equal([]);
  });
});
