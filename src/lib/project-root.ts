import fs from 'node:fs';
import path from 'node:path';

/**
 * The project's root (the directory holding package.json), the same whether this file runs
 * from the TypeScript sources (tsx) or compiled under `dist/`.
 */
export const PROJECT_ROOT = findRoot(__dirname);

function findRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}
