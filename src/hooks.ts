import type { Hooks } from './deps.ts';
import { provisioningRuns } from './workflows/provisioning/provision.ts';
import { deletionRuns } from './workflows/lifecycle/delete.ts';
import { changeRuns } from './workflows/lifecycle/change.ts';
import { withProvisioningQuestion } from './workflows/surveys/post-provisioning.ts';
import { scheduleTimers } from './workflows/lifecycle/timers.ts';
import { refreshHomeFor } from './workflows/lifecycle/home.ts';

/**
 * How the features hook into each other, wired once for the bot and the CLI. Provisioning
 * announces a ready namespace without knowing about surveys; the survey adds its question here.
 */
export const featureHooks: Hooks = {
  onNamespaceReady: withProvisioningQuestion,
  runKinds: { provision: provisioningRuns, delete: deletionRuns, change: changeRuns },
  // A namespace that became ready gets its reminders and end-of-life timers; its owner's Home
  // tab shows it as it is now.
  namespaceChanged: [scheduleTimers, refreshHomeFor],
};
