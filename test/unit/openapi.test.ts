import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { expect } from 'chai';
import { clean } from '../../src/modules/docs/openapi';

const ROOT = path.resolve(__dirname, '..', '..');

describe('the OpenAPI document (docs/openapi.json)', function () {
  this.timeout(60_000);

  it('when redocly lints it with the recommended ruleset, then there is no error and no warning', () => {
    const run = spawnSync('npx', ['redocly', 'lint', 'docs/openapi.json', '--format=json'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    const report = JSON.parse(run.stdout) as {
      totals: { errors: number; warnings: number; ignored: number };
      problems: { ruleId: string; message: string; location: { pointer: string }[] }[];
    };
    expect(
      report.problems.map((p) => `${p.ruleId} ${p.location[0]?.pointer}: ${p.message}`),
    ).to.deep.equal([]);
    expect(report.totals).to.include({ errors: 0, warnings: 0 });
    expect(run.status).to.equal(0);
  });

  it('when joi-to-json leaks a reference bound, a regex flag or a boolean branch, then the schema is set right', () => {
    expect(
      clean({
        type: 'object',
        properties: {
          fee: { type: 'integer', maximum: { $ref: 'x' }, exclusiveMaximum: { $ref: 'x' } },
          name: { type: 'string', pattern: '^[\\p{L}]+$/u' },
          a: { type: 'string' },
        },
        if: { required: ['a'] },
        then: false,
        else: { oneOf: [{ required: ['a'] }] },
      }),
    ).to.deep.equal({
      type: 'object',
      properties: {
        fee: { type: 'integer' },
        name: { type: 'string', pattern: '^[\\p{L}]+$' },
        a: { type: 'string' },
      },
      if: { required: ['a'], properties: { a: { type: 'string' } } },
      then: { not: {} },
      else: { oneOf: [{ required: ['a'], properties: { a: { type: 'string' } } }] },
    });
  });
});
