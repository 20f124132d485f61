import { ApiRouter, type RouteGuards } from '../../http/api-router';
import type { Runtime } from '../../runtime';
import { createRecharge, createWithdrawal, walletOpView } from './wallet.service';
import { amountBody, opOut } from './wallet.schemas';

/** Wallet: recharge from and withdraw to the bound card (both through the gateway). */
export function walletRoutes(deps: Pick<Runtime, 'config'>, guards: RouteGuards): ApiRouter {
  return new ApiRouter(guards)
    .route(
      {
        method: 'post',
        path: '/api/v1/me/recharges',
        summary: 'Collect {amount} from the bound card into the wallet (202; the gateway confirms)',
        tags: ['wallet'],
        auth: 'investor',
        idempotent: true,
        request: { body: amountBody },
        responses: {
          202: { description: 'accepted', schema: opOut },
          422: { description: 'KYC_REQUIRED or BANK_CARD_REQUIRED' },
        },
      },
      async (ctx) => {
        ctx.status = 202;
        ctx.body = walletOpView(
          await createRecharge(
            ctx.state.session.userId,
            ctx.state.body.amount,
            ctx.get('Idempotency-Key') || undefined,
          ),
        );
      },
    )
    .route(
      {
        method: 'post',
        path: '/api/v1/me/withdrawals',
        summary:
          'Pay {amount} out of the wallet to the bound card (202; locked until the payout resolves)',
        tags: ['wallet'],
        auth: 'investor',
        idempotent: true,
        request: { body: amountBody },
        responses: {
          202: { description: 'accepted', schema: opOut },
          422: {
            description:
              'INSUFFICIENT_BALANCE, KYC_REQUIRED, BANK_CARD_REQUIRED or WITHDRAWAL_ON_HOLD (after a card replacement; details[holdUntil] says when it lifts)',
          },
        },
      },
      async (ctx) => {
        ctx.status = 202;
        ctx.body = walletOpView(
          await createWithdrawal(
            ctx.state.session.userId,
            ctx.state.body.amount,
            ctx.get('Idempotency-Key') || undefined,
            { cardChangeHoldSeconds: deps.config.auth.cardChangeWithdrawHoldSeconds },
          ),
        );
      },
    );
}
