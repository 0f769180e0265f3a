// Command lines of the control-plane components. Pure functions of the cluster layout, so the
// flags (and why each is there) live in one place and are unit-tested. Recipe and measurements:
// /work/shared/reference/local-control-plane.md, summarised in docs/localcluster.md.
import { join } from 'node:path';

export interface ComponentPorts {
  etcdClient: number;
  etcdPeer: number;
  apiserver: number;
  controllerManager: number;
  scheduler: number;
  kwok: number;
}

export interface ComponentFiles {
  caCert: string;
  servingCert: string;
  servingKey: string;
  saKey: string;
  saPub: string;
  tokenAuthFile: string;
  controllerManagerKubeconfig: string;
  schedulerKubeconfig: string;
  kwokKubeconfig: string;
  kwokStages: string;
}

export interface ApiserverTuning {
  /** false starts the apiserver with --watch-cache=false: the only way to get 410 on demand. */
  watchCache: boolean;
  /** e.g. "2s"; the apiserver then compacts etcd itself at that interval. */
  etcdCompactionInterval: string | undefined;
  /** Audit writes (policy file and JSON-lines log); undefined: no audit log. */
  audit: { policyFile: string; logFile: string } | undefined;
  /** Appended last, so it can override any flag above. */
  extraArgs: string[];
}

export interface CommandLine {
  binary: string;
  args: string[];
}

/** Kubernetes Service range; kwok pod IPs come from KWOK_POD_CIDR so the two never overlap. */
export const SERVICE_CIDR = '10.0.0.0/24';
export const KWOK_POD_CIDR = '10.244.0.0/16';
/** Client QPS for the controller-manager and scheduler: the default 20 caps pod creation at ~20/s. */
export const CLIENT_QPS = 1000;
export const CLIENT_BURST = 2000;

/** The controllers a pod lifecycle needs; node-lifecycle removes the not-ready taint from kwok nodes. */
export const CONTROLLER_MANAGER_CONTROLLERS = [
  'serviceaccount-token-controller',
  'serviceaccount-controller',
  'namespace-controller',
  'garbage-collector-controller',
  'statefulset-controller',
  'replicaset-controller',
  'deployment-controller',
  'root-ca-certificate-publisher-controller',
  'endpointslice-controller',
  'pod-garbage-collector-controller',
  'node-lifecycle-controller',
];

export function etcdCommand(binDir: string, dir: string, ports: ComponentPorts): CommandLine {
  const client = `http://127.0.0.1:${ports.etcdClient}`;
  const peer = `http://127.0.0.1:${ports.etcdPeer}`;
  return {
    binary: join(binDir, 'etcd'),
    args: [
      '--name=local',
      `--data-dir=${join(dir, 'etcd-data')}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=local=${peer}`,
      // A throwaway test database: durability buys nothing and fsync costs seconds on busy disks.
      '--unsafe-no-fsync',
      '--log-level=warn',
    ],
  };
}

