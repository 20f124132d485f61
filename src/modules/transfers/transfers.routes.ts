import Joi from 'joi';
import { ApiRouter, type RouteGuards } from '../../http/api-router';
import { pagingQuery } from '../../http/validate';
import { AppError } from '../../lib/errors';
import type { Runtime } from '../../runtime';
import { CreditNote } from './credit-note.model';
import { CreditOrder } from './credit-order.model';
import { calcCreditOrder, creditOrderView, placeCreditOrder } from './credit-orders.service';
import {
  assetDetail,
  calcNote,
  cancelNote,
  createNote,
  listAssets,
  marketNotes,
  noteView,
  userNotes,
} from './notes.service';

const id = Joi.string().pattern(/^\d{1,18}$/);
const discountRate = Joi.alternatives()
  .try(Joi.number().min(0).max(99.9999), Joi.string().pattern(/^\d{1,2}(\.\d{1,4})?$/))
  .default('0')
  .custom((v: number | string) => String(v));
const noteBody = Joi.object({
  assetId: id.required(),
  amount: Joi.number().integer().min(1).max(Number.MAX_SAFE_INTEGER).required(),
  discountRate,
});
const orderBody = Joi.object({
  noteId: id.required(),
  principal: Joi.number().integer().min(1).max(Number.MAX_SAFE_INTEGER).required(),
});
const refusals = {
  422: {
    description:
      'a transfer rule: LOAN_NOT_REPAYING, HOLD_DAYS_NOT_REACHED, TOO_CLOSE_TO_REPAYMENT, AMOUNT_NOT_INCREMENT …',
  },
};

