import type { Deps } from '../../deps.ts';
import { driftMessage, driftRefused } from '../../slack/drift/report.ts';
import type { SlackMessage } from '../../slack/text.ts';
import { isApprover } from '../provisioning/approvers.ts';
import { scanDrift } from './scan.ts';

/** `/platform drift [namespace]`: the drift report, for approvers only. */
export async function driftForApprover(deps: Deps, user: string, command: string, args: string): Promise<SlackMessage> {
  if (!(await isApprover(deps, user))) return driftRefused(command);
  const namespace = args.trim().split(/\s+/)[0] || undefined;
  return driftMessage(await scanDrift(deps, { namespace }), { upgrades: namespace === undefined });
}
