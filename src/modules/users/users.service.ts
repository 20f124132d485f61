import { Op, QueryTypes, type WhereOptions } from 'sequelize';
import { StartRefused } from '../../lib/cluster';
import type { PiiCipher } from '../../lib/crypto';
import { AppError } from '../../lib/errors';
import { maskIdCard, maskMobile, maskName } from '../../lib/masking';
import { activeCard } from '../banks/bank-card.service';
import { KycVerification } from '../kyc/kyc.model';
import { KycStatus } from '../kyc/kyc.states';
import { mobileLookup, User, UserRole } from './user.model';

/** GET /api/v1/me (seed 000 item 5): profile, KYC and card, every PII field masked. */
export async function profile(cipher: PiiCipher, userId: string) {
  const user = await User.findByPk(userId);
  if (!user) throw new AppError('NOT_FOUND', 'no such user');
  const kyc = await KycVerification.findOne({ where: { userId }, order: [['id', 'DESC']] });
  return {
    id: String(user.id),
    mobile: maskMobile(user.mobile ?? ''),
    kyc: {
      verified: user.kycStatus === KycStatus.Verified,
      status: user.kycStatus,
      realName: kyc ? maskName(kyc.realName) : null,
      idCardNo: kyc ? maskIdCard(cipher.decrypt(kyc.nikEncrypted)) : null,
      reason: kyc?.status === KycStatus.Rejected ? kyc.reason : null,
    },
    bankCard: await activeCard(userId),
    createdAt: user.createdAt,
  };
}

/** Admin: investors, paged, filtered by mobile, KYC status and sign-up dates. */
export async function listInvestors(q: {
  page: number;
  pageSize: number;
  mobile?: string;
  kycStatus?: KycStatus;
  registeredFrom?: Date;
  registeredTo?: Date;
}) {
  const where: WhereOptions = { role: UserRole.Investor };
  if (q.mobile) Object.assign(where, { mobileHash: mobileLookup(q.mobile) });
  if (q.kycStatus) Object.assign(where, { kycStatus: q.kycStatus });
  if (q.registeredFrom || q.registeredTo) {
    Object.assign(where, {
      createdAt: {
        ...(q.registeredFrom ? { [Op.gte]: q.registeredFrom } : {}),
        ...(q.registeredTo ? { [Op.lt]: q.registeredTo } : {}),
      },
    });
  }
  const { rows, count } = await User.findAndCountAll({
    where,
    order: [['id', 'DESC']],
    limit: q.pageSize,
    offset: (q.page - 1) * q.pageSize,
  });
  const ids = rows.map((u) => String(u.id));
  const withCards = ids.length
    ? new Set(
        (
          await User.sequelize!.query<{ user_id: string }>(
            `SELECT user_id FROM bank_cards WHERE status = 'active' AND user_id = ANY($1::bigint[])`,
            {
              bind: [ids],
              type: QueryTypes.SELECT,
            },
          )
        ).map((r) => String(r.user_id)),
      )
    : new Set<string>();
  return {
    items: rows.map((u) => ({
      id: String(u.id),
      mobile: maskMobile(u.mobile ?? ''),
      kycStatus: u.kycStatus,
      bankCardBound: withCards.has(String(u.id)),
      lastLoginAt: u.lastLoginAt,
      createdAt: u.createdAt,
    })),
    page: q.page,
    pageSize: q.pageSize,
    total: count,
  };
}

/**
 * Refuses to run against a database whose SUPER_INVESTOR_USER_ID is not the super investor
 * (e.g. an investor who signed up before the set-up ran and so took that id): settlement would
 * otherwise buy the rest of every loan for that investor. Called by the web and worker entries.
 */
export async function assertSuperInvestor(config: { superInvestorUserId: number }): Promise<void> {
  const id = config.superInvestorUserId;
  const user = await User.findByPk(id, { attributes: ['id', 'role'] });
  if (user?.role !== UserRole.SuperInvestor)
    throw new StartRefused(
      `SUPER_INVESTOR_USER_ID=${id} is ${user ? `a user with the role ${user.role}` : 'no user'}, not the super investor: run the set-up (npm run setup -- --seed) on this database, or point SUPER_INVESTOR_USER_ID at the super investor`,
    );
}

/** How the back office records an admin who acted: the username, else `admin:<id>`. */
export const adminName = async (adminId: string): Promise<string> =>
  (await User.findByPk(adminId))?.username ?? `admin:${adminId}`;
