import { ApiRouter, type RouteGuards } from '../../http/api-router';
import { idParam } from '../../http/validate';
import {
  applicationBody,
  applicationsQuery,
  offlineDisbursementBody,
  rejectBody,
  applicationOut,
  applicationsPage,
  myApplications,
} from './student-loans.schemas';
import {
  applyForStudentLoan,
  approveStudentLoan,
  listStudentLoans,
  myStudentLoans,
  recordOfflineDisbursement,
  rejectStudentLoan,
} from './student-loans.service';

/** Student loan applications (seed item 18) and their admin review and offline disbursement. */
export function studentLoansRoutes(guards: RouteGuards): ApiRouter {
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
          body: applicationBody,
        },
        responses: { 201: { description: 'submitted', schema: applicationOut } },
      },
      async (ctx) => {
        ctx.status = 201;
        ctx.body = await applyForStudentLoan(ctx.state.session.userId, ctx.state.body);
      },
    )
    .route(
      {
        method: 'get',
        path: '/api/v1/me/student-loans',
        summary: "The investor's student loan applications",
        tags: ['student-loans'],
        auth: 'investor',
        responses: { 200: { description: 'applications', schema: myApplications } },
      },
      async (ctx) => {
        ctx.body = await myStudentLoans(ctx.state.session.userId);
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
          query: applicationsQuery,
        },
        responses: { 200: { description: 'page of applications', schema: applicationsPage } },
      },
      async (ctx) => {
        ctx.body = await listStudentLoans(ctx.state.query);
      },
    )
    .route(
      {
        method: 'post',
        path: '/admin/v1/student-loans/:id/approve',
        summary: 'Approve an application',
        tags: ['admin'],
        auth: 'admin',
        request: { params: idParam },
        responses: {
          200: { description: 'approved', schema: applicationOut },
          409: { description: 'INVALID_STATE_TRANSITION' },
        },
      },
      async (ctx) => {
        ctx.body = await approveStudentLoan(ctx.state.session.userId, ctx.state.params.id);
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
          params: idParam,
          body: rejectBody,
        },
        responses: {
          200: { description: 'rejected', schema: applicationOut },
          409: { description: 'INVALID_STATE_TRANSITION' },
        },
      },
      async (ctx) => {
        ctx.body = await rejectStudentLoan(
          ctx.state.session.userId,
          ctx.state.params.id,
          ctx.state.body.reason,
        );
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
          params: idParam,
          body: offlineDisbursementBody,
        },
        responses: {
          200: { description: 'recorded', schema: applicationOut },
          409: { description: 'INVALID_STATE_TRANSITION' },
        },
      },
      async (ctx) => {
        ctx.body = await recordOfflineDisbursement(
          ctx.state.session.userId,
          ctx.state.params.id,
          ctx.state.body,
        );
      },
    );
}
