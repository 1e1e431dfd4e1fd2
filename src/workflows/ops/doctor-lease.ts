import { describePermission } from '../../cluster/permissions.ts';
import { errorMessage } from '../../errors.ts';
import { leaseAccessReview, leaseNamespace } from '../../leader/lease.ts';
import type { DoctorDeps, DoctorLine } from './doctor-lines.ts';

/** The Role and RoleBinding that let the replicas use their Lease. */
const LEASE_RBAC = 'deploy/overlays/ha/leader-election-rbac.yaml';
const AREA = 'leader election';

/**
 * With leader election on: whether Slipway's identity may read, renew and create its Lease, asked
 * with SelfSubjectAccessReviews on the Lease's cluster, in its namespace. Every replica needs all
 * three: without them none of them leads, and no scheduled job runs.
 */
export async function checkLease(deps: DoctorDeps): Promise<DoctorLine[]> {
  const election = deps.config.leaderElection;
  if (!election.enabled) return [];
  const namespace = leaseNamespace(election, deps.pod);
  const where = election.cluster === undefined ? 'the cluster the pods run in' : `cluster ${election.cluster}`;
  if (election.cluster === undefined && !deps.pod.inCluster) {
    return [
      {
        area: AREA,
        check: 'Lease RBAC',
        verdict: 'warn',
        detail: `the Lease is on the cluster Slipway's pods run in (leaderElection.cluster is not set), which doctor does not reach from outside a pod: run it in one (kubectl -n ${namespace} exec deploy/slipway -- node --import tsx src/cli.ts doctor) or set leaderElection.cluster`,
      },
    ];
  }
  const lease = election.leaseName;
  const needed = [
    { verb: 'get', name: lease, why: 'read the Lease' },
    { verb: 'update', name: lease, why: 'renew the Lease, and take it over from a leader that stopped renewing' },
    { verb: 'create', name: undefined, why: 'create the Lease when there is none yet' },
  ];
  let canI: Awaited<ReturnType<typeof leaseAccessReview>>;
  try {
    canI = await leaseAccessReview(deps.config);
  } catch (err) {
    return [{ area: AREA, check: 'Lease RBAC', verdict: 'fail', detail: `could not reach ${where}: ${errorMessage(err)}` }];
  }
  const lines: DoctorLine[] = [];
  for (const permission of needed) {
    const asked = { ...permission, resource: 'leases', group: 'coordination.k8s.io' };
    const what = `${describePermission(asked)} in namespace ${namespace}`;
    try {
      if (await canI({ verb: permission.verb, namespace, name: permission.name })) continue;
      // The Role names the default Lease; another leaseName must be listed there too.
      const renamed = permission.name !== undefined && lease !== 'slipway-leader' ? ` (it grants slipway-leader: name ${lease} there)` : '';
      lines.push({ area: AREA, check: 'Lease RBAC', verdict: 'fail', detail: `missing: ${what} (to ${permission.why}); see ${LEASE_RBAC}${renamed}` });
    } catch (err) {
      lines.push({ area: AREA, check: 'Lease RBAC', verdict: 'fail', detail: `could not check ${what}: ${errorMessage(err)}` });
    }
  }
  if (lines.length > 0) return lines;
  return [{ area: AREA, check: 'Lease RBAC', verdict: 'ok', detail: `may read, renew and create Lease ${namespace}/${lease} on ${where}` }];
}
