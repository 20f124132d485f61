import {
  deliverNotification,
  sweepNotifications,
} from '../../src/modules/partner/notifications.service';
import type { Processor } from './types';

/** Delivers one partner notification (retried with backoff until the partner answers). */
export const partnerNotifyProcessor: Processor<'partner.notify'> = async (
  { notificationId },
  { rt },
) => deliverNotification(rt.ports.partner, notificationId);

/** Sweeper: notifications whose jobs gave up are enqueued again. */
export const partnerNotificationsSweepProcessor: Processor<'partner-notifications.sweep'> = async (
  _p,
  { rt },
) => ({
  enqueued: await sweepNotifications(rt.queues, rt.config.recoveryGraceSeconds),
});
