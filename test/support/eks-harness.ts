import { DescribeClusterCommand, type EKSClient } from '@aws-sdk/client-eks';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import { KubeClusters } from '../../src/cluster/client.ts';
import { EksCluster } from '../../src/cluster/eks/cluster.ts';
import { presignEksToken, type AwsCredentialIdentity } from '../../src/cluster/eks/token.ts';
import { KubeApiEmulator } from '../../src/playground/kube-api.ts';
import { startHarness } from './harness.ts';
import { selfSignedCert } from './tls.ts';

/** The payments team's IAM role and the access policy it gets on EKS clusters. */
export const ROLE = 'arn:aws:iam::123456789012:role/payments-developers';
export const EDIT = 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy';
export const credentials: AwsCredentialIdentity = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
/** The clock the EKS token is signed with (and checked against). */
export const clock = { now: () => new Date('2026-11-26T10:00:00Z') };

/**
 * The bot with one EKS cluster, `prod-eu`, whose API server is the kube emulator over TLS,
 * requiring the token Slipway signs; the payments team has an IAM role. EKS itself is `eks`, the
 * test's aws-sdk-client-mock stub (DescribeCluster is answered here). With `alsoDevEu`, the
 * kubeconfig cluster `dev-eu` stays configured beside it.
 */
export async function startEksHarness(t: Parameters<typeof startHarness>[0], eks: AwsClientStub<EKSClient>, options: { alsoDevEu?: boolean } = {}) {
  const tls = await selfSignedCert();
  const { token } = await presignEksToken({ clusterName: 'prod-eu', region: 'eu-west-1', credentials, now: clock.now() });
  const apiServer = await KubeApiEmulator.start({ tls, token });
  t.after(() => apiServer.close());
  eks.on(DescribeClusterCommand, { name: 'prod-eu' }).resolves({
    cluster: {
      name: 'prod-eu',
      status: 'ACTIVE',
      endpoint: apiServer.url,
      certificateAuthority: { data: Buffer.from(tls.cert).toString('base64') },
      accessConfig: { authenticationMode: 'API' },
    },
  });
  const h = await startHarness(t, {
    configure: (doc) => {
      const prod = { name: 'prod-eu', displayName: 'Production (eu-west-1)', type: 'eks', region: 'eu-west-1', clusterName: 'prod-eu' };
      // With `alsoDevEu`, the harness's own cluster (the kube emulator `h.kube`) stays too.
      doc.clusters = [prod, ...(options.alsoDevEu ? (doc.clusters as unknown[]).slice(0, 1) : [])];
      const teams = doc.teams as Record<string, unknown>[];
      teams[0] = { ...teams[0], iamRoleArn: ROLE };
    },
    clusters: (config) =>
      new KubeClusters(config, {
        eks: (c) => new EksCluster({ clusterName: c.clusterName, region: c.region, credentials: async () => credentials, clock }),
      }),
  });
  return { h, apiServer };
}
