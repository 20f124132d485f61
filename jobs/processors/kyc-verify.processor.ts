import { runKycCheck } from '../../src/modules/kyc/kyc.service';
import type { Processor } from './types';

/** Asks the KYC provider about one submission and records the outcome (idempotent). */
export const kycVerifyProcessor: Processor<'kyc.verify'> = async ({ verificationId }, { rt }) =>
  runKycCheck({ cipher: rt.cipher, kyc: rt.ports.kyc }, verificationId);
