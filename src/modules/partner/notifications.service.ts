import { QueryTypes } from 'sequelize';
import { jobIds } from '../../queues/job-ids';
import type { Queue } from 'bullmq';
import type { PartnerPort } from '../../adapters/partner';
import { now, nowMs } from '../../lib/clock';
import type { TxOptions } from '../../lib/db';
import { enqueueDirect } from '../../queues/queues';
import { enqueueAfterCommit } from '../outbox/outbox.service';
import { PartnerNotification, type PartnerEvent } from './notification.model';

/**
 * Records a partner notification in the caller's transaction (once per dedupe key) and hands it
 * to the partner.notify job through the outbox: the partner hears of a change if and only if it
 * committed, and hears of it again until it answers.
 */
export async function notifyPartner(
  n: { event: PartnerEvent; creditorNo: string; dedupeKey: string; data: Record<string, unknown> },
  { transaction }: TxOptions,
): Promise<void> {
  const rows = await PartnerNotification.sequelize!.query<{ id: string }>(
    `INSERT INTO partner_notifications (event, creditor_no, dedupe_key, payload, status, created_at, updated_at)
     VALUES ($1, $2, $3, $4::jsonb, 'pending', $5, $5) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`,
    {
      bind: [n.event, n.creditorNo, n.dedupeKey, JSON.stringify(n.data), now()],
      type: QueryTypes.SELECT,
      transaction,
    },
  );
  if (rows.length)
    await enqueueAfterCommit(
      'partner.notify',
      { notificationId: String(rows[0].id) },
      { transaction },
    );
}

/** The partner.notify job: delivers one notification; failures are retried with backoff. */
export async function deliverNotification(
  partner: PartnerPort,
  notificationId: string,
): Promise<string> {
  const n = await PartnerNotification.findByPk(notificationId);
  if (!n || n.status === 'delivered') return 'already delivered';
  await PartnerNotification.increment('attempts', { where: { id: n.id } });
  try {
    await partner.notify({
      notificationId: String(n.id),
      event: n.event,
      creditorNo: n.creditorNo,
      data: n.payload,
    });
  } catch (err) {
    await n.update({ lastError: String((err as Error).message).slice(0, 500) });
    throw err;
  }
  await PartnerNotification.update(
    { status: 'delivered', deliveredAt: now(), lastError: null },
    { where: { id: n.id, status: 'pending' } },
  );
  return 'delivered';
}

/**
 * Sweeper: re-enqueues notifications still pending and untouched for `graceSeconds` (their
 * jobs gave up, or were lost with Redis). The partner de-duplicates by notificationId.
 */
export async function sweepNotifications(
  queues: Map<string, Queue>,
  graceSeconds = 600,
): Promise<number> {
  const rows = await PartnerNotification.sequelize!.query<{ id: string; attempts: number }>(
    `SELECT id, attempts FROM partner_notifications
      WHERE status = 'pending' AND updated_at < $1 ORDER BY id LIMIT 500`,
    { bind: [new Date(nowMs() - graceSeconds * 1000)], type: QueryTypes.SELECT },
  );
  for (const r of rows) {
    await enqueueDirect(
      queues,
      'partner.notify',
      { notificationId: String(r.id) },
      { jobId: jobIds.partnerNotify(r.id, r.attempts) },
    );
  }
  return rows.length;
}
