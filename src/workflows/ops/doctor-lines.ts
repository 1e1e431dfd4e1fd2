import type { WebClient } from '@slack/web-api';
import type { KubeClusters } from '../../cluster/client.ts';
import type { Config } from '../../config.ts';
import type { PodEnv } from '../../leader/lease.ts';

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
  /** The database Slipway uses: DATABASE_URL, else the DATABASE_PATH file. */
  database: string;
  /** Where doctor runs: the pod's namespace (POD_NAMESPACE), and whether it is in a pod at all (KUBERNETES_SERVICE_HOST). */
  pod: PodEnv & { inCluster: boolean };
}
