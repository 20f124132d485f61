import { ApiRouter, type RouteGuards } from '../../http/api-router';
import type { Runtime } from '../../runtime';
import { myKyc, submitKyc } from './kyc.service';
import { kycResult, kycBody } from './kyc.schemas';

/** KYC (seed 000 items 3-4): status, and submission that the kyc.verify job checks. */
export function kycRoutes(deps: Pick<Runtime, 'cipher'>, guards: RouteGuards): ApiRouter {
  return new ApiRouter(guards)
    .route(
      {
        method: 'get',
        path: '/api/v1/me/kyc',
        summary: 'KYC status; verified is true for provider-passed and admin-approved alike',
        tags: ['kyc'],
        auth: 'investor',
        responses: { 200: { description: 'status', schema: kycResult } },
      },
      async (ctx) => {
        ctx.body = await myKyc(ctx.state.session.userId);
      },
    )
    .route(
      {
        method: 'post',
        path: '/api/v1/me/kyc',
        summary: 'Submit real name and NIK; checked by the provider, else manual review',
        tags: ['kyc'],
        auth: 'investor',
        idempotent: true,
        request: { body: kycBody },
        responses: {
          202: { description: 'accepted, pending', schema: kycResult },
          409: { description: 'KYC_ALREADY_SUBMITTED or NIK_ALREADY_USED' },
        },
      },
      async (ctx) => {
        ctx.status = 202;
        ctx.body = await submitKyc(deps.cipher, ctx.state.session.userId, ctx.state.body);
      },
    );
}
