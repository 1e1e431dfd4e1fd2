import type { Hooks } from './deps.ts';
import { provisioningRuns } from './workflows/provisioning/provision.ts';
import { deletionRuns } from './workflows/lifecycle/delete.ts';
import { withProvisioningQuestion } from './workflows/surveys/post-provisioning.ts';
import { refreshHomeFor } from './workflows/lifecycle/home.ts';

/**
 * How the features hook into each other, wired once for the bot and the CLI. Provisioning
 * announces a ready namespace without knowing about surveys; the survey adds its question here.
 */
export const featureHooks: Hooks = {
  onNamespaceReady: withProvisioningQuestion,
  runKinds: { provision: provisioningRuns, delete: deletionRuns },
  // The owner's Home tab shows the namespace as it is now.
  namespaceChanged: [refreshHomeFor],
};
