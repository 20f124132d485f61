import Joi from 'joi';
import { ApiRouter, type RouteGuards } from '../../http/api-router';
import type { Runtime } from '../../runtime';
import { bankView, bindCard, listBanks } from './bank-card.service';

const bankItem = Joi.object({
  bankCode: Joi.string(),
  bankName: Joi.string(),
  binPrefixes: Joi.array().items(Joi.string()),
});

export const bindCardBody = Joi.object({
  bankCode: Joi.string().max(32).required(),
  cardNo: Joi.string()
    .pattern(/^\d{12,19}$/)
    .message('{{#label}} must be 12 to 19 digits')
    .required(),
  password: Joi.string()
    .max(128)
    .description('the account password; required when this replaces a bound card'),
});

const cardResult = Joi.object({
  id: Joi.string(),
  bankCode: Joi.string(),
  bankName: Joi.string(),
  cardNo: Joi.string().description('masked, ****1234'),
  boundAt: Joi.date(),
});

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
            schema: Joi.object({ items: Joi.array().items(bankItem) }),
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
