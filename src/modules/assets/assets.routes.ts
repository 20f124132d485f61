import { ApiRouter, type RouteGuards } from '../../http/api-router';
import type { Runtime } from '../../runtime';
import { assetDetail, listAssets } from './assets.service';
import { idParam } from '../../http/validate';
import { assetOut, assetsPage, assetsQuery } from './assets.schemas';

/** An investor's holdings (seed 003 lists): the assets notes are made from. */
export function assetsRoutes(deps: Pick<Runtime, 'config'>, guards: RouteGuards): ApiRouter {
  const rules = deps.config.market;
  return new ApiRouter(guards)
    .route(
      {
        method: 'get',
        path: '/api/v1/me/assets',
        summary:
          'Assets held; type transferable | transferring | transferred (seed 003 lists) with totals',
        tags: ['assets'],
        auth: 'investor',
        request: {
          query: assetsQuery,
        },
        responses: {
          200: {
            description: 'page of assets with creditAmount, tradingTotalAmount, tradedTotalAmount',
            schema: assetsPage,
          },
        },
      },
      async (ctx) => {
        ctx.body = await listAssets(ctx.state.session.userId, ctx.state.query, rules);
      },
    )
    .route(
      {
        method: 'get',
        path: '/api/v1/me/assets/:id',
        summary: 'One asset with its repayment schedule',
        tags: ['assets'],
        auth: 'investor',
        request: { params: idParam },
        responses: {
          200: { description: 'asset', schema: assetOut },
          404: { description: 'not one of the caller’s assets' },
        },
      },
      async (ctx) => {
        ctx.body = await assetDetail(ctx.state.session.userId, ctx.state.params.id);
      },
    );
}
