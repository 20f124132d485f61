import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';

const MODULES = path.resolve(__dirname, '..', '..', 'src', 'modules');
const areas = fs
  .readdirSync(MODULES, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name);
const routeFiles = (area: string) =>
  fs.readdirSync(path.join(MODULES, area)).filter((f) => f.endsWith('.routes.ts'));

describe('the layout of src/modules', () => {
  it('when an area has routes, then it has its <area>.schemas.ts', () => {
    const withRoutes = areas.filter((a) => routeFiles(a).length > 0);
    expect(withRoutes.length).to.be.greaterThan(10);
    expect(
      withRoutes.filter((a) => !fs.existsSync(path.join(MODULES, a, `${a}.schemas.ts`))),
    ).to.deep.equal([]);
  });

  it('when a route file is read, then it declares no joi schema and touches no model', () => {
    const fat: string[] = [];
    for (const area of areas)
      for (const file of routeFiles(area)) {
        const text = fs.readFileSync(path.join(MODULES, area, file), 'utf8');
        if (/\bJoi\./.test(text)) fat.push(`${area}/${file}: joi schema`);
        if (/from '[^']*\.model'/.test(text)) fat.push(`${area}/${file}: model import`);
      }
    expect(fat).to.deep.equal([]);
  });
});
