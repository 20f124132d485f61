import { expireNotes } from '../../src/modules/transfers/notes.service';
import type { Processor } from './types';

/** Sweeper: notes past their end time close and give their unsold part back. */
export const creditNotesExpireProcessor: Processor<'credit-notes.expire'> = async () => ({
  closed: await expireNotes(),
});
