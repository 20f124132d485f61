import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { envSchema } from '../../config';

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
