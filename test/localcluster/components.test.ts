import { describe, expect, it } from 'vitest';
import { describeBuildFailure } from '../../src/localcluster/binaries.ts';
import { plannedSteps, resolveOptions } from '../../src/localcluster/cluster.ts';
import {
  apiserverCommand,
  type ComponentFiles,
  type ComponentPorts,
  controllerManagerCommand,
  etcdCommand,
  kwokCommand,
  schedulerCommand,
} from '../../src/localcluster/components.ts';
import { LocalClusterError } from '../../src/localcluster/errors.ts';
import { kubeconfigYaml, newIdentities, tokenAuthFile } from '../../src/localcluster/identities.ts';
import { objectPath } from '../../src/localcluster/manifests.ts';
import { formatProgressLine } from '../../src/localcluster/progress.ts';

const ports: ComponentPorts = { etcdClient: 1001, etcdPeer: 1002, apiserver: 1003, controllerManager: 1004, scheduler: 1005, kwok: 1006 };
const files: ComponentFiles = {
  caCert: '/d/ca.crt',
  servingCert: '/d/apiserver.crt',
  servingKey: '/d/apiserver.key',
  saKey: '/d/sa.key',
  saPub: '/d/sa.pub',
  tokenAuthFile: '/d/tokens.csv',
  controllerManagerKubeconfig: '/d/kcm.kubeconfig',
  schedulerKubeconfig: '/d/sched.kubeconfig',
  kwokKubeconfig: '/d/kwok.kubeconfig',
  kwokStages: '/bin/kwok-stages.yaml',
};

describe('component command lines', () => {
  it('etcd: loopback URLs on the chosen ports, no fsync', () => {
    const c = etcdCommand('/bin', '/d', ports);
    expect(c.binary).toBe('/bin/etcd');
    expect(c.args).toContain('--listen-client-urls=http://127.0.0.1:1001');
    expect(c.args).toContain('--initial-cluster=local=http://127.0.0.1:1002');
    expect(c.args).toContain('--unsafe-no-fsync');
    expect(c.args).toContain('--data-dir=/d/etcd-data');
  });

  it('apiserver: the flags the recipe found required, watch cache and compaction only when asked', () => {
    const base = apiserverCommand('/bin', files, ports, { watchCache: true, etcdCompactionInterval: undefined, audit: undefined, extraArgs: [] });
    for (const flag of [
      '--endpoint-reconciler-type=none',
      '--client-ca-file=/d/ca.crt',
      '--shutdown-watch-termination-grace-period=2s',
      '--authorization-mode=Node,RBAC',
      '--secure-port=1003',
      '--etcd-servers=http://127.0.0.1:1001',
      '--token-auth-file=/d/tokens.csv',
    ]) {
      expect(base.args).toContain(flag);
    }
    expect(base.args.some((a) => a.startsWith('--watch-cache'))).toBe(false);
    expect(base.args.some((a) => a.startsWith('--etcd-compaction-interval'))).toBe(false);
    expect(base.args.some((a) => a.startsWith('--audit'))).toBe(false);
    const tuned = apiserverCommand('/bin', files, ports, {
      watchCache: false,
      etcdCompactionInterval: '2s',
      audit: { policyFile: '/d/audit.yaml', logFile: '/d/audit.jsonl' },
      extraArgs: ['--v=4'],
    });
    expect(tuned.args).toContain('--watch-cache=false');
    expect(tuned.args).toContain('--audit-log-path=/d/audit.jsonl');
    expect(tuned.args).toContain('--audit-log-mode=blocking');
    expect(tuned.args).toContain('--etcd-compaction-interval=2s');
    expect(tuned.args.at(-1)).toBe('--v=4');
  });

  it('controller-manager and scheduler: node-lifecycle controller and raised client QPS', () => {
    const kcm = controllerManagerCommand('/bin', files, ports);
    const controllers = kcm.args.find((a) => a.startsWith('--controllers='));
    expect(controllers).toContain('node-lifecycle-controller');
    expect(controllers).toContain('serviceaccount-controller');
    expect(kcm.args).toContain('--kube-api-qps=1000');
    const sched = schedulerCommand('/bin', files, ports);
    expect(sched.args).toContain('--kube-api-burst=2000');
    expect(sched.args).toContain('--secure-port=1005');
  });

  it('kwok: stages, pod CIDR outside the Service range', () => {
    const k = kwokCommand('/bin', files, ports);
    expect(k.args).toContain('--config=/bin/kwok-stages.yaml');
    expect(k.args).toContain('--cidr=10.244.0.0/16');
    expect(k.args).toContain('--server-address=127.0.0.1:1006');
  });
});

