import { fetchBorrower } from '../../src/modules/loans/loans.service';
import type { Processor } from './types';

/** Fetches a loan's borrower from the partner (seed item 10); retried with backoff. */
export const borrowerFetchProcessor: Processor<'borrower.fetch'> = async ({ creditorNo }, { rt }) =>
  fetchBorrower({ cipher: rt.cipher, partner: rt.ports.partner }, creditorNo);
