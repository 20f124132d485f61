import { ApiRouter, type RouteGuards } from '../../http/api-router';
import { accountSummary, investorLedger } from '../ledger/ledger.views';
import type { Runtime } from '../../runtime';
import { profile } from './users.service';
import { accountResult, ledgerPage, ledgerQuery, profileOut } from './users.schemas';

/** The investor's own views: profile (item 5), account figures (item 8), money flows. */
export function meRoutes(deps: Pick<Runtime, 'cipher'>, guards: RouteGuards): ApiRouter {
  return new ApiRouter(guards)
    .route(
      {
        method: 'get',
        path: '/api/v1/me',
        summary: 'Profile with KYC and bank card status; every PII field masked',
        tags: ['me'],
        auth: 'investor',
        responses: { 200: { description: 'profile', schema: profileOut } },
      },
      async (ctx) => {
        ctx.body = await profile(deps.cipher, ctx.state.session.userId);
      },
    )
    .route(
      {
        method: 'get',
        path: '/api/v1/me/account',
        summary:
          'Account figures of seed item 8 plus available, locked and total income, from the ledger',
        tags: ['me'],
        auth: 'investor',
        responses: { 200: { description: 'figures', schema: accountResult } },
      },
      async (ctx) => {
        ctx.body = await accountSummary(ctx.state.session.userId);
      },
    )
    .route(
      {
        method: 'get',
        path: '/api/v1/me/ledger',
        summary: "The investor's money flows (ledger entries), newest first",
        tags: ['me'],
        auth: 'investor',
        request: { query: ledgerQuery },
        responses: { 200: { description: 'page of entries', schema: ledgerPage } },
      },
      async (ctx) => {
        ctx.body = await investorLedger(ctx.state.session.userId, ctx.state.query);
      },
    );
}
