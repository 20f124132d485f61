import { QueryTypes, Transaction, UniqueConstraintError } from 'sequelize';
import type { Queue } from 'bullmq';
import type { KycPort } from '../../adapters/kyc';
import type { PiiCipher } from '../../lib/crypto';
import { withTransaction } from '../../lib/db';
import { AppError } from '../../lib/errors';
import { now, nowMs } from '../../lib/clock';
import { maskIdCard, maskName } from '../../lib/masking';
import { enqueueRecovery } from '../../queues/queues';
import { enqueueAfterCommit } from '../outbox/outbox.service';
import { User } from '../users/user.model';
import { KycVerification } from './kyc.model';
import { investorKycMachine, KycStatus, kycMachine } from './kyc.states';

/** The SPEC's KYC answer: manual approval counts as verified (seed 000 item 3). */
export const kycView = (status: KycStatus) => ({ verified: status === KycStatus.Verified, status });

/** GET /api/v1/me/kyc: the investor's KYC status. */
export async function myKyc(userId: string) {
  const user = await User.findByPk(userId);
  if (!user) throw new AppError('NOT_FOUND', 'no such investor');
  return kycView(user.kycStatus);
}

const lockUser = async (userId: string, transaction: Transaction) => {
  const user = await User.findByPk(userId, { transaction, lock: Transaction.LOCK.NO_KEY_UPDATE });
  if (!user) throw new AppError('NOT_FOUND', 'no such user');
  return user;
};

const nikUsed = () =>
  new AppError('NIK_ALREADY_USED', 'this ID card number is already used by another investor', [
    { path: 'idCardNo', message: 'already used by another investor' },
  ]);

/**
 * Records a KYC submission (NIK encrypted, keyed hash for uniqueness) and starts the provider
 * check through the outbox, all in one transaction. One NIK, one investor.
 */
export async function submitKyc(
  cipher: PiiCipher,
  userId: string,
  input: { realName: string; idCardNo: string },
): Promise<{ verified: boolean; status: KycStatus }> {
  const sequelize = User.sequelize!;
  try {
    return await withTransaction(sequelize, async (transaction) => {
      const user = await lockUser(userId, transaction);
      if (user.kycStatus === KycStatus.Verified) {
        throw new AppError('KYC_ALREADY_SUBMITTED', 'the identity is already verified');
      }
      if (!kycMachine.can(user.kycStatus, KycStatus.Pending)) {
        throw new AppError(
          'KYC_ALREADY_SUBMITTED',
          `a KYC submission is already ${user.kycStatus}`,
        );
      }
      const nikHash = cipher.lookupHash(input.idCardNo);
      const taken = await KycVerification.count({
        where: { nikHash, status: [KycStatus.Pending, KycStatus.ManualReview, KycStatus.Verified] },
        transaction,
      });
      if (taken > 0) throw nikUsed();
      const v = await KycVerification.create(
        {
          userId,
          realName: input.realName,
          nikEncrypted: cipher.encrypt(input.idCardNo),
          nikHash,
          nikLast4: input.idCardNo.slice(-4),
          status: KycStatus.Pending,
        },
        { transaction },
      );
      await investorKycMachine.transition(user, KycStatus.Pending, {}, { transaction });
      await enqueueAfterCommit('kyc.verify', { verificationId: String(v.id) }, { transaction });
      return kycView(KycStatus.Pending);
    });
  } catch (err) {
    if (err instanceof UniqueConstraintError) throw nikUsed();
    throw err;
  }
}

/** Moves a submission and its investor to `to` (users row locked first, then the submission). */
async function recordKycOutcome(
  verificationId: string,
  to: KycStatus.Verified | KycStatus.ManualReview | KycStatus.Rejected,
  expected: KycStatus,
  fields: Partial<Pick<KycVerification, 'verifiedBy' | 'reason' | 'reviewedBy' | 'reviewedAt'>>,
): Promise<KycVerification | undefined> {
  return withTransaction(User.sequelize!, async (transaction) => {
    const peek = await KycVerification.findByPk(verificationId, { transaction });
    if (!peek) throw new AppError('NOT_FOUND', 'no such KYC submission');
    const user = await lockUser(peek.userId, transaction);
    const v = (await KycVerification.findByPk(verificationId, {
      transaction,
      lock: Transaction.LOCK.NO_KEY_UPDATE,
    }))!;
    if (v.status !== expected) return undefined;
    await kycMachine.transition(v, to, fields, { transaction });
    await investorKycMachine.transition(user, to, {}, { transaction });
    return v;
  });
}

