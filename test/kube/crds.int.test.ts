// deploy/crds against a real apiserver: Kube-OVN-style manifests apply unchanged (kubectl's strict
// field validation, nothing pruned), malformed ones are rejected by the schema, the status
// subresource and printer columns behave like Kube-OVN's.
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalCluster } from '../../src/localcluster/index.ts';
import type { LocalCluster } from '../../src/localcluster/index.ts';

let cluster: LocalCluster;
let fileCounter = 0;

beforeAll(async () => {
  cluster = await startLocalCluster({ apiserverOnly: true, progress: false });
});

afterAll(async () => {
  await cluster?.stop();
});

async function kubectl(args: string[]): Promise<{ ok: boolean; out: string }> {
  try {
    const { stdout, stderr } = await cluster.kubectl(args);
    return { ok: true, out: stdout + stderr };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    return { ok: false, out: `${e.stdout ?? ''}${e.stderr ?? ''}${e.message}` };
  }
}

async function createFromText(yamlText: string): Promise<{ ok: boolean; out: string }> {
  const file = join(cluster.dir, `crds-test-${++fileCounter}.yaml`);
  await writeFile(file, yamlText);
  return kubectl(['create', '--validate=strict', '-f', file]);
}

async function getJson(kind: string, name: string, namespace?: string): Promise<Record<string, any>> {
  const r = await kubectl(['get', kind, name, '-o', 'json', ...(namespace ? ['-n', namespace] : [])]);
  expect(r.ok, r.out).toBe(true);
  return JSON.parse(r.out.slice(r.out.indexOf('{'), r.out.lastIndexOf('}') + 1));
}

/** The manifest's spec with YAML nulls dropped (the apiserver prunes nulls of non-nullable fields, as for Kube-OVN's CRDs). */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null).map(([k, v]) => [k, withoutNulls(v)]));
  }
  return value;
}

const manifestsFile = new URL('./crds-manifests/kube-ovn-style.yaml', import.meta.url);

describe('CRD definitions', () => {
  it('are installed with Kube-OVN\'s and Multus\'s group, version, kind, plural, short names and scope', async () => {
    const expected = [
      ['subnets.kubeovn.io', 'kubeovn.io', 'Subnet', 'subnets', ['subnet'], 'Cluster', true],
      ['ips.kubeovn.io', 'kubeovn.io', 'IP', 'ips', ['ip'], 'Cluster', false],
      ['ippools.kubeovn.io', 'kubeovn.io', 'IPPool', 'ippools', ['ippool'], 'Cluster', true],
      ['vpcs.kubeovn.io', 'kubeovn.io', 'Vpc', 'vpcs', ['vpc'], 'Cluster', true],
      ['network-attachment-definitions.k8s.cni.cncf.io', 'k8s.cni.cncf.io', 'NetworkAttachmentDefinition', 'network-attachment-definitions', ['nad', 'net-attach-def'], 'Namespaced', false],
    ] as const;
    for (const [name, group, kind, plural, shortNames, scope, hasStatus] of expected) {
      const crd = await getJson('crd', name);
      expect(crd.spec.group).toBe(group);
      expect(crd.spec.names).toMatchObject({ kind, plural, shortNames: [...shortNames] });
      expect(crd.spec.scope).toBe(scope);
      expect(crd.spec.versions.map((v: { name: string }) => v.name)).toEqual(['v1']);
      // Kube-OVN's IP has no status (and no status subresource); the others do.
      expect(crd.spec.versions[0].subresources?.status !== undefined, `${name} status subresource`).toBe(hasStatus);
      const established = crd.status.conditions.find((c: { type: string }) => c.type === 'Established');
      expect(established?.status).toBe('True');
    }
  });
});

