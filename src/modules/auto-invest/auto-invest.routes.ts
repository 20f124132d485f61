import { ApiRouter, type RouteGuards } from '../../http/api-router';
import type { Runtime } from '../../runtime';
import { historyPage, historyQuery, ruleBody, ruleOut } from './auto-invest.schemas';
import { deleteRule, myRule, putRule, ruleHistory } from './auto-invest.service';

/** Auto-invest: the investor's standing rule and what it did (docs/areas/auto-invest.md). */
export function autoInvestRoutes(deps: Pick<Runtime, 'config'>, guards: RouteGuards): ApiRouter {
  return new ApiRouter(guards)
    .route(
      {
        method: 'get',
        path: '/api/v1/me/auto-invest',
        summary: "The investor's auto-invest rule",
        tags: ['auto-invest'],
        auth: 'investor',
        responses: {
          200: { description: 'the rule', schema: ruleOut },
          404: { description: 'no rule yet' },
        },
      },
      async (ctx) => {
        ctx.body = await myRule(ctx.state.session.userId);
      },
    )
    .route(
      {
        method: 'put',
        path: '/api/v1/me/auto-invest',
        summary:
          'Create or replace the rule; enabled rules buy new matching loans from the wallet, in queue order',
        tags: ['auto-invest'],
        auth: 'investor',
        idempotent: true,
        request: { body: ruleBody },
        responses: {
          200: { description: 'the rule as stored', schema: ruleOut },
          400: { description: 'VALIDATION_ERROR (amountPerLoan: the minimum and the step)' },
          422: { description: 'KYC_REQUIRED or BANK_CARD_REQUIRED on enabling' },
        },
      },
      async (ctx) => {
        ctx.body = await putRule(deps.config, ctx.state.session.userId, ctx.state.body);
      },
    )
    .route(
      {
        method: 'delete',
        path: '/api/v1/me/auto-invest',
        summary: 'Remove the rule (it leaves the queue; its history stays)',
        tags: ['auto-invest'],
        auth: 'investor',
        idempotent: true,
        responses: { 204: { description: 'removed (or there was none)' } },
      },
      async (ctx) => {
        await deleteRule(ctx.state.session.userId);
        ctx.status = 204;
      },
    )
    .route(
      {
        method: 'get',
        path: '/api/v1/me/auto-invest/history',
        summary:
          'What the rule did with each loan it was offered: invested, rejected, pending or skipped (with the reason)',
        tags: ['auto-invest'],
        auth: 'investor',
        request: { query: historyQuery },
        responses: { 200: { description: 'page of history lines', schema: historyPage } },
      },
      async (ctx) => {
        ctx.body = await ruleHistory(ctx.state.session.userId, ctx.state.query);
      },
    );
}
