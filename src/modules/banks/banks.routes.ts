import { ApiRouter, type RouteGuards } from '../../http/api-router';
import type { Runtime } from '../../runtime';
import { bankView, bindCard, listBanks } from './bank-card.service';
import { bankList, bindCardBody, cardResult } from './banks.schemas';

/** Bank list (seed 000 item 6) and card binding (item 7). */
export function banksRoutes(
  deps: Pick<Runtime, 'cipher' | 'redis' | 'config' | 'sessions'>,
  guards: RouteGuards,
): ApiRouter {
  return new ApiRouter(guards)
    .route(
      {
        method: 'get',
        path: '/api/v1/banks',
        summary: 'Banks a card may be bound from, with their BIN prefixes',
        tags: ['banks'],
        auth: 'none',
        responses: {
          200: {
            description: 'bank list',
            schema: bankList,
          },
        },
      },
      async (ctx) => {
        ctx.body = { items: (await listBanks()).map(bankView) };
      },
    )
    .route(
      {
        method: 'post',
        path: '/api/v1/me/bank-cards',
        summary:
          "Bind (or replace) the investor's bank card; KYC required, BIN checked against the bank; a replacement needs the password, ends the other sessions and holds withdrawals",
        tags: ['banks'],
        auth: 'investor',
        idempotent: true,
        request: { body: bindCardBody },
        responses: {
          201: { description: 'bound', schema: cardResult },
          200: { description: 'this card was already bound', schema: cardResult },
          403: { description: 'REAUTH_REQUIRED (a replacement without the right password)' },
          409: { description: 'CARD_ALREADY_BOUND' },
          422: { description: 'KYC_REQUIRED, UNKNOWN_BANK or CARD_BANK_MISMATCH' },
          429: { description: 'RATE_LIMITED (wrong passwords count against the login throttle)' },
        },
      },
      async (ctx) => {
        const userId: string = ctx.state.session.userId;
        const { card, created, replaced } = await bindCard(deps, userId, ctx.state.body);
        // A replaced card ends every other session: a stolen one cannot go on to cash out.
        if (replaced) await deps.sessions.endOthers(userId, 'investor', ctx.state.token);
        ctx.status = created ? 201 : 200;
        ctx.body = card;
      },
    );
}
