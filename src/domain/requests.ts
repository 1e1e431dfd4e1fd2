/** Domain types shared by workflows, Block Kit builders and the store. */

export type RequestStatus = 'pending' | 'approved' | 'denied' | 'ready' | 'failed';

export interface RequestInput {
  namespace: string;
  cluster: string;
  team: string;
  environment: string;
  tier: string;
  purpose: string;
  /** ISO date (YYYY-MM-DD) after which the namespace may be cleaned up. */
  expiresOn: string | undefined;
  requester: string;
}

export interface NamespaceRequest extends RequestInput {
  id: number;
  status: RequestStatus;
  autoApproved: boolean;
  decidedBy: string | undefined;
  decidedAt: string | undefined;
  decisionReason: string | undefined;
  card: { channel: string; ts: string } | undefined;
  createdAt: string;
}

export type RunStatus = 'running' | 'done' | 'failed';
export type StepStatus = 'pending' | 'running' | 'done' | 'failed';

export interface RunStep {
  position: number;
  name: string;
  status: StepStatus;
  attempts: number;
  lastError: string | undefined;
}

/** What a durable run does to its request's namespace: make it, delete it, or change its settings. */
export type RunKind = 'provision' | 'delete' | 'change';

export interface Run {
  id: number;
  requestId: number;
  kind: RunKind;
  status: RunStatus;
  progressTs: string | undefined;
  steps: RunStep[];
}

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** The id people see and type: `R-42`. Also a valid Kubernetes label value. */
export function requestRef(id: number): string {
  return `R-${id}`;
}

/** Where a button click came from: answers to it go to the clicker, in that channel, ephemerally. */
export interface Click {
  user: string;
  channel: string;
}

/** Accepts `R-42`, `r-42`, `#42` or `42`. */
export function parseRequestRef(text: string): number | undefined {
  const match = /^(?:r-|#)?(\d+)$/i.exec(text.trim());
  return match ? Number(match[1]) : undefined;
}

/** What the request form holds, before validation. */
export interface RequestFields {
  name?: string | undefined;
  team?: string | undefined;
  environment?: string | undefined;
  cluster?: string | undefined;
  tier?: string | undefined;
  purpose?: string | undefined;
  expiresOn?: string | undefined;
}
