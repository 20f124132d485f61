import { QueryTypes } from 'sequelize';
import type { PartnerPort, SkippedBank } from '../../adapters/partner';
import { withTransaction } from '../../lib/db';
import type { Logger } from '../../lib/logger';
import { Bank } from './bank.model';

/**
 * The banks.sync sweeper (seed 000 item 6): in http mode, reads the partner's bank list and
 * makes the `banks` table say the same: every listed bank upserted (name, BIN prefixes,
 * active), every bank the partner no longer lists marked inactive (never deleted: cards refer
 * to it; an inactive bank is neither listed nor bindable). Items the partner sent unreadable are
 * logged and left as they are, neither changed nor deactivated. In sandbox mode the seeded demo
 * list is kept. The partner is asked before the transaction opens.
 */
export async function syncBanks(
  partner: PartnerPort,
  opts: { logger?: Logger } = {},
): Promise<string> {
  if (partner.mode === 'sandbox') return 'sandbox: demo list kept';
  const skipped: SkippedBank[] = [];
  const banks = await partner.listBanks({ onSkipped: (s) => skipped.push(s) });
  for (const s of skipped)
    opts.logger?.warn(
      { index: s.index, bankCode: s.bankCode, reason: s.reason },
      'partner bank list: item skipped',
    );
  const untouched = skipped.flatMap((s) => (s.bankCode ? [s.bankCode] : []));
  const sequelize = Bank.sequelize!;
  return withTransaction(sequelize, async (transaction) => {
    let changed = 0;
    for (const b of banks) {
      const rows = await sequelize.query(
        `INSERT INTO banks (code, name, bin_prefixes, active) VALUES ($1, $2, $3, true)
         ON CONFLICT (code) DO UPDATE
           SET name = EXCLUDED.name, bin_prefixes = EXCLUDED.bin_prefixes, active = true,
               updated_at = now()
           WHERE (banks.name, banks.bin_prefixes, banks.active)
                 IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.bin_prefixes, true)
         RETURNING code`,
        { bind: [b.bankCode, b.bankName, b.binPrefixes], type: QueryTypes.SELECT, transaction },
      );
      changed += rows.length;
    }
    const gone = await sequelize.query<{ code: string }>(
      `UPDATE banks SET active = false, updated_at = now()
       WHERE active AND NOT (code = ANY($1::text[]))
       RETURNING code`,
      {
        bind: [[...banks.map((b) => b.bankCode), ...untouched]],
        type: QueryTypes.SELECT,
        transaction,
      },
    );
    const deactivated = gone.map((g) => g.code).sort();
    if (deactivated.length > 0)
      opts.logger?.info({ deactivated }, 'banks no longer listed by the partner deactivated');
    const gonePart = deactivated.length ? ` (${deactivated.join(', ')})` : '';
    return (
      `synced: ${banks.length} listed, ${changed} added or changed, ` +
      `${deactivated.length} deactivated${gonePart}, ${skipped.length} skipped`
    );
  });
}
