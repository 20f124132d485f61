import { expect } from 'chai';
import sinon from 'sinon';
import { setClock } from '../../src/lib/clock';
import { withTransaction } from '../../src/lib/db';
import { enqueueAfterCommit, setOutboxKick } from '../../src/modules/outbox/outbox.service';
import { jobIds } from '../../src/queues/job-ids';
import { QueueName } from '../../src/queues/queues';
import { PROCESSORS } from '../../jobs/processors';
import { startWorkers } from '../../jobs/worker-factory';
import { testDb, testRuntime } from '../helpers/context';

const rt = testRuntime('outbox');
const queue = () => rt.queues.get(QueueName.Maintenance)!;

async function outboxRow(id: string) {
  const [rows] = (await testDb().query('SELECT dispatched_at, attempts FROM outbox WHERE id = $1', {
    bind: [id],
  })) as [{ dispatched_at: Date | null; attempts: number }[], unknown];
  return rows[0];
}

async function until(fn: () => Promise<boolean>, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Commits an outbox row for a job, with no fast path: as if the process died right after COMMIT. */
async function commitRow(runAt?: Date): Promise<string> {
  setOutboxKick(undefined);
  return withTransaction(testDb(), (transaction) =>
    enqueueAfterCommit('ledger.audit', {}, { transaction, runAt }),
  );
}

describe('transactional outbox and relay', () => {
  afterEach(async () => {
    sinon.restore();
    await rt.relay.drain();
    await queue().obliterate({ force: true });
  });

  it('when the writing transaction rolls back, then neither the row nor a job exists', async () => {
    let id = '';
    await withTransaction(testDb(), async (transaction) => {
      id = await enqueueAfterCommit('ledger.audit', {}, { transaction });
      throw new Error('rollback');
    }).catch(() => undefined);
    expect(await outboxRow(id)).to.equal(undefined);
    await rt.relay.drain();
    expect(await queue().getJob(jobIds.outbox(id))).to.equal(undefined);
  });

  it('when the process dies between COMMIT and enqueue, then the relay sweep enqueues the job once', async () => {
    const id = await commitRow();
    expect((await outboxRow(id)).dispatched_at).to.equal(null);
    expect(await queue().getJob(jobIds.outbox(id))).to.equal(undefined);
    await rt.relay.drain();
    expect(await queue().getJob(jobIds.outbox(id))).to.not.equal(undefined);
    expect((await outboxRow(id)).dispatched_at).to.be.instanceOf(Date);
  });

  it('when the relay dies between enqueue and marking the row, then the next pass leaves exactly one job', async () => {
    const id = await commitRow();
    const mark = sinon.stub(rt.relay, 'markDispatched').rejects(new Error('crash before mark'));
    let crashed = false;
    await rt.relay.relayPending().catch(() => (crashed = true));
    expect(crashed).to.equal(true);
    expect((await outboxRow(id)).dispatched_at).to.equal(null);
    expect(await queue().getJob(jobIds.outbox(id))).to.not.equal(undefined);
    mark.restore();
    await rt.relay.drain();
    expect((await outboxRow(id)).dispatched_at).to.be.instanceOf(Date);
    const jobs = await queue().getJobs([
      'waiting',
      'delayed',
      'active',
      'completed',
      'failed',
      'prioritized',
    ]);
    expect(jobs.filter((j) => j.id === jobIds.outbox(id))).to.have.length(1);
  });

  it('when a relayed job has already run and the relay repeats, then the work runs once', async () => {
    let runs = 0;
    const pool = startWorkers(rt, {
      ...PROCESSORS,
      'ledger.audit': async () => {
        runs += 1;
      },
    });
    try {
      const id = await commitRow();
      const mark = sinon.stub(rt.relay, 'markDispatched').rejects(new Error('crash before mark'));
      await rt.relay.relayPending().catch(() => undefined);
      await until(async () => (await queue().getJob(jobIds.outbox(id)))?.finishedOn !== undefined);
      mark.restore();
      await rt.relay.drain();
      await new Promise((r) => setTimeout(r, 300));
      expect(runs).to.equal(1);
    } finally {
      await pool.close();
    }
  });

  it('when the writer has a fast path registered, then the job is enqueued right after COMMIT without a sweep', async () => {
    setOutboxKick(rt.relay.kick);
    const id = await withTransaction(testDb(), (transaction) =>
      enqueueAfterCommit('ledger.audit', {}, { transaction }),
    );
    await until(async () => (await queue().getJob(jobIds.outbox(id))) !== undefined, 2_000);
    await until(async () => (await outboxRow(id)).dispatched_at !== null, 2_000);
  });

  it('when a row has runAt in the future, then its job is delayed until then', async () => {
    const id = await commitRow(new Date(Date.now() + 60_000));
    await rt.relay.drain();
    const job = await queue().getJob(jobIds.outbox(id));
    expect(await job!.getState()).to.equal('delayed');
    expect(job!.opts.delay).to.be.within(55_000, 60_000);
  });

  it('when relayed rows are older than a week, then the prune deletes them and keeps the rest', async () => {
    // Relayed eight days ago (on the clock), then one relayed now; the prune runs now.
    setClock({ offsetMs: -8 * 86_400_000 });
    let old: string;
    try {
      old = await commitRow();
      await rt.relay.drain();
    } finally {
      setClock();
    }
    const recent = await commitRow();
    await rt.relay.drain();
    expect(await rt.relay.prune()).to.be.greaterThan(0);
    expect(await outboxRow(old)).to.equal(undefined);
    expect(await outboxRow(recent)).to.not.equal(undefined);
  });

  it('when the payload does not match the job schema, then nothing is written', async () => {
    const rows = async () =>
      Number(
        (
          (await testDb().query(
            `SELECT count(*)::int AS n FROM outbox WHERE job_name = 'ledger.audit' AND payload ? 'secret'`,
          )) as [{ n: number }[], unknown]
        )[0][0].n,
      );
    const before = await rows();
    let rejected = false;
    await withTransaction(testDb(), (transaction) =>
      enqueueAfterCommit('ledger.audit', { secret: 'x' } as never, { transaction }),
    ).catch(() => (rejected = true));
    expect(rejected).to.equal(true);
    expect(await rows()).to.equal(before);
    // The count can see such a row (a row written without the check, rolled back after).
    const t = await testDb().transaction();
    try {
      await testDb().query(
        `INSERT INTO outbox (queue, job_name, payload) VALUES ('maintenance', 'ledger.audit', '{"secret":"x"}')`,
        { transaction: t },
      );
      const [[seen]] = (await testDb().query(
        `SELECT count(*)::int AS n FROM outbox WHERE job_name = 'ledger.audit' AND payload ? 'secret'`,
        { transaction: t },
      )) as [{ n: number }[], unknown];
      expect(Number(seen.n)).to.equal(before + 1);
    } finally {
      await t.rollback();
    }
  });
});
