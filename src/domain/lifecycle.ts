/** Day 2: what a ready namespace is after provisioning, shared by workflows, builders and the store. */

import type { NamespaceRequest } from './requests.ts';

export type NamespaceLifeState = 'active' | 'expired' | 'deleting' | 'deleted';

/** A namespace Slipway made, as its owner sees it: the request that made it and its life since. */
export interface ManagedNamespace {
  request: NamespaceRequest;
  /** Its size today: the request's tier, or the one a change has given it since. */
  tier: string;
  owner: string;
  /** YYYY-MM-DD, the last day; undefined when it has no end date. */
  expiresOn: string | undefined;
  state: NamespaceLifeState;
  /** Set by the final notice: deletion begins after this instant unless extended. */
  graceUntil: string | undefined;
  deletedAt: string | undefined;
}

export type TimerKind = 'reminder' | 'expiry' | 'grace_end';

/** One thing due at a time for one namespace (see db/0008_lifecycle.sql). */
export interface LifecycleTimer {
  id: number;
  requestId: number;
  kind: TimerKind;
  daysBefore: number | undefined;
  dueAt: string;
  attempts: number;
}

export type LifecycleRequestKind = 'extend' | 'delete' | 'change';
export type LifecycleRequestStatus = 'pending' | 'approved' | 'denied' | 'withdrawn';

/** An extension beyond policy or a deletion that needs an approver, decided in the request's thread. */
export interface LifecycleRequest {
  id: number;
  requestId: number;
  kind: LifecycleRequestKind;
  requestedBy: string;
  /** extend: the expiry date asked for. */
  expiresOn: string | undefined;
  reason: string | undefined;
  status: LifecycleRequestStatus;
  decidedBy: string | undefined;
  decidedAt: string | undefined;
  message: { channel: string; ts: string } | undefined;
  createdAt: string;
  /** change: the namespace's settings asked for. */
  change?: NamespaceSettings | undefined;
}

/** What the usage snapshots say about one namespace (by its request): running now, or since when not. */
export interface NamespaceUsage {
  requestId: number;
  runningPods: number;
  /** When the latest snapshot was taken: the namespace has been in that state since. */
  since: string;
  /** When pods were last seen running (the latest snapshot with pods); undefined when never. */
  lastRunningAt: string | undefined;
}

/**
 * Extra access to a namespace for another configured team: its group bound with the owning
 * team's ClusterRole (`edit`, the same access), or with the read-only `view` ClusterRole.
 */
export interface ExtraAccess {
  team: string;
  role: 'edit' | 'view';
}

/** What `/platform change` edits: a namespace's settings as they are today, or as asked for. */
export interface NamespaceSettings {
  tier: string;
  /** YYYY-MM-DD, the last day; undefined when it has no end date. */
  expiresOn: string | undefined;
  purpose: string;
  access: readonly ExtraAccess[];
}

/** The change form as submitted, before it is checked. */
export interface ChangeFields {
  tier: string | undefined;
  purpose: string | undefined;
  expiresOn: string | undefined;
  /** Teams given the owning team's role, and teams given `view`. */
  edit: readonly string[];
  view: readonly string[];
}
