import Joi from 'joi';
import { Transaction } from 'sequelize';
import { ApiRouter, type RouteGuards } from '../../http/api-router';
import { pagingQuery } from '../../http/validate';
import { withTransaction } from '../../lib/db';
import { now } from '../../lib/clock';
import { AppError } from '../../lib/errors';
import { maskIdCard } from '../../lib/masking';
import { idrToJson } from '../../lib/money';
import { User } from '../users/user.model';
import { StudentLoan } from './student-loan.model';
import { StudentLoanStatus, studentLoanMachine } from './student-loan.states';

const view = (s: StudentLoan) => ({
  id: String(s.id),
  userId: String(s.userId),
  schoolName: s.schoolName,
  studentIdNo: maskIdCard(s.studentIdNo),
  major: s.major,
  enrollmentYear: s.enrollmentYear,
  amount: idrToJson(s.amount),
  termMonths: s.termMonths,
  purpose: s.purpose,
  status: s.status,
  reviewReason: s.reviewReason,
  reviewedAt: s.reviewedAt,
  disbursedAt: s.disbursedAt,
  disbursementRef: s.disbursementRef,
  disbursementAmount: s.disbursementAmount === null ? null : idrToJson(s.disbursementAmount),
  createdAt: s.createdAt,
});

const idParams = Joi.object({
  id: Joi.string()
    .pattern(/^\d{1,18}$/)
    .required(),
});

/** Moves an application along its state machine, row locked; the admin is recorded. */
async function decide(id: string, to: StudentLoanStatus, fields: Partial<StudentLoan>) {
  return withTransaction(StudentLoan.sequelize!, async (transaction) => {
    const s = await StudentLoan.findByPk(id, { transaction, lock: Transaction.LOCK.NO_KEY_UPDATE });
    if (!s) throw new AppError('NOT_FOUND', 'no such student loan application');
    studentLoanMachine.assert(s.status, to);
    await s.update({ ...fields, status: to }, { transaction });
    return view(s);
  });
}

/** Student loan applications (seed item 18) and their admin review and offline disbursement. */
export function studentLoansRoutes(guards: RouteGuards): ApiRouter {
  const adminName = async (userId: string) =>
    (await User.findByPk(userId))?.username ?? `admin:${userId}`;
  return new ApiRouter(guards)
    .route(
      {
        method: 'post',
        path: '/api/v1/student-loans',
        summary: 'Apply for a student loan',
        tags: ['student-loans'],
        auth: 'investor',
        idempotent: true,
        request: {
          body: Joi.object({
            schoolName: Joi.string().trim().min(2).max(200).required(),
            studentIdNo: Joi.string()
              .pattern(/^[A-Za-z0-9-]{4,32}$/)
              .required(),
            major: Joi.string().trim().min(2).max(100).required(),
            enrollmentYear: Joi.number().integer().min(1990).max(2100).required(),
            amount: Joi.number().integer().min(100_000).max(1_000_000_000).required(),
            termMonths: Joi.number().integer().min(1).max(60).required(),
            purpose: Joi.string().trim().min(3).max(500).required(),
          }),
        },
        responses: { 201: { description: 'submitted' } },
      },
      async (ctx) => {
        const s = await StudentLoan.create({
          ...ctx.state.body,
          amount: BigInt(ctx.state.body.amount),
          userId: ctx.state.session.userId,
          status: StudentLoanStatus.Submitted,
        });
        ctx.status = 201;
        ctx.body = view(s);
      },
    )
    .route(
      {
        method: 'get',
        path: '/api/v1/me/student-loans',
        summary: "The investor's student loan applications",
        tags: ['student-loans'],
        auth: 'investor',
        responses: { 200: { description: 'applications' } },
      },
      async (ctx) => {
        const rows = await StudentLoan.findAll({
          where: { userId: ctx.state.session.userId },
          order: [['id', 'DESC']],
        });
        ctx.body = { items: rows.map(view) };
      },
    )
    .route(
      {
        method: 'get',
        path: '/admin/v1/student-loans',
        summary: 'Student loan applications, paged; filter by status',
        tags: ['admin'],
        auth: 'admin',
        request: {
          query: Joi.object({
            ...pagingQuery,
            status: Joi.string().valid(...Object.values(StudentLoanStatus)),
          }),
        },
        responses: { 200: { description: 'page of applications' } },
      },
      async (ctx) => {
        const { page, pageSize, status } = ctx.state.query;
        const { rows, count } = await StudentLoan.findAndCountAll({
          where: status ? { status } : {},
          order: [['id', 'ASC']],
          limit: pageSize,
          offset: (page - 1) * pageSize,
        });
        ctx.body = { items: rows.map(view), page, pageSize, total: count };
      },
    )
    .route(
      {
        method: 'post',
        path: '/admin/v1/student-loans/:id/approve',
        summary: 'Approve an application',
        tags: ['admin'],
        auth: 'admin',
        request: { params: idParams },
        responses: {
          200: { description: 'approved' },
          409: { description: 'INVALID_STATE_TRANSITION' },
        },
      },
      async (ctx) => {
        ctx.body = await decide(ctx.state.params.id, StudentLoanStatus.Approved, {
          reviewedBy: await adminName(ctx.state.session.userId),
          reviewedAt: now(),
        });
      },
    )
    .route(
      {
        method: 'post',
        path: '/admin/v1/student-loans/:id/reject',
        summary: 'Reject an application with a reason',
        tags: ['admin'],
        auth: 'admin',
        request: {
          params: idParams,
          body: Joi.object({ reason: Joi.string().trim().min(3).max(500).required() }),
        },
        responses: {
          200: { description: 'rejected' },
          409: { description: 'INVALID_STATE_TRANSITION' },
        },
      },
      async (ctx) => {
        ctx.body = await decide(ctx.state.params.id, StudentLoanStatus.Rejected, {
          reviewedBy: await adminName(ctx.state.session.userId),
          reviewedAt: now(),
          reviewReason: ctx.state.body.reason,
        });
      },
    )
    .route(
      {
        method: 'post',
        path: '/admin/v1/student-loans/:id/offline-disbursement',
        summary: 'Record the offline disbursement of an approved application (线下放款)',
        tags: ['admin'],
        auth: 'admin',
        request: {
          params: idParams,
          body: Joi.object({
            amount: Joi.number().integer().min(1).max(1_000_000_000).required(),
            reference: Joi.string().trim().min(3).max(100).required(),
            disbursedAt: Joi.date().iso().max('now'),
          }),
        },
        responses: {
          200: { description: 'recorded' },
          409: { description: 'INVALID_STATE_TRANSITION' },
        },
      },
      async (ctx) => {
        const b = ctx.state.body as { amount: number; reference: string; disbursedAt?: Date };
        ctx.body = await decide(ctx.state.params.id, StudentLoanStatus.DisbursedOffline, {
          disbursedBy: await adminName(ctx.state.session.userId),
          disbursedAt: b.disbursedAt ?? now(),
          disbursementRef: b.reference,
          disbursementAmount: BigInt(b.amount),
        });
      },
    );
}
