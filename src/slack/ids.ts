/**
 * Ids that live in posted messages and opened views. Changing one breaks the buttons of messages
 * already in Slack, so they are stable snake_case strings.
 */
export const CALLBACK = {
  newNamespace: 'new_namespace',
  denyReason: 'deny_reason',
} as const;

export const BLOCK = {
  name: 'ns_name',
  team: 'ns_team',
  environment: 'ns_environment',
  cluster: 'ns_cluster',
  tier: 'ns_tier',
  purpose: 'ns_purpose',
  expiry: 'ns_expiry',
  denyReason: 'deny_reason',
  decision: 'request_decision',
} as const;

export const ACTION = {
  /** The one input element inside each input block. */
  input: 'value',
  approve: 'request_approve',
  deny: 'request_deny',
  retry: 'run_retry',
} as const;

/** Limits of free-text fields, checked in the modal and again on submission. */
export const LIMITS = {
  purpose: 500,
  denyReason: 500,
  name: 63,
} as const;
