import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { parseConfig, type Config } from '../../src/config.ts';

export const EXAMPLE_CONFIG_PATH = new URL('../../slipway.config.example.yaml', import.meta.url).pathname;

/** The example config as parsed YAML, for tests that change a field before validating. */
export function exampleConfigDocument(): Record<string, unknown> {
  return parse(readFileSync(EXAMPLE_CONFIG_PATH, 'utf8')) as Record<string, unknown>;
}

/** The documented example config, with its cluster pointed at a test kubeconfig when given. */
export function exampleConfig(kubeconfig?: { path: string; context: string }): Config {
  const doc = exampleConfigDocument();
  if (kubeconfig) {
    const clusters = doc.clusters as Record<string, unknown>[];
    clusters[0] = { ...clusters[0], path: kubeconfig.path, context: kubeconfig.context };
  }
  return parseConfig(doc, EXAMPLE_CONFIG_PATH);
}

/** The example config's `medium` tier quota as a ResourceQuota's `spec.hard` says it on the wire. */
export const MEDIUM_QUOTA = {
  'requests.cpu': '4',
  'requests.memory': '8Gi',
  'limits.cpu': '8',
  'limits.memory': '16Gi',
  pods: '50',
  persistentvolumeclaims: '10',
  'services.loadbalancers': '0',
};
