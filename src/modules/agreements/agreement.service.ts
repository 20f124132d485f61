import type { PiiCipher } from '../../lib/crypto';
import { AppError } from '../../lib/errors';
import { maskIdCard, maskName } from '../../lib/masking';
import { Dec } from '../../lib/money';
import { KycVerification } from '../kyc/kyc.model';
import { KycStatus } from '../kyc/kyc.states';
import { Borrower, Loan } from '../loans/loan.model';
import { Asset } from '../assets/asset.model';
import { Order } from '../orders/order.model';
import { OrderStatus } from '../orders/order.states';
import { RepaymentSchedule } from '../schedules/schedule.model';

const esc = (v: unknown) =>
  String(v ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
const idr = (v: bigint) => `Rp ${v.toLocaleString('id-ID')}`;
const METHOD: Record<string, string> = {
  bullet: 'principal and interest at maturity',
  monthly_interest: 'monthly interest, principal at maturity',
  equal_installment: 'equal monthly installments',
};

/**
 * The loan service agreement for a paid order (seed item 17), as an HTML document: the lender
 * (the investor), the borrower and the platform, every party masked; the loan's terms; the
 * investor's repayment schedule once the loan is disbursed.
 */
export async function renderAgreement(
  cipher: PiiCipher,
  userId: string,
  orderId: string,
): Promise<string> {
  const order = await Order.findOne({ where: { id: orderId, userId } });
  if (!order) throw new AppError('NOT_FOUND', 'no such order');
  if (order.status !== OrderStatus.Paid)
    throw new AppError(
      'CONFLICT',
      `the agreement exists for paid orders; this one is ${order.status}`,
    );
  const loan = (await Loan.findByPk(order.loanId))!;
  const kyc = await KycVerification.findOne({
    where: { userId, status: KycStatus.Verified },
    order: [['id', 'DESC']],
  });
  const borrower = await Borrower.findOne({ where: { borrowerId: loan.borrowerId } });
  const borrowerName = borrower
    ? maskName((JSON.parse(cipher.decrypt(borrower.piiEncrypted)) as { name: string }).name)
    : maskName(loan.bankCardHolder);
  const asset = await Asset.findOne({ where: { orderId: order.id } });
  const rows = asset
    ? await RepaymentSchedule.findAll({ where: { assetId: asset.id }, order: [['period', 'ASC']] })
    : [];
  const term = `${loan.term} ${loan.termUnit === 'day' ? 'days' : 'months'}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Loan service agreement ${esc(loan.creditorNo)} / ${esc(order.id)}</title>
<style>body{font-family:sans-serif;max-width:46rem;margin:2rem auto;line-height:1.5}table{border-collapse:collapse}td,th{border:1px solid #999;padding:.2rem .6rem;text-align:right}</style></head>
<body>
<h1>Loan Service Agreement</h1>
<p>Agreement no. <strong>${esc(loan.creditorNo)}-${esc(order.id)}</strong>, made on ${esc((order.paidAt ?? order.createdAt).toISOString().slice(0, 10))}.</p>
<h2>Parties</h2>
<ol>
<li>Lender: ${esc(kyc ? maskName(kyc.realName) : 'investor')}, ID card ${esc(kyc ? maskIdCard(cipher.decrypt(kyc.nikEncrypted)) : '—')} (user ${esc(userId)}).</li>
<li>Borrower: ${esc(borrowerName)} (borrower ${esc(loan.borrowerId.slice(0, 4))}…), originated by ${esc(loan.source)}.</li>
<li>Platform: the P2P lending platform operator, acting as intermediary and payment agent.</li>
</ol>
<h2>Terms</h2>
<ul>
<li>Loan ${esc(loan.creditorNo)} (${esc(loan.loanPurpose)}, risk level ${esc(loan.riskLevel)}), total ${esc(idr(loan.amount))}.</li>
<li>The Lender funds ${esc(idr(order.amount))} of it, at ${esc(new Dec(loan.yearRateFin).toFixed(4))}% a year, for ${esc(term)}, repaid as ${esc(METHOD[loan.repaymentMethod])}.</li>
<li>Disbursed on: ${esc(loan.loanTime?.toISOString().slice(0, 10) ?? 'not yet')}; due: ${esc(loan.dueTime?.toISOString().slice(0, 10) ?? 'after disbursement')}.</li>
<li>Repayments reach the Lender's wallet through the platform's custody account; late fees and the interest spread belong to the platform.</li>
</ul>
${
  rows.length
    ? `<h2>Lender's repayment schedule</h2><table><tr><th>Period</th><th>Due</th><th>Principal</th><th>Interest</th><th>Status</th></tr>${rows
        .map(
          (r) =>
            `<tr><td>${r.period}</td><td>${esc(r.dueDate)}</td><td>${esc(idr(r.principal))}</td><td>${esc(idr(r.interest))}</td><td>${esc(r.status)}</td></tr>`,
        )
        .join('')}</table>`
    : '<p>The repayment schedule is set when the loan is disbursed.</p>'
}
</body></html>`;
}
