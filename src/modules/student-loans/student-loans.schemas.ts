import Joi from 'joi';
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
