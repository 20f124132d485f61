import { ApiRouter, type RouteGuards } from '../../http/api-router';
import { idParam } from '../../http/validate';
import type { Runtime } from '../../runtime';
import { calcCreditOrder } from './credit-order-pricing.service';
import { creditOrderDetail, placeCreditOrder } from './credit-order-placement.service';
import {
  calcNote,
  cancelNote,
  createNote,
  marketNotes,
  noteDetail,
  noteView,
  userNotes,
} from './notes.service';
import {
  marketNotesQuery,
  noteBody,
  noteQuery,
  orderBody,
  refusals,
  userNotesQuery,
  creditOrderCalcOut,
  creditOrderOut,
  noteCalcOut,
  noteDetailOut,
  noteOut,
  notesPage,
  placedCreditOrder,
  userNotesPage,
} from './transfers.schemas';

/** Secondary market (seed 003): notes and credit orders (the assets they come from: assets.routes.ts). */
export function transfersRoutes(deps: Pick<Runtime, 'config'>, guards: RouteGuards): ApiRouter {
  const rules = deps.config.market;
  return new ApiRouter(guards)
    .route(
      {
        method: 'post',
        path: '/api/v1/credit-notes/calc',
        summary:
          'Check an amount and discount for a note; the interest a buyer would owe and the price',
        tags: ['transfers'],
        auth: 'investor',
        request: { body: noteBody },
        responses: { 200: { description: 'figures', schema: noteCalcOut }, ...refusals },
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
        responses: { 201: { description: 'note', schema: noteOut }, ...refusals },
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
        request: { params: idParam },
        responses: {
          200: { description: 'cancelled note', schema: noteOut },
          404: { description: 'no such note of this investor' },
          409: { description: 'NOTE_CLOSED' },
        },
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
        request: { query: marketNotesQuery },
        responses: { 200: { description: 'page of notes', schema: notesPage } },
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
          params: idParam,
          query: noteQuery,
        },
        responses: {
          200: {
            description: 'note (with the interest figures when isLong)',
            schema: noteDetailOut,
          },
          404: { description: 'no such note' },
        },
      },
      async (ctx) => {
        ctx.body = await noteDetail(ctx.state.params.id, ctx.state.query.isLong);
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
          200: { description: 'figures', schema: creditOrderCalcOut },
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
          202: { description: 'accepted', schema: placedCreditOrder },
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
        request: { params: idParam },
        responses: {
          200: { description: 'credit order', schema: creditOrderOut },
          404: { description: 'not the caller’s' },
        },
      },
      async (ctx) => {
        ctx.body = await creditOrderDetail(ctx.state.session.userId, ctx.state.params.id);
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
          query: userNotesQuery,
        },
        responses: { 200: { description: 'page of notes with stats', schema: userNotesPage } },
      },
      async (ctx) => {
        ctx.body = await userNotes(ctx.state.session.userId, ctx.state.query);
      },
    );
}
