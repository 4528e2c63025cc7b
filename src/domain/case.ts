import type { CaseStatus } from './statuses';

/** A case as its writer locked it; `status` follows the changes made in the transaction. */
export interface LockedCase {
  id: string;
  status: CaseStatus;
  currency: string;
  balanceMinor: bigint;
}
