import { QueryTypes } from 'sequelize';
import { now } from '../../lib/clock';
import type { TxOptions } from '../../lib/db';
import { toIdr } from '../../lib/money';
import { Asset } from '../assets/asset.model';
import { AssetStatus, assetMachine } from '../assets/asset.states';
import { CreditNoteStatus, creditNoteMachine } from './credit-note.states';

/** Principal one asset gets back. */
export interface PrincipalBack {
  assetId: string;
  principal: bigint;
}

/**
 * Assets give principal back (a repayment cleared; the caller holds the loan row): each asset's
 * amount falls by what it got back and an asset left with nothing is repaid; notes that no
 * longer fit in what their asset still holds close, newest first (orders in flight on them fail
 * at their next step and their buyers' money is released); maxTradableAmount becomes what the
 * asset holds minus what its open notes still offer. Set-based: one read and two writes
 * whatever the number of holders.
 */
export async function shrinkHoldings(
  loanId: string,
  back: PrincipalBack[],
  { transaction }: TxOptions,
): Promise<void> {
  const moved = back.filter((b) => b.principal > 0n);
  if (moved.length === 0) return;
  const sequelize = Asset.sequelize!;
  const ids = moved.map((b) => b.assetId);
  const amounts = moved.map((b) => b.principal.toString());
  const notes = await sequelize.query<{
    id: string;
    asset_id: string;
    unsold: string;
    held: string;
  }>(
    `SELECT n.id, n.asset_id, (n.amount - n.traded_amount)::text AS unsold,
            (a.principal - b.back)::text AS held
       FROM credit_notes n
       JOIN unnest($2::bigint[], $3::bigint[]) AS b(asset_id, back) ON b.asset_id = n.asset_id
       JOIN assets a ON a.id = n.asset_id
      WHERE n.loan_id = $1 AND n.status = 'open'
      ORDER BY n.asset_id, n.id DESC
        FOR NO KEY UPDATE OF n`,
    { bind: [loanId, ids, amounts], type: QueryTypes.SELECT, transaction },
  );
  const offered = new Map<string, bigint>();
  for (const n of notes) offered.set(n.asset_id, (offered.get(n.asset_id) ?? 0n) + toIdr(n.unsold));
  const closing: string[] = [];
  for (const n of notes) {
    const total = offered.get(n.asset_id)!;
    if (total <= toIdr(n.held)) continue;
    closing.push(n.id);
    offered.set(n.asset_id, total - toIdr(n.unsold));
  }
  if (closing.length > 0)
    await sequelize.query(
      `UPDATE credit_notes SET status = $3, closed_at = $2, updated_at = $2
        WHERE id = ANY($1::bigint[]) AND status = ANY($4::text[])`,
      {
        bind: [
          closing,
          now(),
          CreditNoteStatus.Withdrawn,
          creditNoteMachine.sourcesOf(CreditNoteStatus.Withdrawn),
        ],
        transaction,
      },
    );
  // What still sits on open notes (every open note of these assets was read and locked above).
  await sequelize.query(
    `UPDATE assets a
        SET principal = a.principal - b.back,
            max_tradable_amount = a.principal - b.back - b.offered,
            status = CASE WHEN a.principal = b.back AND a.status = ANY($5::text[]) THEN $6 ELSE a.status END,
            updated_at = $4
       FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS b(asset_id, back, offered)
      WHERE a.id = b.asset_id`,
    {
      bind: [
        ids,
        amounts,
        ids.map((id) => (offered.get(id) ?? 0n).toString()),
        now(),
        assetMachine.sourcesOf(AssetStatus.Repaid),
        AssetStatus.Repaid,
      ],
      transaction,
    },
  );
}
