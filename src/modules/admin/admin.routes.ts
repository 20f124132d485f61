import { ApiRouter, type RouteGuards } from '../../http/api-router';
import { idParam } from '../../http/validate';
import type { Runtime } from '../../runtime';
import { kycQueue, reviewKyc } from '../kyc/kyc.service';
import { adminName, listInvestors } from '../users/users.service';
import { reconciliationSummary } from '../reconciliation/reconciliation.service';
import {
  investorsQuery,
  kycQueueQuery,
  reasonBody,
  investorsPage,
  kycPage,
  kycReviewed,
  reconciliationOut,
} from './admin.schemas';

/** Admin back office (seed 000 后台接口): investors, KYC review queue. */
export function adminRoutes(
  deps: Pick<Runtime, 'cipher' | 'sequelize'>,
  guards: RouteGuards,
): ApiRouter {
  return new ApiRouter(guards)
    .route(
      {
        method: 'get',
        path: '/admin/v1/reconciliation',
        summary:
          'Reconciliation summary: platform account totals, instructions by state, what waits for finance',
        tags: ['admin'],
        auth: 'admin',
        responses: { 200: { description: 'summary', schema: reconciliationOut } },
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
          query: investorsQuery,
        },
        responses: {
          200: { description: 'page of investors (PII masked)', schema: investorsPage },
        },
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
          query: kycQueueQuery,
        },
        responses: {
          200: { description: 'page of submissions (name and NIK masked)', schema: kycPage },
        },
      },
      async (ctx) => {
        ctx.body = await kycQueue(deps.cipher, ctx.state.query);
      },
    )
    .route(
      {
        method: 'post',
        path: '/admin/v1/kyc/:id/approve',
        summary: 'Approve a submission in manual review: the investor is verified',
        tags: ['admin'],
        auth: 'admin',
        request: { params: idParam },
        responses: {
          200: { description: 'approved', schema: kycReviewed },
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
          params: idParam,
          body: reasonBody,
        },
        responses: {
          200: { description: 'rejected', schema: kycReviewed },
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
