import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { FLOWS, REQUEST_EXAMPLES } from '../../src/modules/docs/flows';
import { clean, toOpenApiPath } from '../../src/modules/docs/openapi';
import { standInRouters } from '../../scripts/openapi-document';
import { contractViolation } from '../helpers/contract';

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

  it('when /docs shows the main flows, then every request example names an operation and passes its own validation', () => {
    const specs = new Map(
      standInRouters()
        .flatMap((r) => r.specs)
        .map((s) => [`${s.method.toUpperCase()} ${s.path}`, s]),
    );
    const doc = JSON.parse(fs.readFileSync(path.join(ROOT, 'docs/openapi.json'), 'utf8')) as {
      info: { description: string };
      paths: Record<
        string,
        Record<string, { requestBody?: { content: Record<string, { example?: unknown }> } }>
      >;
    };
    expect(doc.info.description).to.equal(FLOWS);
    expect(Object.keys(REQUEST_EXAMPLES).length).to.be.greaterThan(10);
    for (const [key, example] of Object.entries(REQUEST_EXAMPLES)) {
      const spec = specs.get(key);
      expect(spec?.request?.body, `${key}: no such operation with a body`).to.not.equal(undefined);
      const { error } = spec!.request!.body!.validate(example, { allowUnknown: false });
      expect(error?.message, `${key}: its example is refused`).to.equal(undefined);
      const [method, p] = key.split(' ');
      expect(
        doc.paths[toOpenApiPath(p)][method.toLowerCase()].requestBody!.content['application/json']
          .example,
        `${key}: the example is in the document`,
      ).to.deep.equal(example);
    }
    // Every flow step the description names is an operation of the document.
    for (const [, method, p] of FLOWS.matchAll(/`(GET|POST|PUT|DELETE) (\/[^`\s]+)`/g))
      expect(doc.paths[p]?.[method.toLowerCase()], `${method} ${p} in the flows`).to.not.equal(
        undefined,
      );
  });

  it('when a response is not what the document says, then the tests’ contract check names it', () => {
    const json = 'application/json; charset=utf-8';
    const order = {
      id: '1',
      creditorNo: 'CR1',
      amount: 100_000,
      payWith: 'card',
      source: 'manual',
      status: 'paid',
      failCode: null,
      failReason: null,
      createdAt: '2026-11-22T00:00:00.000Z',
      paidAt: null,
    };
    expect(contractViolation('GET', '/api/v1/orders/1', 200, json, order)).to.equal(undefined);
    expect(
      contractViolation('GET', '/api/v1/orders/1', 200, json, { ...order, extra: 1 }),
    ).to.match(/must NOT have additional properties/);
    const { source: _gone, ...withoutSource } = order;
    expect(contractViolation('GET', '/api/v1/orders/1', 200, json, withoutSource)).to.match(
      /must have required property 'source'/,
    );
    expect(
      contractViolation('GET', '/api/v1/orders/1', 200, json, { ...order, amount: 1.5 }),
    ).to.match(/amount/);
    expect(contractViolation('GET', '/api/v1/orders/1', 418, json, {})).to.match(
      /status not declared/,
    );
    expect(contractViolation('GET', '/api/v1/nowhere', 200, json, {})).to.match(
      /no such operation/,
    );
    expect(
      contractViolation('GET', '/api/v1/orders/1', 404, json, {
        error: { code: 'NOT_FOUND', message: 'no such order', details: [] },
      }),
    ).to.equal(undefined);
    expect(contractViolation('GET', '/api/v1/orders/1', 404, json, { message: 'x' })).to.match(
      /required property 'error'/,
    );
    expect(
      contractViolation('GET', '/api/v1/orders/1/agreement', 200, 'text/html', '<html>'),
    ).to.equal(undefined);
    expect(contractViolation('GET', '/api/v1/orders/1/agreement', 200, json, {})).to.match(
      /where text\/html is declared/,
    );
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
