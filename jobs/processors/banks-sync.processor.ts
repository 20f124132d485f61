import { syncBanks } from '../../src/modules/banks/banks.service';
import type { Processor } from './types';

/** Sweeper (daily): the partner's bank list (seed item 6) into `banks`; sandbox: demo list kept. */
export const banksSyncProcessor: Processor<'banks.sync'> = async (_payload, { rt, logger }) =>
  syncBanks(rt.ports.partner, { logger });
