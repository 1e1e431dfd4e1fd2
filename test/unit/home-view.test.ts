import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LifecycleRequest, ManagedNamespace } from '../../src/domain/lifecycle.ts';
import type { NamespaceRequest } from '../../src/domain/requests.ts';
import { HOME_PAGE_SIZE, homeView, LIST_PAGE_SIZE, namespaceList, type NamespaceLine } from '../../src/slack/lifecycle/home.ts';
import { validateMessageBlocks, validateView } from '../../src/playground/slack-api.ts';

const LONG = 'x'.repeat(5000);

function request(id: number, overrides: Partial<NamespaceRequest> = {}): NamespaceRequest {
  return {
    id,
    namespace: `a-rather-long-namespace-name-for-the-layout-${String(id).padStart(5, '0')}`.slice(0, 63),
    cluster: 'dev-eu',
    team: 'payments',
    environment: 'staging',
    tier: 'medium',
    purpose: LONG,
    expiresOn: '2027-01-31',
    requester: 'U0DEV',
    status: 'ready',
    autoApproved: false,
    decidedBy: 'U0ALICE',
    decidedAt: '2026-12-01T09:00:00Z',
    decisionReason: undefined,
    card: undefined,
    createdAt: '2026-11-01T09:00:00Z',
    ...overrides,
  };
}

function line(id: number): NamespaceLine {
  const namespace: ManagedNamespace = {
    request: request(id),
    tier: 'medium',
    owner: 'U0DEV',
    expiresOn: '2027-01-31',
    state: id % 3 === 0 ? 'expired' : 'active',
    graceUntil: id % 3 === 0 ? '2026-12-05T10:00:00Z' : undefined,
    deletedAt: undefined,
  };
  return {
    namespace,
    clusterName: `Cluster ${LONG}`.slice(0, 200),
    teamName: 'Payments',
    usage: { requestId: id, runningPods: id % 2, since: '2026-12-01T00:00:00Z', lastRunningAt: undefined },
    // The longest line: every kind of ask waiting.
    waiting: ['change', 'extend', 'delete'],
  };
}

const lifecycleRequest = (id: number): LifecycleRequest => ({
  id,
  requestId: id,
  kind: id % 2 === 0 ? 'extend' : 'delete',
  requestedBy: 'U0MALLORY',
  expiresOn: '2027-06-30',
  reason: LONG,
  status: 'pending',
  decidedBy: undefined,
  decidedAt: undefined,
  message: undefined,
  createdAt: '2026-12-01T09:00:00Z',
});

test('the fullest Home an approver can get (a middle page of 200 namespaces, open requests, the whole queue) is a valid Home tab', async () => {
  const view = homeView({
    user: 'U0ALICE',
    today: '2026-12-04',
    namespaces: { lines: Array.from({ length: HOME_PAGE_SIZE }, (_, i) => line(100 + i)), offset: 100, total: 200, pageSize: HOME_PAGE_SIZE },
    openRequests: Array.from({ length: 6 }, (_, i) => request(300 + i, { status: 'pending' })),
    approvals: {
      requests: Array.from({ length: 8 }, (_, i) => request(400 + i, { status: 'pending' })),
      total: 40,
      lifecycle: Array.from({ length: 5 }, (_, i) => ({ request: lifecycleRequest(500 + i), namespace: request(500 + i) })),
    },
  });
  assert.deepEqual(validateView(view, 'home'), []);
  assert.ok(view.blocks.length <= 100, `${view.blocks.length} blocks`);
});

test('a page of /platform list is a valid message whatever the names', async () => {
  const message = namespaceList(
    { kind: 'all' },
    { lines: Array.from({ length: LIST_PAGE_SIZE }, (_, i) => line(i + 1)), offset: 20, total: 200, pageSize: LIST_PAGE_SIZE },
    '2026-12-04',
    String,
  );
  assert.deepEqual(validateMessageBlocks(message.blocks), []);
});