/**
 * The kyc.verify job: asks the provider (outside any transaction), then records the outcome if
 * the submission is still pending. Safe to run twice: a decided submission is left alone.
 */
export async function runKycCheck(
  deps: { cipher: PiiCipher; kyc: KycPort },
  verificationId: string,
): Promise<string> {
  const v = await KycVerification.findByPk(verificationId);
  if (!v || v.status !== KycStatus.Pending) return `already ${v?.status ?? 'gone'}`;
  const result = await deps.kyc.verify({
    realName: v.realName,
    nik: deps.cipher.decrypt(v.nikEncrypted),
    requestId: `kyc-${v.id}`,
  });
  const to = result.outcome === 'passed' ? KycStatus.Verified : KycStatus.ManualReview;
  await recordKycOutcome(verificationId, to, KycStatus.Pending, {
    verifiedBy: to === KycStatus.Verified ? 'provider' : null,
    reason: result.reason ?? null,
  });
  return to;
}

/**
 * Recovery: pending submissions whose check job was lost are checked again; those the provider
 * has not answered within `timeoutSeconds` (its retries spent, seed #4) go to manual review.
 */
export async function sweepKyc(
  queues: Map<string, Queue>,
  opts: { graceSeconds: number; timeoutSeconds: number },
): Promise<{ rechecked: number; toManualReview: number }> {
  const rows = await KycVerification.sequelize!.query<{ id: string; expired: boolean }>(
    `SELECT id, created_at < $2 AS expired FROM kyc_verifications
      WHERE status = 'pending' AND updated_at < $1
      ORDER BY id LIMIT 500`,
    {
      bind: [
        new Date(nowMs() - opts.graceSeconds * 1000),
        new Date(nowMs() - opts.timeoutSeconds * 1000),
      ],
      type: QueryTypes.SELECT,
    },
  );
  let toManualReview = 0;
  for (const r of rows.filter((x) => x.expired)) {
    const moved = await recordKycOutcome(String(r.id), KycStatus.ManualReview, KycStatus.Pending, {
      reason: 'the KYC provider did not answer: manual review',
    });
    if (moved) toManualReview += 1;
  }
  const rechecked = await enqueueRecovery(
    queues,
    'kyc.verify',
    'recover-kyc',
    rows
      .filter((x) => !x.expired)
      .map((r) => ({ key: String(r.id), payload: { verificationId: String(r.id) } })),
  );
  return { rechecked, toManualReview };
}

/** Admin decision on a submission in manual review. */
export async function reviewKyc(
  verificationId: string,
  decision: { approve: true; admin: string } | { approve: false; admin: string; reason: string },
): Promise<{ id: string; status: KycStatus }> {
  const to = decision.approve ? KycStatus.Verified : KycStatus.Rejected;
  const v = await recordKycOutcome(verificationId, to, KycStatus.ManualReview, {
    verifiedBy: decision.approve ? 'admin' : null,
    reason: decision.approve ? null : decision.reason,
    reviewedBy: decision.admin,
    reviewedAt: now(),
  });
  if (!v) {
    const current = await KycVerification.findByPk(verificationId);
    throw new AppError(
      'INVALID_STATE_TRANSITION',
      `the submission is ${current?.status}, not manual_review`,
    );
  }
  return { id: String(v.id), status: to };
}

/** A submission as admins and investors see it: name and NIK masked. */
export function kycSubmissionView(cipher: PiiCipher, v: KycVerification) {
  return {
    id: String(v.id),
    userId: String(v.userId),
    realName: maskName(v.realName),
    idCardNo: maskIdCard(cipher.decrypt(v.nikEncrypted)),
    status: v.status,
    verifiedBy: v.verifiedBy,
    reason: v.reason,
    reviewedBy: v.reviewedBy,
    reviewedAt: v.reviewedAt,
    createdAt: v.createdAt,
  };
}

/** The back office's KYC queue: submissions of one status, oldest first, name and NIK masked. */
export async function kycQueue(
  cipher: PiiCipher,
  q: { page: number; pageSize: number; status: KycStatus },
) {
  const { rows, count } = await KycVerification.findAndCountAll({
    where: { status: q.status },
    order: [['id', 'ASC']],
    limit: q.pageSize,
    offset: (q.page - 1) * q.pageSize,
  });
  return {
    items: rows.map((v) => kycSubmissionView(cipher, v)),
    page: q.page,
    pageSize: q.pageSize,
    total: count,
  };
}
