import { ApiRouter, type RouteGuards } from '../../http/api-router';
import type { Runtime } from '../../runtime';
import { loanDetail, listOpenLoans, loanView, partnerLoanView, receiveLoan } from './loans.service';
import {
  creditorNoParam,
  loanIntakeBody,
  loanListQuery,
  loanOut,
  loanPage,
  partnerLoanOut,
  loanDetailOut,
} from './loans.schemas';

/** Loan intake from the partner (seed items 9-10) and the loan list and detail (item 12). */
export function loansRoutes(
  deps: Pick<Runtime, 'cipher' | 'config' | 'redis'>,
  guards: RouteGuards,
): ApiRouter {
  return new ApiRouter(guards)
    .route(
      {
        method: 'post',
        path: '/partner/v1/loans',
        summary: 'Partner sends a loan (every field of seed item 9); idempotent by creditorNo',
        tags: ['partner'],
        auth: 'partner',
        request: { body: loanIntakeBody },
        responses: {
          201: { description: 'stored', schema: loanOut },
          200: { description: 'the same loan again', schema: loanOut },
          401: { description: 'INVALID_SIGNATURE' },
          409: { description: 'LOAN_CONFLICT: another body under this creditorNo' },
        },
      },
      async (ctx) => {
        const { loan, created } = await receiveLoan(
          {
            cipher: deps.cipher,
            settlementDelaySeconds: deps.config.settlementDelaySeconds,
            autoInvestMaxShare: deps.config.autoInvestMaxShare,
          },
          ctx.state.body,
        );
        ctx.status = created ? 201 : 200;
        ctx.body = loanView(loan);
      },
    )
    .route(
      {
        method: 'get',
        path: '/partner/v1/loans/:creditorNo',
        summary:
          'Partner reads a loan with its repayment plan (signed; the signed body is empty); the plan is empty before disbursement',
        tags: ['partner'],
        auth: 'partner',
        request: { params: creditorNoParam },
        responses: {
          200: {
            description: 'the loan out plus repaymentPlan',
            schema: partnerLoanOut,
          },
          401: { description: 'INVALID_SIGNATURE' },
          404: { description: 'NOT_FOUND' },
        },
      },
      async (ctx) => {
        ctx.body = await partnerLoanView(ctx.state.params.creditorNo);
      },
    )
    .route(
      {
        method: 'get',
        path: '/api/v1/loans',
        summary:
          'Open loans: filters minYearRateFin/maxYearRateFin, minAmountApply/maxAmountApply, minTerm/maxTerm (+termUnit); sorted; paged by page or by the previous nextCursor; total at most ~2 s old',
        tags: ['loans'],
        auth: 'none',
        request: { query: loanListQuery },
        responses: {
          200: {
            description: 'page of loans',
            schema: loanPage,
          },
          400: { description: 'VALIDATION_ERROR (also a cursor made for other filters or sort)' },
        },
      },
      async (ctx) => {
        ctx.body = await listOpenLoans(ctx.state.query, { redis: deps.redis });
      },
    )
    .route(
      {
        method: 'get',
        path: '/api/v1/loans/:creditorNo',
        summary: 'One loan with its borrower (PII masked)',
        tags: ['loans'],
        auth: 'none',
        request: { params: creditorNoParam },
        responses: {
          200: { description: 'loan detail', schema: loanDetailOut },
          404: { description: 'NOT_FOUND' },
        },
      },
      async (ctx) => {
        ctx.body = await loanDetail(deps.cipher, ctx.state.params.creditorNo);
      },
    );
}
