import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Prometheus metrics, served at `GET /metrics`. Labels carry only fixed vocabularies (step
 * names, outcomes, HTTP statuses, Slack error codes): never user text, ids or secrets.
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'slipway_' });
  const registers = [registry];
  return {
    registry,
    commandAcks: new Histogram({
      name: 'slipway_command_ack_seconds',
      help: 'Time from a /platform command reaching its listener to its acknowledgement',
      labelNames: ['subcommand'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    requests: new Counter({
      name: 'slipway_requests_total',
      help: 'Namespace requests by outcome (submitted, auto_approved, approved, denied, ready, failed)',
      labelNames: ['outcome'],
      registers,
    }),
    stepDuration: new Histogram({
      name: 'slipway_step_duration_seconds',
      help: 'Duration of successful provisioning steps, retries included',
      labelNames: ['step'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    stepFailures: new Counter({
      name: 'slipway_step_failures_total',
      help: 'Failed provisioning step attempts by step and cause (HTTP status, timeout or network)',
      labelNames: ['step', 'cause'],
      registers,
    }),
    slackErrors: new Counter({
      name: 'slipway_slack_api_errors_total',
      help: 'Slack Web API calls that failed, by method and error code',
      labelNames: ['method', 'error'],
      registers,
    }),
    slackRateLimited: new Counter({
      name: 'slipway_slack_rate_limited_total',
      help: 'HTTP 429 answers from Slack (waited out while the call can still succeed)',
      registers,
    }),
    kubernetesErrors: new Counter({
      name: 'slipway_kubernetes_api_errors_total',
      help: 'Kubernetes API calls that failed, by HTTP status (0 for network errors and timeouts)',
      labelNames: ['status'],
      registers,
    }),
    surveyAnswers: new Counter({
      name: 'slipway_survey_answers_total',
      help: 'Survey answers recorded (changes included), by survey: pulse or post_provisioning. Never by person or score',
      labelNames: ['survey'],
      registers,
    }),
    feedbackPosted: new Counter({
      name: 'slipway_feedback_posted_total',
      help: 'Feedback items posted to the platform channel, by source: pulse, provisioning or command',
      labelNames: ['source'],
      registers,
    }),
    jobRuns: new Counter({
      name: 'slipway_job_runs_total',
      help: 'Scheduled job runs by job and outcome',
      labelNames: ['job', 'outcome'],
      registers,
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