export function apiserverCommand(binDir: string, files: ComponentFiles, ports: ComponentPorts, tuning: ApiserverTuning): CommandLine {
  const args = [
    `--etcd-servers=http://127.0.0.1:${ports.etcdClient}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${ports.apiserver}`,
    `--tls-cert-file=${files.servingCert}`,
    `--tls-private-key-file=${files.servingKey}`,
    `--service-account-key-file=${files.saPub}`,
    `--service-account-signing-key-file=${files.saKey}`,
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--token-auth-file=${files.tokenAuthFile}`,
    // Without it the extension-apiserver-authentication ConfigMap never appears and the
    // controller-manager and scheduler retry forever.
    `--client-ca-file=${files.caCert}`,
    '--authorization-mode=Node,RBAC',
    `--service-cluster-ip-range=${SERVICE_CIDR}`,
    '--allow-privileged=true',
    // The default reconciler refuses a loopback advertise address and exits.
    '--endpoint-reconciler-type=none',
    // Otherwise SIGTERM waits 60 s for every open watch to finish.
    '--shutdown-watch-termination-grace-period=2s',
  ];
  if (!tuning.watchCache) args.push('--watch-cache=false');
  if (tuning.etcdCompactionInterval !== undefined) args.push(`--etcd-compaction-interval=${tuning.etcdCompactionInterval}`);
  if (tuning.audit !== undefined) {
    // blocking: an event is in the file before its response is sent, so counts are exact.
    args.push(`--audit-policy-file=${tuning.audit.policyFile}`, `--audit-log-path=${tuning.audit.logFile}`, '--audit-log-mode=blocking');
  }
  args.push(...tuning.extraArgs);
  return { binary: join(binDir, 'kube-apiserver'), args };
}

export function controllerManagerCommand(binDir: string, files: ComponentFiles, ports: ComponentPorts): CommandLine {
  const kc = files.controllerManagerKubeconfig;
  return {
    binary: join(binDir, 'kube-controller-manager'),
    args: [
      `--kubeconfig=${kc}`,
      `--authentication-kubeconfig=${kc}`,
      `--authorization-kubeconfig=${kc}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${ports.controllerManager}`,
      '--leader-elect=false',
      `--service-account-private-key-file=${files.saKey}`,
      `--root-ca-file=${files.caCert}`,
      '--use-service-account-credentials=true',
      `--controllers=${CONTROLLER_MANAGER_CONTROLLERS.join(',')}`,
      `--kube-api-qps=${CLIENT_QPS}`,
      `--kube-api-burst=${CLIENT_BURST}`,
    ],
  };
}

export function schedulerCommand(binDir: string, files: ComponentFiles, ports: ComponentPorts): CommandLine {
  const kc = files.schedulerKubeconfig;
  return {
    binary: join(binDir, 'kube-scheduler'),
    args: [
      `--kubeconfig=${kc}`,
      `--authentication-kubeconfig=${kc}`,
      `--authorization-kubeconfig=${kc}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${ports.scheduler}`,
      '--leader-elect=false',
      `--kube-api-qps=${CLIENT_QPS}`,
      `--kube-api-burst=${CLIENT_BURST}`,
    ],
  };
}

export function kwokCommand(binDir: string, files: ComponentFiles, ports: ComponentPorts): CommandLine {
  return {
    binary: join(binDir, 'kwok'),
    args: [
      `--kubeconfig=${files.kwokKubeconfig}`,
      // Without stages kwok exits with "no stages found".
      `--config=${files.kwokStages}`,
      '--manage-all-nodes=true',
      `--server-address=127.0.0.1:${ports.kwok}`,
      '--node-lease-duration-seconds=40',
      // The default 10.0.0.1/24 holds 254 pods and overlaps the Service range.
      `--cidr=${KWOK_POD_CIDR}`,
    ],
  };
}

/** A fake node kwok manages (the shape the kwok docs give), tainted so only tolerating pods land. */
export function kwokNode(name: string): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'kwok.x-k8s.io/node': 'fake' },
      labels: {
        'beta.kubernetes.io/arch': 'amd64',
        'beta.kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/role': 'agent',
        'node-role.kubernetes.io/agent': '',
        type: 'kwok',
      },
    },
    spec: { taints: [{ key: 'kwok.x-k8s.io/node', value: 'fake', effect: 'NoSchedule' }] },
    status: {
      allocatable: { cpu: '32', memory: '256Gi', pods: '110' },
      capacity: { cpu: '32', memory: '256Gi', pods: '110' },
      nodeInfo: {
        architecture: 'amd64',
        bootID: '',
        containerRuntimeVersion: '',
        kernelVersion: '',
        kubeProxyVersion: 'fake',
        kubeletVersion: 'fake',
        machineID: '',
        operatingSystem: 'linux',
        osImage: '',
        systemUUID: '',
      },
      phase: 'Running',
    },
  };
}

/** The toleration a pod needs to be scheduled on a kwok node. */
export const KWOK_TOLERATION = { key: 'kwok.x-k8s.io/node', operator: 'Exists', effect: 'NoSchedule' } as const;
