/** Idle reclaim: one conversation about a namespace that runs no pods (db/0009_idle_reclaim.sql). */

export type IdleStage = 'asked' | 'team_told' | 'kept' | 'deleting' | 'approvers' | 'ended';

export interface IdleAsk {
  id: number;
  requestId: number;
  /** When its latest usage snapshot without running pods was taken. */
  idleSince: string;
  askedAt: string;
  /** Who the DM was for (the owner then), and where it went: to them, or their team once they left. */
  askedUser: string;
  askedTo: 'owner' | 'team';
  stage: IdleStage;
  /** When the next step of an open conversation is due; undefined once it is closed. */
  nextAt: string | undefined;
  teamToldAt: string | undefined;
  notMine: boolean;
  quietUntil: string | undefined;
  closedAt: string | undefined;
  closedBy: string | undefined;
}

/** A namespace whose latest usage snapshot shows no running pods, with nothing open about it. */
export interface IdleCandidate {
  requestId: number;
  idleSince: string;
}
