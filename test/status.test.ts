import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ACTION, BLOCK } from '../src/slack/ids.ts';
import { APPROVALS, PEOPLE, readable, startHarness, type Harness } from './support/harness.ts';

const TEAMMATE = 'U0TEAMMATE';
const GUEST = 'U0GUEST';

async function request(h: Harness, environment: string, ref: string) {
  const opened = h.slack.views.length;
  await h.command(PEOPLE.dev, 'new-namespace');
  const view = await h.waitFor('the form', () => h.slack.views[opened]?.view);
  await h.submit(
    PEOPLE.dev,
    { [BLOCK.team]: 'payments', [BLOCK.environment]: environment, [BLOCK.cluster]: 'dev-eu', [BLOCK.tier]: 'medium', [BLOCK.purpose]: 'Checkout load tests' },
    { view },
  );
  return h.waitFor(`the card of ${ref}`, () => h.slack.messages(APPROVALS).find((m) => m.text.includes(`${ref}:`)));
}

/** What `user` reads after `/platform status <query>`, answered privately through response_url. */
async function statusAs(h: Harness, user: string, query: string): Promise<string> {
  const before = h.slack.ephemerals(user).length;
  const reply = await h.command(user, `status ${query}`);
  assert.equal(reply.status, 200);
  const answer = await h.waitFor(`the status for ${user}`, () =>
    h.slack
      .ephemerals(user)
      .slice(before)
      .find((e) => e.via === 'response_url'),
  );
  return readable(answer);
}

test('/platform status shows a request in full to its requester, team and approvers, and only its state to others', async (t) => {
  const h = await startHarness(t, {
    configure: (doc) => {
      const teams = doc.teams as Record<string, unknown>[];
      teams[0] = { ...teams[0], slackUserGroup: 'S0PAYMENTS' };
    },
    users: [
      { id: TEAMMATE, name: 'teammate' },
      { id: GUEST, name: 'guest' },
    ],
    userGroups: [{ id: 'S0PAYMENTS', handle: 'payments-team', users: [PEOPLE.dev, TEAMMATE] }],
  });

  // R-1 fails on a Kubernetes permission; R-2 is denied with a reason.
  const failing = await request(h, 'staging', 'R-1');
  h.kube.deny({ verb: ['create', 'patch'], resource: 'rolebindings', group: 'rbac.authorization.k8s.io' });
  await h.click(PEOPLE.alice, failing, ACTION.approve);
  await h.waitFor('the failed run', async () => (await h.slipway.deps.store.getRequest(1))?.status === 'failed');
  const denied = await request(h, 'prod', 'R-2');
  await h.click(PEOPLE.bob, denied, ACTION.deny);
  const modal = await h.waitFor('the deny modal', () => h.slack.views.find((v) => v.view.callback_id === 'deny_reason')?.view);
  await h.submit(PEOPLE.bob, { [BLOCK.denyReason]: 'Prod needs a design review first' }, { view: modal });
  await h.waitFor('the denial', async () => (await h.slipway.deps.store.getRequest(2))?.status === 'denied');

  // The requester, a teammate (the team's user group), an approver by id and one by user group.
  for (const user of [PEOPLE.dev, TEAMMATE, PEOPLE.alice, PEOPLE.carol]) {
    const failed = await statusAs(h, user, 'R-1');
    assert.match(failed, /Requested by <@U0DEV> for payments/, user);
    assert.match(failed, /role-binding\*: failed/, user);
    assert.match(failed, /not allowed to apply RoleBinding/, `${user} sees the Kubernetes error`);
    assert.match(await statusAs(h, user, 'R-2'), /Denied by <@U0BOB>: Prod needs a design review first/, user);
  }

  // Anyone else (another developer, a guest): id, namespace and state, nothing more.
  for (const user of [PEOPLE.mallory, GUEST]) {
    const failed = await statusAs(h, user, 'R-1');
    assert.match(failed, /\*R-1\* · namespace `payments-staging` · ⚠️ provisioning failed/, user);
    const denial = await statusAs(h, user, 'payments-prod');
    assert.match(denial, /\*R-2\* · namespace `payments-prod` · ❌ denied/, user);
    for (const text of [failed, denial]) {
      for (const secret of ['U0DEV', 'U0BOB', 'U0ALICE', 'RoleBinding', 'forbidden', 'design review', 'Checkout load tests', 'role-binding']) {
        assert.ok(!text.includes(secret), `${user} does not see ${secret}:\n${text}`);
      }
    }
  }
});
