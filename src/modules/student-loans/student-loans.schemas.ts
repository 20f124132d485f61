import Joi from 'joi';
import { idOut, idrOut, pageOf } from '../../http/output';
import { pagingQuery } from '../../http/validate';
import { StudentLoanStatus } from './student-loan.states';

/** POST /api/v1/student-loans. */
export const applicationBody = Joi.object({
  schoolName: Joi.string().trim().min(2).max(200).required(),
  studentIdNo: Joi.string()
    .pattern(/^[A-Za-z0-9-]{4,32}$/)
    .required(),
  major: Joi.string().trim().min(2).max(100).required(),
  enrollmentYear: Joi.number().integer().min(1990).max(2100).required(),
  amount: Joi.number().integer().min(100_000).max(1_000_000_000).required(),
  termMonths: Joi.number().integer().min(1).max(60).required(),
  purpose: Joi.string().trim().min(3).max(500).required(),
});

/** GET /admin/v1/student-loans. */
export const applicationsQuery = Joi.object({
  ...pagingQuery,
  status: Joi.string().valid(...Object.values(StudentLoanStatus)),
});

/** POST /admin/v1/student-loans/:id/reject: the back office's reason body. */
export { reasonBody as rejectBody } from '../admin/admin.schemas';

/** POST /admin/v1/student-loans/:id/offline-disbursement (线下放款). */
export const offlineDisbursementBody = Joi.object({
  amount: Joi.number().integer().min(1).max(1_000_000_000).required(),
  reference: Joi.string().trim().min(3).max(100).required(),
  disbursedAt: Joi.date().iso().max('now'),
});

/** An application as the API shows it (the student ID masked). */
export const applicationOut = Joi.object({
  id: idOut,
  userId: idOut,
  schoolName: Joi.string(),
  studentIdNo: Joi.string().description('masked'),
  major: Joi.string(),
  enrollmentYear: Joi.number().integer(),
  amount: idrOut,
  termMonths: Joi.number().integer(),
  purpose: Joi.string(),
  status: Joi.string().valid(...Object.values(StudentLoanStatus)),
  reviewReason: Joi.string().allow(null),
  reviewedAt: Joi.date().allow(null),
  disbursedAt: Joi.date().allow(null),
  disbursementRef: Joi.string().allow(null),
  disbursementAmount: idrOut.allow(null),
  createdAt: Joi.date(),
});

/** GET /api/v1/me/student-loans. */
export const myApplications = Joi.object({ items: Joi.array().items(applicationOut) });

/** GET /admin/v1/student-loans. */
export const applicationsPage = pageOf(applicationOut);
