/** Drift and fleet upgrades (src/workflows/drift/, src/store/drift.ts). */

/** The counts of one drift scan, kept for the weekly digest. */
export interface DriftScanRecord {
  at: string;
  namespaces: number;
  edited: number;
  outdated: number;
  summary: string;
}

export type UpgradeStatus = 'running' | 'failed' | 'done';

/** A fleet upgrade: the golden path re-applied to the outdated namespaces of one cluster. */
export interface Upgrade {
  id: number;
  cluster: string;
  status: UpgradeStatus;
  startedBy: string;
  startedAt: string;
  finishedAt: string | undefined;
  channel: string;
  /** The thread's first message, updated with the progress. */
  threadTs: string | undefined;
}

export type UpgradeItemStatus = 'pending' | 'running' | 'done' | 'failed';

/** One namespace of an upgrade. */
export interface UpgradeItem {
  requestId: number;
  position: number;
  status: UpgradeItemStatus;
  attempts: number;
  lastError: string | undefined;
}

/** How far an upgrade is, by item status. */
export type UpgradeCounts = Record<UpgradeItemStatus, number>;
