import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { envSchema } from '../../config';
import { generatedDocs } from '../../scripts/gen-docs';

const ROOT = path.resolve(__dirname, '..', '..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');
const exists = (file: string) => fs.existsSync(path.join(ROOT, file));

/** Every markdown file of the README and docs/, relative to the root. */
function markdownFiles(): string[] {
  const walk = (dir: string): string[] =>
    fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
      const rel = path.join(dir, e.name);
      if (e.isDirectory()) return walk(rel);
      return e.name.endsWith('.md') ? [rel] : [];
    });
  return ['README.md', ...walk('docs')];
}

/** GitHub's anchor for a heading. */
const slug = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');

describe('docs/', () => {
  it('when the jobs, error codes, configuration or routes change, then the generated files are not stale', async () => {
    const pages = await generatedDocs();
    expect(Object.keys(pages)).to.have.members([
      'docs/jobs.md',
      'docs/errors.md',
      'docs/configuration.md',
      'docs/openapi.json',
      'test/client/schema.ts',
    ]);
    for (const [file, text] of Object.entries(pages))
      expect(read(file), `${file} is stale: run npm run docs`).to.equal(text);
  });

  it('when a variable is validated, then it has a description and .env.example lists it', () => {
    const keys = envSchema.describe().keys as Record<string, { flags?: { description?: string } }>;
    const example = read('.env.example');
    expect(Object.keys(keys).length).to.be.greaterThan(30);
    expect(
      Object.entries(keys)
        .filter(([, d]) => !d.flags?.description)
        .map(([k]) => k),
      'undescribed',
    ).to.deep.equal([]);
    expect(
      Object.keys(keys).filter((v) => !new RegExp(`^${v}=`, 'm').test(example)),
      '.env.example',
    ).to.deep.equal([]);
  });

  it('when a page links to a file or a heading, then the target exists', () => {
    const broken: string[] = [];
    let checked = 0;
    for (const file of markdownFiles()) {
      const text = read(file).replace(/```[\s\S]*?```/g, '');
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target)) continue;
        checked += 1;
        const [rel, anchor] = target.split('#');
        const to = rel ? path.join(path.dirname(file), rel) : file;
        if (!exists(to)) {
          broken.push(`${file} → ${target}`);
          continue;
        }
        if (anchor && to.endsWith('.md')) {
          const headings = [...read(to).matchAll(/^#+ (.+)$/gm)].map(([, h]) => slug(h));
          if (!headings.includes(anchor)) broken.push(`${file} → ${target} (no such heading)`);
        }
      }
    }
    expect(checked).to.be.greaterThan(30);
    expect(broken).to.deep.equal([]);
  });

  it('when every decision has a record, then the index lists each and each has its three parts', () => {
    const dir = 'docs/decisions';
    const records = fs.readdirSync(path.join(ROOT, dir)).filter((f) => /^\d{4}-.+\.md$/.test(f));
    const index = read(`${dir}/README.md`);
    expect(records.length).to.be.greaterThan(20);
    for (const r of records) {
      expect(index, r).to.include(`(${r})`);
      expect(read(`${dir}/${r}`), r).to.match(/## Context[\s\S]+## Decision[\s\S]+## Consequences/);
    }
  });
});

describe('README', () => {
  const readme = read('README.md');

  it('when a newcomer opens it, then it is short and starts with the two commands', () => {
    expect(readme.split('\n').length).to.be.at.most(150);
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    expect(firstBlock.split('\n')[0]).to.match(/^npm start\b/);
    expect(firstBlock.split('\n')[1]).to.match(/^npm test\b/);
  });

  it('when the folder map names a path, then it exists, and it names every area and top-level folder', () => {
    const map = readme.slice(readme.indexOf('## Where things are'), readme.indexOf('## Follow'));
    const named: string[] = [];
    for (const [, cell] of map.matchAll(/^\| ([^|]*`[^|]*) \|/gm)) {
      const parts = [...cell.matchAll(/`([^`]+)`/g)].map(([, p]) => p.replace(/\/$/, ''));
      const base = path.dirname(parts[0]);
      named.push(parts[0], ...parts.slice(1).map((p) => (p.includes('/') ? p : `${base}/${p}`)));
    }
    expect(
      named.filter((p) => !exists(p)),
      'paths in the map that do not exist',
    ).to.deep.equal([]);
    const areas = fs
      .readdirSync(path.join(ROOT, 'src/modules'), { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => `src/modules/${e.name}`);
    const top = ['src', 'jobs', 'config', 'migrations', 'scripts', 'test', 'docs'];
    expect(
      areas.filter((a) => !named.includes(a)),
      'areas missing from the map',
    ).to.deep.equal([]);
    expect(
      top.filter((t) => !named.some((n) => n === t || n.startsWith(`${t}/`))),
      'folders missing from the map',
    ).to.deep.equal([]);
  });

  it('when "follow one purchase" names a file, then the file exists', () => {
    const follow = readme.slice(readme.indexOf('## Follow one purchase'));
    const files = [...follow.matchAll(/`([\w./-]+\.ts)`/g)].map(([, f]) => f);
    expect(files.length).to.be.greaterThan(5);
    const found = (f: string) =>
      exists(f) || exists(`src/modules/${f}`) || exists(`src/modules/orders/${f}`);
    expect(files.filter((f) => !found(f))).to.deep.equal([]);
  });
});
