import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

const ROOT = new URL('../..', import.meta.url).pathname;

/** The overlays in deploy/overlays/. */
export const OVERLAYS = ['single', 'ha'] as const;
export type Overlay = (typeof OVERLAYS)[number];

/** kubectl, or the one named by KUBECTL (e.g. an older one, to check its kustomize too). */
export const KUBECTL = process.env.KUBECTL ?? 'kubectl';

export type KubeObject = Record<string, unknown> & { kind: string; apiVersion: string; metadata: { name: string; namespace?: string } };

/** What `kubectl kustomize deploy/overlays/<overlay>` renders, as objects. */
export function renderOverlay(overlay: Overlay): KubeObject[] {
  // Newer kustomize warns (on stderr) about the fields kept for kustomize v2; only stdout is the render.
  const yaml = execFileSync(KUBECTL, ['kustomize', join(ROOT, 'deploy', 'overlays', overlay)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return parseAllDocuments(yaml)
    .map((d) => d.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => o !== null);
}
