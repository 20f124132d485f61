import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { freePort } from '../helpers/context';
import { ensureBuilt } from '../helpers/procfile';

const ROOT = path.resolve(__dirname, '..', '..');
interface LogLine {
  pid: number;
  msg: string;
  [key: string]: unknown;
}

/** A compiled entry point run with plain node, as the Procfile runs it; its JSON log lines. */
function runDist(entry: string, env: Record<string, string>) {
  const child: ChildProcess = spawn(process.execPath, [path.join('dist', entry)], {
    cwd: ROOT,
    env: { ...process.env, ...env, LOG_LEVEL: 'info', LOG_FORMAT: 'json' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += String(d)));
  child.stderr!.on('data', (d) => (out += String(d)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const lines = (): LogLine[] =>
    out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as LogLine);
  /** Pids of the processes that logged `msg`. */
  const pidsSaying = (msg: RegExp) => [
    ...new Set(
      lines()
        .filter((l) => msg.test(l.msg))
        .map((l) => l.pid),
    ),
  ];
  return {
    child,
    exited,
    pidsSaying,
    async until(what: string, ok: () => boolean, ms = 20_000): Promise<void> {
      const end = Date.now() + ms;
      while (!ok()) {
        if (Date.now() > end || child.exitCode !== null) {
          child.kill('SIGKILL');
          throw new Error(`${entry}: ${what} did not happen:\n${out.slice(-3000)}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    /** SIGTERM to the primary: its exit code and the time it took. */
    async stop(): Promise<{ code: number | null; ms: number }> {
      const started = Date.now();
      child.kill('SIGTERM');
      const code = await Promise.race([
        exited,
        new Promise<never>((_, reject) =>
          setTimeout(() => {
            child.kill('SIGKILL');
            reject(new Error(`${entry} did not stop in 10 s:\n${out.slice(-3000)}`));
          }, 10_000),
        ),
      ]);
      return { code, ms: Date.now() - started };
    },
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('the compiled build (dist/, plain node)', function () {
  this.timeout(60_000);
  const prefix = `t-build-${process.pid}`;

  before(function () {
    this.timeout(180_000);
    ensureBuilt();
  });

  it('when set-up and migrate run from dist, then they see the migrations set-up applied from the sources, and apply nothing again', () => {
    const env = { ...process.env, LOG_LEVEL: 'info', LOG_FORMAT: 'json' };
    const status = spawnSync(process.execPath, ['dist/scripts/migrate.js', 'status'], {
      cwd: ROOT,
      env,
      encoding: 'utf8',
    });
    expect(status.status, status.stderr).to.equal(0);
    const sources = fs
      .readdirSync(path.join(ROOT, 'migrations'))
      .filter((f) => f.endsWith('.ts'))
      .sort();
    expect(status.stdout.trim().split('\n')).to.deep.equal(sources.map((f) => `applied  ${f}`));
    const setup = spawnSync(process.execPath, ['dist/scripts/setup.js', '--seed'], {
      cwd: ROOT,
      env,
      encoding: 'utf8',
    });
    expect(setup.status, setup.stderr).to.equal(0);
    expect(setup.stdout).to.contain('migrations: 0 applied').and.contain('demo data seeded');
  });

  it('when the web runs with WEB_CONCURRENCY=2, then two children share the port and answer /healthz, and SIGTERM stops them all with exit code 0', async () => {
    const port = await freePort();
    const web = runDist('src/server.js', {
      WEB_CONCURRENCY: '2',
      PORT: String(port),
      QUEUE_PREFIX: `${prefix}-web`,
    });
    await web.until(
      'two web children listening',
      () => web.pidsSaying(/web listening/).length === 2,
    );
    const children = web.pidsSaying(/web listening/);
    expect(children).to.not.include(web.child.pid);
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`, {
        headers: { Connection: 'close' },
      });
      expect(res.status).to.equal(200);
      expect(await res.json()).to.deep.equal({ status: 'ok' });
    }
    const { code, ms } = await web.stop();
    expect(code).to.equal(0);
    expect(ms).to.be.below(5_000);
    expect(web.pidsSaying(/stopped cleanly/).sort()).to.deep.equal(
      [...children, web.child.pid!].sort(),
    );
    expect(children.filter(alive)).to.deep.equal([]);
  });

  it('when the worker runs with WORKER_PROCESSES=2 and a child dies, then it is started again, and SIGTERM stops them all with exit code 0', async () => {
    const worker = runDist('jobs/worker.js', {
      WORKER_PROCESSES: '2',
      QUEUE_PREFIX: `${prefix}-worker`,
    });
    const started = () => worker.pidsSaying(/worker started/);
    await worker.until('two worker children started', () => started().length === 2);
    const [killed, survivor] = started();
    process.kill(killed, 'SIGKILL');
    await worker.until('the killed child replaced', () => started().length === 3);
    const replacement = started()[2];
    expect(worker.pidsSaying(/process died; restarting/)).to.deep.equal([worker.child.pid]);
    const { code, ms } = await worker.stop();
    expect(code).to.equal(0);
    expect(ms).to.be.below(5_000);
    expect(worker.pidsSaying(/stopped cleanly/).sort()).to.deep.equal(
      [survivor, replacement, worker.child.pid!].sort(),
    );
    expect([survivor, replacement].filter(alive)).to.deep.equal([]);
  });
});