describe('identities and kubeconfigs', () => {
  it('tokens are distinct; the controller carries its ServiceAccount username and groups', () => {
    const ids = newIdentities();
    const tokens = Object.values(ids).map((i) => i.token);
    expect(new Set(tokens).size).toBe(tokens.length);
    expect(ids.controller.user).toBe('system:serviceaccount:kube-system:ovnkit');
    expect(ids.controller.groups).toEqual(['system:serviceaccounts', 'system:serviceaccounts:kube-system']);
    expect(ids.unprivileged.groups).toEqual([]);
    const csv = tokenAuthFile(ids);
    expect(csv).toContain(`${ids.admin.token},ovnkit-admin,ovnkit-admin,"system:masters"`);
    expect(csv).toContain(`${ids.unprivileged.token},ovnkit-unprivileged,ovnkit-unprivileged\n`);
  });

  it('a kubeconfig names the server, the CA file and the token', () => {
    const ids = newIdentities();
    const text = kubeconfigYaml({ server: 'https://127.0.0.1:9', caFile: '/d/ca.crt', identity: ids.controller });
    expect(text).toContain('server: https://127.0.0.1:9');
    expect(text).toContain('certificate-authority: /d/ca.crt');
    expect(text).toContain(`token: ${ids.controller.token}`);
  });
});

describe('options', () => {
  it('the full stack by default; apiserverOnly turns the optional parts off', () => {
    expect(plannedSteps({})).toEqual(['binaries', 'certificates', 'etcd', 'kube-apiserver', 'crds', 'rbac', 'kube-controller-manager', 'kube-scheduler', 'kwok', 'nodes', 'ovn-nb']);
    expect(plannedSteps({ apiserverOnly: true })).toEqual(['binaries', 'certificates', 'etcd', 'kube-apiserver', 'crds', 'rbac']);
    expect(plannedSteps({ apiserverOnly: true, nb: true, northd: true })).toContain('ovn-northd');
  });

  it('bad options are errors with a code, never silently coerced', () => {
    const bad: [object, RegExp][] = [
      [{ nodes: -1 }, /nodes/],
      [{ nodes: 1.5 }, /nodes/],
      [{ kwok: false, nodes: 2 }, /need kwok/],
      [{ nb: false, northd: true }, /needs the NB/],
      [{ etcdCompactionInterval: '2 seconds' }, /Go duration/],
      [{ nodez: 2 }, /unknown option/],
    ];
    for (const [opts, message] of bad) {
      try {
        resolveOptions(opts);
        expect.unreachable(JSON.stringify(opts));
      } catch (err) {
        expect(err).toBeInstanceOf(LocalClusterError);
        expect((err as LocalClusterError).code).toBe('BAD_OPTION');
        expect((err as Error).message).toMatch(message);
      }
    }
  });
});

describe('small pure helpers', () => {
  it('maps manifest kinds to REST paths and refuses unknown kinds', () => {
    expect(objectPath({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'subnets.kubeovn.io' } })).toBe(
      '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/subnets.kubeovn.io',
    );
    expect(objectPath({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'ovnkit', namespace: 'kube-system' } })).toBe(
      '/api/v1/namespaces/kube-system/serviceaccounts/ovnkit',
    );
    expect(() => objectPath({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'x' } })).toThrow(/kind Secret/);
    expect(() => objectPath({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 's' } })).toThrow(/namespace/);
  });

  it('names the failed build step and its log', () => {
    const f = describeBuildFailure(['[build-k8s] step kwok: started', '[build-k8s] FAILED: step kwok (see /c/build-logs/kwok.log; is the Go module proxy reachable? GOPROXY=off)']);
    expect(f).toEqual({ step: 'kwok', message: 'step kwok failed; its log is /c/build-logs/kwok.log' });
    expect(describeBuildFailure(['[build-k8s] FAILED: Go is not installed (need go >= 1.26 on PATH)'])).toEqual({
      step: 'build-script',
      message: 'Go is not installed (need go >= 1.26 on PATH)',
    });
  });

  it('formats progress lines with timings', () => {
    expect(formatProgressLine({ step: 'etcd', phase: 'ready', elapsedMs: 412, sinceStartMs: 900, pid: 7 })).toBe('[localcluster] etcd ready in 0.41s (pid 7) at +0.90s');
  });
});
