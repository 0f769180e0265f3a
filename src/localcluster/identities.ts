// The token identities of a local cluster. The controller identity carries the exact username
// and groups the apiserver would give the `kube-system/ovnkit` ServiceAccount, so the RBAC in
// deploy/rbac.yaml (bound to that ServiceAccount) applies to it unchanged.
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';

export type IdentityName = 'admin' | 'controller' | 'unprivileged' | 'controllerManager' | 'scheduler' | 'kwok';

export interface Identity {
  name: IdentityName;
  user: string;
  groups: string[];
  token: string;
}

export const CONTROLLER_SERVICE_ACCOUNT = { namespace: 'kube-system', name: 'ovnkit' } as const;

const DEFINITIONS: Record<IdentityName, { user: string; groups: string[] }> = {
  admin: { user: 'ovnkit-admin', groups: ['system:masters'] },
  controller: {
    user: `system:serviceaccount:${CONTROLLER_SERVICE_ACCOUNT.namespace}:${CONTROLLER_SERVICE_ACCOUNT.name}`,
    groups: ['system:serviceaccounts', `system:serviceaccounts:${CONTROLLER_SERVICE_ACCOUNT.namespace}`],
  },
  // No group at all: the apiserver adds only system:authenticated.
  unprivileged: { user: 'ovnkit-unprivileged', groups: [] },
  // Built-in RBAC already grants these two users what their components need.
  controllerManager: { user: 'system:kube-controller-manager', groups: [] },
  scheduler: { user: 'system:kube-scheduler', groups: [] },
  // kwok plays every kubelet (node status, leases, pod status, pod deletion): simplest as an admin.
  kwok: { user: 'ovnkit-kwok', groups: ['system:masters'] },
};

export type Identities = Record<IdentityName, Identity>;

export function newIdentities(): Identities {
  const make = (name: IdentityName): Identity => ({ name, ...DEFINITIONS[name], groups: [...DEFINITIONS[name].groups], token: randomBytes(16).toString('hex') });
  return {
    admin: make('admin'),
    controller: make('controller'),
    unprivileged: make('unprivileged'),
    controllerManager: make('controllerManager'),
    scheduler: make('scheduler'),
    kwok: make('kwok'),
  };
}

/**
 * The apiserver's --token-auth-file format: token,user,uid[,"group1,group2"]. The groups column
 * is left out when empty: `""` would give the user a group named "".
 */
export function tokenAuthFile(identities: Identities): string {
  return (
    Object.values(identities)
      .map((id) => `${id.token},${id.user},${id.user}${id.groups.length > 0 ? `,"${id.groups.join(',')}"` : ''}`)
      .join('\n') + '\n'
  );
}

export interface KubeconfigParams {
  server: string;
  caFile: string;
  identity: Identity;
  contextName?: string;
}

export function kubeconfigYaml(params: KubeconfigParams): string {
  const context = params.contextName ?? 'ovnkit-local';
  const user = `ovnkit-${params.identity.name}`;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: context, cluster: { server: params.server, 'certificate-authority': params.caFile } }],
    users: [{ name: user, user: { token: params.identity.token } }],
    contexts: [{ name: context, context: { cluster: context, user } }],
    'current-context': context,
  });
}

export async function writeKubeconfig(path: string, params: KubeconfigParams): Promise<string> {
  await writeFile(path, kubeconfigYaml(params), { mode: 0o600 });
  return path;
}
