import { Transaction } from 'sequelize';
import { now } from '../../lib/clock';
import { withTransaction } from '../../lib/db';
import { AppError } from '../../lib/errors';
import { maskIdCard } from '../../lib/masking';
import { idrToJson } from '../../lib/money';
import { adminName } from '../users/users.service';
import { StudentLoan } from './student-loan.model';
import { StudentLoanStatus, studentLoanMachine } from './student-loan.states';

/** An application as the API shows it (the student ID masked). */
export const studentLoanView = (s: StudentLoan) => ({
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
type StudentLoanView = ReturnType<typeof studentLoanView>;

export interface Application {
  schoolName: string;
  studentIdNo: string;
  major: string;
  enrollmentYear: number;
  amount: number;
  termMonths: number;
  purpose: string;
}

/** An investor applies (seed item 18): a `submitted` application. */
export async function applyForStudentLoan(
  userId: string,
  a: Application,
): Promise<StudentLoanView> {
  const s = await StudentLoan.create({
    ...a,
    amount: BigInt(a.amount),
    userId,
    status: StudentLoanStatus.Submitted,
  });
  return studentLoanView(s);
}

/** The investor's own applications, newest first. */
export async function myStudentLoans(userId: string): Promise<{ items: StudentLoanView[] }> {
  const rows = await StudentLoan.findAll({ where: { userId }, order: [['id', 'DESC']] });
  return { items: rows.map(studentLoanView) };
}

/** The back office's page of applications, optionally of one status. */
export async function listStudentLoans(q: {
  page: number;
  pageSize: number;
  status?: StudentLoanStatus;
}) {
  const { rows, count } = await StudentLoan.findAndCountAll({
    where: q.status ? { status: q.status } : {},
    order: [['id', 'ASC']],
    limit: q.pageSize,
    offset: (q.page - 1) * q.pageSize,
  });
  return { items: rows.map(studentLoanView), page: q.page, pageSize: q.pageSize, total: count };
}

/** Moves an application along its state table, row locked. */
async function move(id: string, to: StudentLoanStatus, fields: Partial<StudentLoan>) {
  return withTransaction(StudentLoan.sequelize!, async (transaction) => {
    const s = await StudentLoan.findByPk(id, { transaction, lock: Transaction.LOCK.NO_KEY_UPDATE });
    if (!s) throw new AppError('NOT_FOUND', 'no such student loan application');
    await studentLoanMachine.transition(s, to, fields, { transaction });
    return studentLoanView(s);
  });
}

/** An admin approves a submitted application (the admin is recorded). */
export async function approveStudentLoan(adminId: string, id: string) {
  return move(id, StudentLoanStatus.Approved, {
    reviewedBy: await adminName(adminId),
    reviewedAt: now(),
  });
}

/** An admin rejects a submitted application with a reason. */
export async function rejectStudentLoan(adminId: string, id: string, reason: string) {
  return move(id, StudentLoanStatus.Rejected, {
    reviewedBy: await adminName(adminId),
    reviewedAt: now(),
    reviewReason: reason,
  });
}

/** An admin records the offline disbursement (线下放款) of an approved application. */
export async function recordOfflineDisbursement(
  adminId: string,
  id: string,
  d: { amount: number; reference: string; disbursedAt?: Date },
) {
  return move(id, StudentLoanStatus.DisbursedOffline, {
    disbursedBy: await adminName(adminId),
    disbursedAt: d.disbursedAt ?? now(),
    disbursementRef: d.reference,
    disbursementAmount: BigInt(d.amount),
  });
}
