import Joi from 'joi';
import { ApiRouter, type RouteGuards } from '../../http/api-router';
import { pagingQuery } from '../../http/validate';
import { AppError } from '../../lib/errors';
import type { Runtime } from '../../runtime';
import { CreditNote } from './credit-note.model';
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
const refusals = {
  422: {
    description:
      'a transfer rule: LOAN_NOT_REPAYING, HOLD_DAYS_NOT_REACHED, TOO_CLOSE_TO_REPAYMENT, AMOUNT_NOT_INCREMENT …',
  },
};

/** Secondary market (seed 003): assets, notes. Buying notes (credit orders) is not built yet. */
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