describe('Kube-OVN-style manifests', () => {
  it('are all accepted unchanged with strict field validation, and read back without pruning', async () => {
    await kubectl(['create', 'namespace', 'vpc-simple-ns']);
    const text = readFileSync(manifestsFile, 'utf8');
    const created = await createFromText(text);
    expect(created.ok, created.out).toBe(true);
    expect(created.out).not.toMatch(/unknown field/i);
    const docs = parseAllDocuments(text).map((d) => d.toJSON() as { kind: string; metadata: { name: string; namespace?: string }; spec: unknown });
    expect(docs.length).toBeGreaterThanOrEqual(17);
    const resourceOf: Record<string, string> = {
      Subnet: 'subnets.kubeovn.io',
      IP: 'ips.kubeovn.io',
      IPPool: 'ippools.kubeovn.io',
      Vpc: 'vpcs.kubeovn.io',
      NetworkAttachmentDefinition: 'network-attachment-definitions.k8s.cni.cncf.io',
    };
    for (const doc of docs) {
      const back = await getJson(resourceOf[doc.kind]!, doc.metadata.name, doc.metadata.namespace);
      const want = withoutNulls(doc.spec) as Record<string, unknown>;
      // Defaults may be added (IPPool.enableAddressSet=false, Vpc.bfdPort.enabled=false); nothing may go missing or change.
      expect(back.spec, `${doc.kind}/${doc.metadata.name}`).toMatchObject(want);
    }
    const pool = await getJson('ippool', 'pool-1');
    expect(pool.spec.enableAddressSet).toBe(false);
  });

  it('show Kube-OVN\'s printer columns', async () => {
    const subnets = await kubectl(['get', 'subnets']);
    expect(subnets.out.split('\n')[0]!.split(/\s+/).filter(Boolean)).toEqual([
      'NAME', 'PROVIDER', 'VPC', 'VLAN', 'PROTOCOL', 'CIDR', 'PRIVATE', 'NAT', 'DEFAULT', 'GATEWAYTYPE',
      'V4USED', 'V4AVAILABLE', 'V6USED', 'V6AVAILABLE', 'EXCLUDEIPS', 'U2OINTERCONNECTIONIP',
    ]);
    expect(subnets.out).toMatch(/ovn-default\s+ovn\s+ovn-cluster\s+IPv4\s+10\.16\.0\.0\/16\s+false\s+true\s+true\s+distributed/);
    const ips = await kubectl(['get', 'ips']);
    expect(ips.out.split('\n')[0]!.split(/\s+/).filter(Boolean)).toEqual(['NAME', 'V4IP', 'V6IP', 'MAC', 'NODE', 'SUBNET']);
    expect(ips.out).toMatch(/web-0\.shop\s+10\.16\.0\.14\s+00:00:00:86:C6:37\s+kwok-node-0\s+ovn-default/);
    const pools = await kubectl(['get', 'ippools']);
    expect(pools.out.split('\n')[0]!.split(/\s+/).filter(Boolean)).toEqual(['NAME', 'SUBNET', 'ENABLEADDRESSSET', 'IPS', 'V4USED', 'V4AVAILABLE', 'V6USED', 'V6AVAILABLE']);
    const vpcs = await kubectl(['get', 'vpcs']);
    expect(vpcs.out.split('\n')[0]).toMatch(/^NAME\s+ENABLEEXTERNAL\s+ENABLEBFD\s+STANDBY\s+SUBNETS\s+EXTRAEXTERNALSUBNETS\s+NAMESPACES\s+DEFAULTSUBNET\s+AGE/);
    const nads = await kubectl(['get', 'net-attach-def', '-n', 'default']);
    expect(nads.out).toMatch(/attachnet/);
  });

  it('status goes through the status subresource only, as Kube-OVN\'s controller writes it', async () => {
    const status = { v4availableIPs: 65530, v4usingIPs: 3, v4usingIPrange: '10.16.0.2-10.16.0.4', v4availableIPrange: '10.16.0.5-10.16.255.254', conditions: [{ type: 'Ready', status: 'True', reason: 'SetPrivateLogicalSwitchSuccess', lastUpdateTime: '2026-11-26T09:00:00Z' }] };
    const patched = await kubectl(['patch', 'subnet', 'ovn-default', '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })]);
    expect(patched.ok, patched.out).toBe(true);
    const back = await getJson('subnet', 'ovn-default');
    expect(back.status).toMatchObject(status);
    expect(back.spec.cidrBlock).toBe('10.16.0.0/16');
    // Through the main resource, status changes are ignored.
    const ignored = await kubectl(['patch', 'subnet', 'ovn-default', '--type=merge', '-p', '{"status":{"v4usingIPs":99}}']);
    expect(ignored.ok, ignored.out).toBe(true);
    expect((await getJson('subnet', 'ovn-default')).status.v4usingIPs).toBe(3);
    const columns = await kubectl(['get', 'subnet', 'ovn-default', '--no-headers']);
    // V6 columns are empty (no v6 status set), then EXCLUDEIPS.
    expect(columns.out).toMatch(/distributed\s+3\s+65530\s+\["10\.16\.0\.1"\]/);
    const poolStatus = await kubectl(['patch', 'ippool', 'pool-1', '--subresource=status', '--type=merge', '-p', '{"status":{"v4UsingIPs":1,"v4AvailableIPs":15,"v4UsingIPRange":"10.16.0.201"}}']);
    expect(poolStatus.ok, poolStatus.out).toBe(true);
    // IP has no status subresource, like Kube-OVN's.
    const ipStatus = await kubectl(['patch', 'ip', 'web-0.shop', '--subresource=status', '--type=merge', '-p', '{"status":{}}']);
    expect(ipStatus.ok).toBe(false);
  });

  it('keeps an IPPool\'s subnet immutable', async () => {
    const r = await kubectl(['patch', 'ippool', 'pool-1', '--type=merge', '-p', '{"spec":{"subnet":"join"}}']);
    expect(r.ok).toBe(false);
    expect(r.out).toMatch(/immutable/);
  });
});

describe('malformed manifests are rejected by the schema', () => {
  const subnet = (spec: string) => `apiVersion: kubeovn.io/v1\nkind: Subnet\nmetadata:\n  name: bad-${++fileCounter}\nspec:\n${spec}\n`;
  const pool = (spec: string) => `apiVersion: kubeovn.io/v1\nkind: IPPool\nmetadata:\n  name: badpool-${++fileCounter}\nspec:\n${spec}\n`;
  const ip = (spec: string) => `apiVersion: kubeovn.io/v1\nkind: IP\nmetadata:\n  name: badip-${++fileCounter}\nspec:\n${spec}\n`;
  const cases: [string, () => string, RegExp][] = [
    ['cidrBlock that is a number', () => subnet('  cidrBlock: 10'), /spec\.cidrBlock.*(string|Invalid value)/],
    ['cidrBlock that is a list', () => subnet('  cidrBlock: [10.0.0.0/24]'), /spec\.cidrBlock/],
    ['protocol outside IPv4/IPv6/Dual/Mac', () => subnet('  protocol: IPv5\n  cidrBlock: 10.1.0.0/24'), /spec\.protocol.*Unsupported value/],
    ['excludeIps that is a string', () => subnet('  cidrBlock: 10.1.0.0/24\n  excludeIps: 10.1.0.1'), /spec\.excludeIps/],
    ['natOutgoing that is a string', () => subnet('  cidrBlock: 10.1.0.0/24\n  natOutgoing: "yes"'), /spec\.natOutgoing/],
    ['ACL direction not an OVN direction', () => subnet('  cidrBlock: 10.1.0.0/24\n  acls:\n  - {action: drop, direction: inbound, match: ip, priority: 1}'), /spec\.acls\[0\]\.direction/],
    ['ACL priority above 32767', () => subnet('  cidrBlock: 10.1.0.0/24\n  acls:\n  - {action: drop, direction: to-lport, match: ip, priority: 40000}'), /spec\.acls\[0\]\.priority/],
    ['MTU below 68', () => subnet('  cidrBlock: 10.1.0.0/24\n  mtu: 10'), /spec\.mtu/],
    ['reserved policy routing table', () => subnet('  cidrBlock: 10.1.0.0/24\n  policyRoutingTableID: 254'), /spec\.policyRoutingTableID/],
    ['an unknown spec field (strict validation)', () => subnet('  cidrBlock: 10.1.0.0/24\n  cidr: 10.1.0.0/24'), /unknown field "spec\.cidr"/],
    ['IPPool without ips', () => pool('  subnet: ovn-default'), /spec\.ips: Required value/],
    ['IPPool with an empty ips list', () => pool('  subnet: ovn-default\n  ips: []'), /spec\.ips/],
    ['IPPool with something that is not an address, CIDR or range', () => pool('  subnet: ovn-default\n  ips: ["not-an-ip"]'), /spec\.ips\[0\]/],
    ['IPPool without subnet', () => pool('  ips: ["10.16.0.5"]'), /spec\.subnet: Required value/],
    ['IP address that is a number', () => ip('  subnet: ovn-default\n  v4IpAddress: 1234'), /spec\.v4IpAddress/],
    ['IP attachIps that is a string', () => ip('  subnet: ovn-default\n  attachIps: 10.0.0.1'), /spec\.attachIps/],
    ['Vpc BFD port enabled without an IP', () => `apiVersion: kubeovn.io/v1\nkind: Vpc\nmetadata:\n  name: badvpc\nspec:\n  bfdPort:\n    enabled: true\n`, /bfdPort/],
    ['NAD config that is an object', () => `apiVersion: k8s.cni.cncf.io/v1\nkind: NetworkAttachmentDefinition\nmetadata:\n  name: badnad\n  namespace: default\nspec:\n  config:\n    type: kube-ovn\n`, /spec\.config/],
  ];
  it.each(cases)('%s', async (_label, make, message) => {
    const r = await createFromText(make());
    expect(r.ok, `accepted but should not be:\n${r.out}`).toBe(false);
    expect(r.out).toMatch(message);
  });
});
