import type { WebClient } from '@slack/web-api';
import type { KubeClusters } from '../../cluster/client.ts';
import type { Config } from '../../config.ts';

/* What each area of `slipway doctor` gets and reports, shared by the modules that check one area. */

export type Verdict = 'ok' | 'fail' | 'warn';

export interface DoctorLine {
  area: string;
  check: string;
  verdict: Verdict;
  detail: string;
}

export interface DoctorDeps {
  config: Config;
  slack: WebClient;
  clusters: KubeClusters;
}
