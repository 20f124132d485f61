import Joi from 'joi';
import { ApiRouter, type RouteGuards } from '../../http/api-router';
import { pagingQuery } from '../../http/validate';
import { mobileSchema } from '../../lib/identity';
import type { Runtime } from '../../runtime';
import { KycVerification } from '../kyc/kyc.model';
import { kycSubmissionView, reviewKyc } from '../kyc/kyc.service';
import { KycStatus } from '../kyc/kyc.states';
import { User } from '../users/user.model';
import { listInvestors } from '../users/users.service';
import { reconciliationSummary } from '../reconciliation/reconciliation.service';

const idParams = Joi.object({
  id: Joi.string()
    .pattern(/^\d{1,18}$/)
    .required(),
});

/** Admin back office (seed 000 后台接口): investors, KYC review queue. */
export function adminRoutes(
  deps: Pick<Runtime, 'cipher' | 'sequelize'>,
  guards: RouteGuards,
): ApiRouter {
  const adminName = async (userId: string) =>
    (await User.findByPk(userId))?.username ?? `admin:${userId}`;
  return new ApiRouter(guards)
    .route(
      {
        method: 'get',
        path: '/admin/v1/reconciliation',
        summary:
          'Reconciliation summary: platform account totals, instructions by state, what waits for finance',
        tags: ['admin'],
        auth: 'admin',
        responses: { 200: { description: 'summary' } },
      },
      async (ctx) => {
        ctx.body = await reconciliationSummary(deps.sequelize);
      },
    )
    .route(
      {
        method: 'get',
        path: '/admin/v1/investors',
        summary: 'Investors, paged; filters: mobile, kycStatus, registeredFrom/registeredTo',
        tags: ['admin'],
        auth: 'admin',
        request: {
          query: Joi.object({
            ...pagingQuery,
            mobile: mobileSchema,
            kycStatus: Joi.string().valid(...Object.values(KycStatus)),
            registeredFrom: Joi.date().iso(),
            registeredTo: Joi.date().iso(),
          }),
        },
        responses: { 200: { description: 'page of investors (PII masked)' } },
      },
      async (ctx) => {
        ctx.body = await listInvestors(ctx.state.query);
      },
    )
    .route(
      {
        method: 'get',
        path: '/admin/v1/kyc',
        summary:
          'KYC submissions, paged, oldest first; status defaults to manual_review (the review queue)',
        tags: ['admin'],
        auth: 'admin',
        request: {
          query: Joi.object({
            ...pagingQuery,
            status: Joi.string()
              .valid('pending', 'manual_review', 'verified', 'rejected')
              .default('manual_review'),
          }),
        },
        responses: { 200: { description: 'page of submissions (name and NIK masked)' } },
      },
      async (ctx) => {
        const { page, pageSize, status } = ctx.state.query;
        const { rows, count } = await KycVerification.findAndCountAll({
          where: { status },
          order: [['id', 'ASC']],
          limit: pageSize,
          offset: (page - 1) * pageSize,
        });
        ctx.body = {
          items: rows.map((v) => kycSubmissionView(deps.cipher, v)),
          page,
          pageSize,
          total: count,
        };
      },
    )
    .route(
      {
        method: 'post',
        path: '/admin/v1/kyc/:id/approve',
        summary: 'Approve a submission in manual review: the investor is verified',
        tags: ['admin'],
        auth: 'admin',
        request: { params: idParams },
        responses: {
          200: { description: 'approved' },
          409: { description: 'INVALID_STATE_TRANSITION' },
        },
      },
      async (ctx) => {
        ctx.body = await reviewKyc(ctx.state.params.id, {
          approve: true,
          admin: await adminName(ctx.state.session.userId),
        });
      },
    )
    .route(
      {
        method: 'post',
        path: '/admin/v1/kyc/:id/reject',
        summary: 'Reject a submission in manual review, with a reason the investor sees',
        tags: ['admin'],
        auth: 'admin',
        request: {
          params: idParams,
          body: Joi.object({ reason: Joi.string().trim().min(3).max(500).required() }),
        },
        responses: {
          200: { description: 'rejected' },
          409: { description: 'INVALID_STATE_TRANSITION' },
        },
      },
      async (ctx) => {
        ctx.body = await reviewKyc(ctx.state.params.id, {
          approve: false,
          admin: await adminName(ctx.state.session.userId),
          reason: ctx.state.body.reason,
        });
      },
    );
}