/** Secondary market (seed 003): assets, notes, credit orders. */
export function transfersRoutes(deps: Pick<Runtime, 'config'>, guards: RouteGuards): ApiRouter {
  const rules = deps.config.market;
  return new ApiRouter(guards)
    .route(
      {
        method: 'get',
        path: '/api/v1/me/assets',
        summary:
          'Assets held; type transferable | transferring | transferred (seed 003 lists) with totals',
        tags: ['transfers'],
        auth: 'investor',
        request: {
          query: Joi.object({
            ...pagingQuery,
            type: Joi.string().valid('transferable', 'transferring', 'transferred'),
          }),
        },
        responses: {
          200: {
            description: 'page of assets with creditAmount, tradingTotalAmount, tradedTotalAmount',
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
        tags: ['transfers'],
        auth: 'investor',
        request: { params: Joi.object({ id: id.required() }) },
        responses: {
          200: { description: 'asset' },
          404: { description: 'not one of the caller’s assets' },
        },
      },
      async (ctx) => {
        ctx.body = await assetDetail(ctx.state.session.userId, ctx.state.params.id);
      },
    )
    .route(
      {
        method: 'post',
        path: '/api/v1/credit-notes/calc',
        summary:
          'Check an amount and discount for a note; the interest a buyer would owe and the price',
        tags: ['transfers'],
        auth: 'investor',
        request: { body: noteBody },
        responses: { 200: { description: 'figures' }, ...refusals },
      },
      async (ctx) => {
        ctx.body = await calcNote(ctx.state.session.userId, ctx.state.body, rules);
      },
    )
    .route(
      {
        method: 'post',
        path: '/api/v1/credit-notes',
        summary: 'Offer part or all of an asset on the market (every transfer rule checked)',
        tags: ['transfers'],
        auth: 'investor',
        idempotent: true,
        request: { body: noteBody },
        responses: { 201: { description: 'note' }, ...refusals },
      },
      async (ctx) => {
        ctx.status = 201;
        ctx.body = await noteView(
          await createNote(ctx.state.session.userId, ctx.state.body, rules),
        );
      },
    )
    .route(
      {
        method: 'delete',
        path: '/api/v1/credit-notes/:id',
        summary: 'Cancel the unsold part of one of the caller’s notes',
        tags: ['transfers'],
        auth: 'investor',
        request: { params: Joi.object({ id: id.required() }) },
        responses: { 200: { description: 'cancelled note' }, 409: { description: 'NOTE_CLOSED' } },
      },
      async (ctx) => {
        ctx.body = await noteView(await cancelNote(ctx.state.session.userId, ctx.state.params.id));
      },
    )
    .route(
      {
        method: 'get',
        path: '/api/v1/credit-notes',
        summary: 'Open notes on the market',
        tags: ['transfers'],
        auth: 'investor',
        request: { query: Joi.object(pagingQuery) },
        responses: { 200: { description: 'page of notes' } },
      },
      async (ctx) => {
        ctx.body = await marketNotes(ctx.state.query);
      },
    )
    .route(
      {
        method: 'get',
        path: '/api/v1/credit-notes/:id',
        summary: 'One note; isLong=true adds currentInterest and remainingInterest',
        tags: ['transfers'],
        auth: 'investor',
        request: {
          params: Joi.object({ id: id.required() }),
          query: Joi.object({ isLong: Joi.boolean().default(false) }),
        },
        responses: { 200: { description: 'note' }, 404: { description: 'no such note' } },
      },
      async (ctx) => {
        const note = await CreditNote.findByPk(ctx.state.params.id);
        if (!note) throw new AppError('NOT_FOUND', 'no such note');
        ctx.body = await noteView(note, ctx.state.query.isLong);
      },
    )
    .route(
      {
        method: 'post',
        path: '/api/v1/credit-orders/calc',
        summary:
          'Price a purchase of part of a note: interest owed to the seller, pay amount, fee (every check of seed 003)',
        tags: ['transfers'],
        auth: 'investor',
        request: { body: orderBody },
        responses: {
          200: { description: 'figures' },
          422: { description: 'NOTE_ENDED, OWN_NOTE, INSUFFICIENT_BALANCE, amount rules' },
        },
      },
      async (ctx) => {
        ctx.body = await calcCreditOrder(deps.config, ctx.state.session.userId, ctx.state.body);
      },
    )
    .route(
      {
        method: 'post',
        path: '/api/v1/credit-orders',
        summary:
          'Buy part of a note from the wallet: 202 initial; the confirm job does the rest; poll GET /api/v1/credit-orders/:id',
        tags: ['transfers'],
        auth: 'investor',
        idempotent: true,
        request: { body: orderBody },
        responses: {
          202: { description: 'accepted' },
          422: { description: 'NOTE_ENDED, OWN_NOTE, INSUFFICIENT_BALANCE, amount rules' },
        },
      },
      async (ctx) => {
        const o = await placeCreditOrder(
          deps.config,
          ctx.state.session.userId,
          ctx.state.body,
          ctx.get('Idempotency-Key') || undefined,
        );
        ctx.status = 202;
        ctx.body = { id: String(o.id), status: o.status };
      },
    )
    .route(
      {
        method: 'get',
        path: '/api/v1/credit-orders/:id',
        summary: "One of the caller's credit orders (as buyer or seller)",
        tags: ['transfers'],
        auth: 'investor',
        request: { params: Joi.object({ id: id.required() }) },
        responses: {
          200: { description: 'credit order' },
          404: { description: 'not the caller’s' },
        },
      },
      async (ctx) => {
        const o = await CreditOrder.findByPk(ctx.state.params.id);
        const me = String(ctx.state.session.userId);
        if (!o || (String(o.buyerId) !== me && String(o.sellerId) !== me))
          throw new AppError('NOT_FOUND', 'no such credit order');
        ctx.body = creditOrderView(o);
      },
    )
    .route(
      {
        method: 'get',
        path: '/api/v1/me/credit-notes',
        summary: "The caller's notes: type 2 selling, 3 sold; with stats",
        tags: ['transfers'],
        auth: 'investor',
        request: {
          query: Joi.object({
            ...pagingQuery,
            type: Joi.number().integer().valid(2, 3).default(2),
          }),
        },
        responses: { 200: { description: 'page of notes with stats' } },
      },
      async (ctx) => {
        ctx.body = await userNotes(ctx.state.session.userId, ctx.state.query);
      },
    );
}
