import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** The repository root (where the Procfile and dist/ live). */
export const ROOT = path.resolve(__dirname, '..', '..');
const SOURCES = ['src', 'jobs', 'config', 'migrations', 'scripts'];

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * Builds dist/ (`bash scripts/build.sh`) when it is missing or older than a source: `npm test`
 * builds before mocha, a file that runs compiled processes builds by itself when run alone.
 */
export function ensureBuilt(): void {
  const stamp = path.join(ROOT, 'dist', 'src', 'server.js');
  const sources = Math.max(
    ...SOURCES.map((d) => newestSource(path.join(ROOT, d))),
    ...['tsconfig.json', 'tsconfig.build.json'].map((f) => fs.statSync(path.join(ROOT, f)).mtimeMs),
  );
  if (fs.existsSync(stamp) && fs.statSync(stamp).mtimeMs >= sources) return;
  const res = spawnSync('bash', ['scripts/build.sh'], { cwd: ROOT, encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`scripts/build.sh failed:\n${res.stdout}\n${res.stderr}`);
}

/**
 * The Procfile's process types and their commands, split into argv (`node` is this very node
 * binary, so that children run on the same version as the test).
 */
export function readProcfile(): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const line of fs.readFileSync(path.join(ROOT, 'Procfile'), 'utf8').split('\n')) {
    const m = /^([a-z][a-z0-9_-]*):\s*(.+)$/i.exec(line.trim());
    if (!m) continue;
    const argv = m[2].trim().split(/\s+/);
    out[m[1]] = argv[0] === 'node' ? [process.execPath, ...argv.slice(1)] : argv;
  }
  return out;
}

/** Runs a Procfile command to its end (e.g. `release`); throws with its output on failure. */
export function runToEnd(argv: string[], env: NodeJS.ProcessEnv, what: string): string {
  const res = spawnSync(argv[0], argv.slice(1), { cwd: ROOT, env, encoding: 'utf8' });
  if (res.status !== 0)
    throw new Error(
      `${what} (${argv.join(' ')}) exited ${res.status}:\n${res.stdout}\n${res.stderr}`,
    );
  return res.stdout;
}

/** A long-running child started from a Procfile command, with the tail of its output. */
export interface RunningProcess {
  name: string;
  child: ChildProcess;
  /** The last ~64 KB of its stdout and stderr. */
  output(): string;
  /** Its JSON log lines at `level` or above (pino levels: 40 warn, 50 error, 60 fatal). */
  logLines(minLevel: number): Record<string, unknown>[];
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with its exit code once it has exited. */
  stop(graceMs?: number): Promise<number | null>;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Starts a Procfile command as a child process; it is killed with the test process at worst. */
export function startProcess(name: string, argv: string[], env: NodeJS.ProcessEnv): RunningProcess {
  if (!exitHookInstalled) {
    // A mocha run that dies (or is interrupted) must not leave servers behind.
    process.once('exit', () => {
      for (const c of running) c.kill('SIGKILL');
    });
    exitHookInstalled = true;
  }
  const child = spawn(argv[0], argv.slice(1), {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let out = '';
  const keep = (d: Buffer) => {
    out += String(d);
    if (out.length > 128_000) out = out.slice(-64_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  return {
    name,
    child,
    output: () => out,
    logLines: (minLevel) =>
      out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => {
          try {
            return JSON.parse(l) as Record<string, unknown>;
          } catch {
            return { level: 0 };
          }
        })
        .filter((l) => Number(l.level) >= minLevel),
    exited,
    async stop(graceMs = 10_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      return exited;
    },
  };
}
