import { StateMachine } from '../../lib/state-machine';

/** An investor's KYC status (users.kyc_status) and a submission's (kyc_verifications.status). */
export enum KycStatus {
  None = 'none',
  Pending = 'pending',
  Verified = 'verified',
  ManualReview = 'manual_review',
  Rejected = 'rejected',
}

/**
 * none → pending (submitted) → verified (provider passed) | manual_review (provider did not
 * pass) → verified (admin approved) | rejected (admin rejected, with a reason) → pending
 * (submitted again).
 */
export const kycMachine = new StateMachine<KycStatus>('kyc', {
  [KycStatus.None]: [KycStatus.Pending],
  [KycStatus.Pending]: [KycStatus.Verified, KycStatus.ManualReview],
  [KycStatus.ManualReview]: [KycStatus.Verified, KycStatus.Rejected],
  [KycStatus.Rejected]: [KycStatus.Pending],
  [KycStatus.Verified]: [],
});

/** The same table over the investor's row (users.kyc_status follows its latest submission). */
export const investorKycMachine = kycMachine.onField('kycStatus');
