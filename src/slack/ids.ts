/**
 * Ids that live in posted messages and opened views. Changing one breaks the buttons of messages
 * already in Slack, so they are stable snake_case strings.
 */
export const CALLBACK = {
  newNamespace: 'new_namespace',
  denyReason: 'deny_reason',
  /** The typed-name confirmation of a deletion (src/slack/lifecycle/delete.ts). */
  deleteNamespace: 'delete_namespace',
  /** The request form opened to change a namespace (src/slack/provisioning/new-namespace-modal.ts). */
  changeNamespace: 'change_namespace',
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
  deleteConfirm: 'delete_confirm',
  deleteReason: 'delete_reason',
  /** Other teams given the owning team's access (edit) or read-only access (view) in a change. */
  accessEdit: 'ns_access_edit',
  accessView: 'ns_access_view',
} as const;

export const ACTION = {
  /** The one input element inside each input block. */
  input: 'value',
  approve: 'request_approve',
  deny: 'request_deny',
  retry: 'run_retry',
  /** Approve / Deny on a deletion request in the original request's thread; the value is its id. */
  approveDelete: 'delete_approve',
  denyDelete: 'delete_deny',
} as const;

/**
 * Day 2 (src/slack/lifecycle/). Extend buttons carry `{ requestId, days, from }` (the end date the
 * message was about), extension decisions the lifecycle request's id. Delete buttons are
 * `HOME.delete` (one id wherever they are: Home, reminders, the approvers' thread).
 */
export const LIFECYCLE = {
  extend: 'namespace_extend',
  extensionApprove: 'extension_approve',
  extensionDeny: 'extension_deny',
} as const;

/** Idle reclaim (src/slack/lifecycle/idle.ts): Keep it and Not mine (value: the conversation's id). Delete it is `HOME.delete`. */
export const IDLE = {
  keep: 'idle_keep',
  notMine: 'idle_not_mine',
} as const;

/** A change to a namespace, decided in the original request's thread (value: the change request's id). */
export const CHANGE = {
  approve: 'change_approve',
  deny: 'change_deny',
} as const;

/** Limits of free-text fields, checked in the modal and again on submission. */
export const LIMITS = {
  purpose: 500,
  denyReason: 500,
  deleteReason: 500,
  name: 63,
} as const;

/** Surveys and feedback (src/slack/survey*.ts). Buttons of a scale end in `_1` … `_5`. */
export const SURVEY = {
  pulseAnswer: 'pulse_answer',
  pulseComment: 'pulse_comment',
  readyAnswer: 'ready_answer',
  readyComment: 'ready_comment',
  /** The comment modal of a pulse or of the question after provisioning. */
  commentModal: 'survey_comment',
  commentText: 'survey_comment_text',
  /** `/platform feedback`'s modal. */
  feedbackModal: 'platform_feedback',
  feedbackText: 'feedback_text',
  feedbackAnonymous: 'feedback_anonymous',
  /** "Mark done" on a comment in the platform channel, and its modal. */
  markDone: 'feedback_mark_done',
  doneModal: 'feedback_done',
  doneText: 'feedback_done_text',
} as const;

/** Limits of survey free text, checked in the modal and again on submission. */
export const SURVEY_LIMITS = {
  comment: 1000,
  doneText: 500,
} as const;

/**
 * The Home tab and `/platform list` (src/slack/lifecycle/home.ts). Extend and Delete are the
 * lifecycle feature's buttons, read by its handlers wherever they are (reminders, Home): Extend is
 * `namespace_extend_<days>` with `{ requestId, days, from }` (the end date shown) as its value,
 * Delete `namespace_delete` with the request id. Details carries the request id too.
 */
export const HOME = {
  extend: LIFECYCLE.extend,
  delete: 'namespace_delete',
  /** Opens the change form of a namespace (value: the request id). */
  change: 'namespace_change',
  details: 'lifecycle_details',
  /** The details modal. */
  detailsModal: 'lifecycle_details_modal',
  /** The next or previous page of namespaces (value: the offset). */
  page: 'home_page',
  /** Approve and Deny on a request waiting for the approver (value: the request id). */
  approve: 'home_approve',
  deny: 'home_deny',
  /** Approve and Deny on an extension or deletion ask waiting for the approver (value: the ask's id). */
  approveAsk: 'home_ask_approve',
  denyAsk: 'home_ask_deny',
  /** Opens the request form. */
  request: 'home_request_namespace',
  /** `/platform list`: another page of the answer (value: the query and offset, as JSON). */
  listPage: 'list_page',
} as const;

/**
 * Drift (src/slack/drift/): Re-apply on a namespace of the report and its Confirm (value: the
 * request id), Upgrade all N outdated per cluster (value: the cluster's name), Resume in a stopped
 * upgrade's thread (value: the upgrade's id).
 */
export const DRIFT = {
  reapply: 'drift_reapply',
  reapplyConfirm: 'drift_reapply_confirm',
  upgrade: 'drift_upgrade',
  resume: 'drift_upgrade_resume',
} as const;
