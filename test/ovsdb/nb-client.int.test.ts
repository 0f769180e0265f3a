// Every typed NB operation against Debian's real ovsdb-server (OVN_Northbound 7.0.0), each result
// read back with ovn-nbctl.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type NbServer, startNbServer } from '../../src/localcluster/nb-server.ts';
import { NbClient } from '../../src/ovsdb/nb-client.ts';
import { nbDump, nbFind, nbGet, nbctl, parseNbMap } from './nb-helpers.ts';

let server: NbServer;
let nb: NbClient;
let db: string;

beforeAll(async () => {
  server = await startNbServer();
  db = server.remote;
  nb = await NbClient.connect(server.remote);
});

afterAll(async () => {
  await nb?.close();
  await server?.stop();
});

describe('cluster router and subnet switches', () => {
  it('creates ovn-cluster with Kube-OVN external_ids and options, once', async () => {
    expect((await nb.ensureClusterRouter()).outcome).toBe('created');
    expect(parseNbMap(await nbGet(db, 'Logical_Router', 'ovn-cluster', 'external_ids'))).toEqual({ vendor: 'kube-ovn' });
    expect(parseNbMap(await nbGet(db, 'Logical_Router', 'ovn-cluster', 'options'))).toEqual({ mac_binding_age_threshold: '300', dynamic_neigh_routers: 'true' });
    expect((await nb.ensureClusterRouter()).outcome).toBe('unchanged');
    expect(await nbFind(db, 'Logical_Router', 'name')).toEqual(['ovn-cluster']);
  });

  it('keeps options someone else set and adds the missing ones', async () => {
    await nbctl(db, 'set', 'Logical_Router', 'ovn-cluster', 'options:always_learn_from_arp_request=false', 'options:dynamic_neigh_routers=false');
    await nb.cache.waitFor('Logical_Router', (r) => r.options.always_learn_from_arp_request === 'false', 5000);
    expect((await nb.ensureClusterRouter()).outcome).toBe('updated');
    expect(parseNbMap(await nbGet(db, 'Logical_Router', 'ovn-cluster', 'options'))).toEqual({
      always_learn_from_arp_request: 'false',
      mac_binding_age_threshold: '300',
      dynamic_neigh_routers: 'true',
    });
  });

  it('creates a subnet switch with its router patch ports, column for column', async () => {
    const res = await nb.ensureLogicalSwitch({ name: 'ovn-default', cidr: '10.16.0.0/16', gateway: '10.16.0.1', excludeIps: ['10.16.0.1'] });
    expect(res.outcome).toBe('created');
    expect(res.routerPortMac).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
    expect(parseInt(res.routerPortMac!.slice(0, 2), 16) & 0x03).toBe(0x02); // locally administered unicast

    expect(parseNbMap(await nbGet(db, 'Logical_Switch', 'ovn-default', 'external_ids'))).toEqual({ vendor: 'kube-ovn' });
    expect(await nbGet(db, 'Logical_Switch', 'ovn-default', 'other_config')).toBe('{}');
    const lsp = 'ovn-default-ovn-cluster';
    expect(await nbGet(db, 'Logical_Switch_Port', lsp, 'type')).toBe('router');
    expect(await nbGet(db, 'Logical_Switch_Port', lsp, 'addresses')).toBe('[router]');
    expect(parseNbMap(await nbGet(db, 'Logical_Switch_Port', lsp, 'options'))).toEqual({ 'router-port': 'ovn-cluster-ovn-default' });
    expect(parseNbMap(await nbGet(db, 'Logical_Switch_Port', lsp, 'external_ids'))).toEqual({ ls: 'ovn-default', vendor: 'kube-ovn' });
    expect(await nbctl(db, 'lsp-list', 'ovn-default')).toContain(`(${lsp})`);

    const lrp = 'ovn-cluster-ovn-default';
    expect(await nbGet(db, 'Logical_Router_Port', lrp, 'networks')).toBe('["10.16.0.1/16"]');
    expect(JSON.parse(await nbGet(db, 'Logical_Router_Port', lrp, 'mac'))).toBe(res.routerPortMac);
    expect(parseNbMap(await nbGet(db, 'Logical_Router_Port', lrp, 'external_ids'))).toEqual({ lr: 'ovn-cluster', vendor: 'kube-ovn' });
    expect(await nbctl(db, 'lrp-list', 'ovn-cluster')).toContain(`(${lrp})`);
  });

  it('changes nothing when applied again', async () => {
    const before = await nbDump(db);
    const again = await nb.ensureLogicalSwitch({ name: 'ovn-default', cidr: '10.16.0.0/16', gateway: '10.16.0.1' });
    expect(again.outcome).toBe('unchanged');
    expect(await nbDump(db)).toBe(before);
  });

  it('updates the router port networks when the gateway changes, and writes dual-stack networks', async () => {
    const r = await nb.ensureLogicalSwitch({ name: 'ovn-default', cidr: '10.16.0.0/16', gateway: '10.16.0.254' });
    expect(r.outcome).toBe('updated');
    expect(await nbGet(db, 'Logical_Router_Port', 'ovn-cluster-ovn-default', 'networks')).toBe('["10.16.0.254/16"]');
    await nb.ensureLogicalSwitch({ name: 'ovn-default', cidr: '10.16.0.0/16', gateway: '10.16.0.1' });

    await nb.ensureLogicalSwitch({
      name: 'dual',
      cidr: 'fd00:10:18::/64,10.18.0.0/16',
      gateway: '10.18.0.1,fd00:10:18::1',
      excludeIps: ['10.18.0.1', '10.18.0.100..10.18.0.110', 'fd00:10:18::1'],
      gatewayMac: '0a:00:00:00:00:18',
      ovnIpamOtherConfig: true,
    });
    const nets = await nbGet(db, 'Logical_Router_Port', 'ovn-cluster-dual', 'networks');
    expect(nets.replace(/[[\]"]/g, '').split(', ').sort()).toEqual(['10.18.0.1/16', 'fd00:10:18::1/64']);
    expect(JSON.parse(await nbGet(db, 'Logical_Router_Port', 'ovn-cluster-dual', 'mac'))).toBe('0a:00:00:00:00:18');
    expect(parseNbMap(await nbGet(db, 'Logical_Switch', 'dual', 'other_config'))).toEqual({
      subnet: '10.18.0.0/16',
      exclude_ips: '10.18.0.1 10.18.0.100..10.18.0.110',
      ipv6_prefix: 'fd00:10:18::',
    });
  });

  it('adds OVN IPAM other_config keys to an existing switch without touching keys others wrote', async () => {
    await nbctl(db, 'set', 'Logical_Switch', 'ovn-default', 'other_config:mcast_snoop=true');
    await nb.cache.waitFor('Logical_Switch', (s) => s.other_config.mcast_snoop === 'true', 5000);
    const spec = { name: 'ovn-default', cidr: '10.16.0.0/16', gateway: '10.16.0.1', excludeIps: ['10.16.0.1'], ovnIpamOtherConfig: true };
    expect((await nb.ensureLogicalSwitch(spec)).outcome).toBe('updated');
    expect(parseNbMap(await nbGet(db, 'Logical_Switch', 'ovn-default', 'other_config'))).toEqual({ mcast_snoop: 'true', subnet: '10.16.0.0/16', exclude_ips: '10.16.0.1' });
    expect((await nb.ensureLogicalSwitch(spec)).outcome).toBe('unchanged');
    await nbctl(db, 'remove', 'Logical_Switch', 'ovn-default', 'other_config', 'subnet', 'exclude_ips', 'mcast_snoop');
    await nb.cache.waitFor('Logical_Switch', (s) => s.name === 'ovn-default' && Object.keys(s.other_config).length === 0, 5000);
  });

  it('creates only the switch when no router is wanted, and rejects bad input before writing', async () => {
    await nb.ensureLogicalSwitch({ name: 'vlan-only', cidr: '192.168.50.0/24', gateway: '192.168.50.1', needRouter: false });
    expect(await nbFind(db, 'Logical_Switch', 'name', 'name=vlan-only')).toEqual(['vlan-only']);
    expect(await nbctl(db, 'lsp-list', 'vlan-only')).toBe('');
    // a routed subnet that stops routing loses its patch pair, as in Kube-OVN
    await nb.ensureLogicalSwitch({ name: 'unrouted', cidr: '192.168.60.0/24', gateway: '192.168.60.1' });
    expect(await nbFind(db, 'Logical_Router_Port', 'name', 'name=ovn-cluster-unrouted')).toEqual(['ovn-cluster-unrouted']);
    expect((await nb.ensureLogicalSwitch({ name: 'unrouted', cidr: '192.168.60.0/24', gateway: '192.168.60.1', needRouter: false })).outcome).toBe('updated');
    expect(await nbFind(db, 'Logical_Router_Port', 'name', 'name=ovn-cluster-unrouted')).toEqual([]);
    expect(await nbFind(db, 'Logical_Switch_Port', 'name', 'name=unrouted-ovn-cluster')).toEqual([]);
    expect(await nbFind(db, 'Logical_Switch', 'name', 'name=unrouted')).toEqual(['unrouted']);
    await expect(nb.ensureLogicalSwitch({ name: 'bad', cidr: '10.99.0.0/33', gateway: '10.99.0.1' })).rejects.toMatchObject({ code: 'NB_BAD_INPUT', object: 'bad' });
    await expect(nb.ensureLogicalSwitch({ name: 'bad', cidr: '10.99.0.0/16', gateway: '10.98.0.1' })).rejects.toMatchObject({ code: 'NB_BAD_INPUT' });
    await expect(nb.ensureLogicalSwitch({ name: 'bad', cidr: '10.99.0.0/16', gateway: '10.99.0.1', router: 'no-such-router' })).rejects.toMatchObject({
      code: 'NB_ROUTER_NOT_FOUND',
    });
    expect(await nbFind(db, 'Logical_Switch', 'name', 'name=bad')).toEqual([]);
  });

  it('creates exactly one switch when two clients race to ensure it', async () => {
    const other = await NbClient.connect(server.remote);
    try {
      const spec = { name: 'raced', cidr: '10.30.0.0/16', gateway: '10.30.0.1' };
      const outcomes = await Promise.all([nb.ensureLogicalSwitch(spec), other.ensureLogicalSwitch(spec), nb.ensureLogicalSwitch(spec), other.ensureLogicalSwitch(spec)]);
      expect(outcomes.filter((o) => o.outcome === 'created').length).toBeLessThanOrEqual(1);
      expect(await nbFind(db, 'Logical_Switch', 'name', 'name=raced')).toEqual(['raced']);
      expect(await nbFind(db, 'Logical_Router_Port', 'name', 'name=ovn-cluster-raced')).toEqual(['ovn-cluster-raced']);
      expect(await nbFind(db, 'Logical_Switch_Port', 'name', 'name=raced-ovn-cluster')).toEqual(['raced-ovn-cluster']);
    } finally {
      await other.close();
    }
  });
});

describe('pod ports', () => {
  beforeAll(async () => {
    await nb.ensureLogicalSwitch({ name: 'subnet-b', cidr: '10.17.0.0/16', gateway: '10.17.0.1' });
  });

  it('creates <pod>.<ns> with Kube-OVN addresses, port_security and external_ids', async () => {
    const r = await nb.createOrUpdatePodPort({ pod: 'nginx-0', namespace: 'default', subnet: 'ovn-default', mac: '00:00:00:aa:bb:cc', ips: ['10.16.0.5'], portSecurity: true });
    expect(r).toMatchObject({ outcome: 'created', name: 'nginx-0.default' });
    expect(await nbGet(db, 'Logical_Switch_Port', 'nginx-0.default', 'addresses')).toBe('["00:00:00:aa:bb:cc 10.16.0.5"]');
    expect(await nbGet(db, 'Logical_Switch_Port', 'nginx-0.default', 'port_security')).toBe('["00:00:00:aa:bb:cc 10.16.0.5"]');
    expect(parseNbMap(await nbGet(db, 'Logical_Switch_Port', 'nginx-0.default', 'external_ids'))).toEqual({ ls: 'ovn-default', pod: 'default/nginx-0', vendor: 'kube-ovn' });
    expect(await nbGet(db, 'Logical_Switch_Port', 'nginx-0.default', '_uuid')).toBe(r.uuid);
    expect(await nbctl(db, 'lsp-list', 'ovn-default')).toContain('(nginx-0.default)');
  });

  it('changes nothing when applied again, updates in place when the IPs change', async () => {
    const spec = { pod: 'nginx-0', namespace: 'default', subnet: 'ovn-default', mac: '00:00:00:aa:bb:cc', ips: ['10.16.0.5'], portSecurity: true };
    const before = await nbDump(db);
    expect((await nb.createOrUpdatePodPort(spec)).outcome).toBe('unchanged');
    expect(await nbDump(db)).toBe(before);

    const uuid = await nbGet(db, 'Logical_Switch_Port', 'nginx-0.default', '_uuid');
    const r = await nb.createOrUpdatePodPort({ ...spec, ips: ['10.16.0.6', 'fd00::6'], portSecurity: false });
    expect(r).toMatchObject({ outcome: 'updated', uuid });
    expect(await nbGet(db, 'Logical_Switch_Port', 'nginx-0.default', 'addresses')).toBe('["00:00:00:aa:bb:cc 10.16.0.6 fd00::6"]');
    expect(await nbGet(db, 'Logical_Switch_Port', 'nginx-0.default', 'port_security')).toBe('[]');
  });

  it('names a non-default provider port <pod>.<ns>.<provider> and writes security groups and vips as Kube-OVN does', async () => {
    const r = await nb.createOrUpdatePodPort({
      pod: 'nginx-0',
      namespace: 'default',
      provider: 'attach.default.ovn',
      subnet: 'subnet-b',
      mac: '00:00:00:aa:bb:cd',
      ips: ['10.17.0.9'],
      portSecurity: true,
      vips: ['10.17.0.100'],
      securityGroups: ['sg1', 'sg2'],
      vpc: 'vpc-x',
    });
    expect(r.name).toBe('nginx-0.default.attach.default.ovn');
    expect(await nbGet(db, 'Logical_Switch_Port', r.name, 'port_security')).toBe('["00:00:00:aa:bb:cd 10.17.0.9 10.17.0.100"]');
    expect(parseNbMap(await nbGet(db, 'Logical_Switch_Port', r.name, 'external_ids'))).toEqual({
      ls: 'subnet-b',
      pod: 'default/nginx-0',
      vendor: 'kube-ovn',
      security_groups: 'sg1/sg2',
      associated_sg_sg1: 'true',
      associated_sg_sg2: 'true',
      'associated_sg_default-securitygroup': 'false',
      vips: '10.17.0.100',
      'attach-vips': 'true',
    });
  });

  it('moves a port that exists on another switch', async () => {
    const r = await nb.createOrUpdatePodPort({ pod: 'nginx-0', namespace: 'default', subnet: 'subnet-b', mac: '00:00:00:aa:bb:cc', ips: ['10.17.0.5'] });
    expect(r.outcome).toBe('moved');
    expect(await nbctl(db, 'lsp-list', 'ovn-default')).not.toContain('(nginx-0.default)');
    expect(await nbctl(db, 'lsp-list', 'subnet-b')).toContain('(nginx-0.default)');
    expect(await nbFind(db, 'Logical_Switch_Port', 'name', 'name=nginx-0.default')).toEqual(['nginx-0.default']);
    expect(parseNbMap(await nbGet(db, 'Logical_Switch_Port', 'nginx-0.default', 'external_ids')).ls).toBe('subnet-b');
    expect(await nbGet(db, 'Logical_Switch_Port', 'nginx-0.default', 'addresses')).toBe('["00:00:00:aa:bb:cc 10.17.0.5"]');
  });

  it('deletes every port of a pod by external_ids:pod, and a second delete is a no-op', async () => {
    await nb.ensurePortGroup('ovn.default.node1', { subnet: 'ovn-default', node: 'node1' });
    await nb.addPortGroupPorts('ovn.default.node1', ['nginx-0.default']);
    expect((await nbFind(db, 'Logical_Switch_Port', 'name', 'external_ids:pod=default/nginx-0')).length).toBe(2);
    const removed = await nb.deletePodPorts('default/nginx-0');
    expect(removed.sort()).toEqual(['nginx-0.default', 'nginx-0.default.attach.default.ovn']);
    expect(await nbFind(db, 'Logical_Switch_Port', 'name', 'external_ids:pod=default/nginx-0')).toEqual([]);
    expect(await nbGet(db, 'Port_Group', 'ovn.default.node1', 'ports')).toBe('[]');
    expect(await nb.deletePodPorts('default/nginx-0')).toEqual([]);
    await expect(nb.deletePodPorts('not-a-key')).rejects.toMatchObject({ code: 'NB_BAD_INPUT' });
  });

  it('rejects a port on a missing switch or with a bad MAC, writing nothing', async () => {
    await expect(nb.createOrUpdatePodPort({ pod: 'p', namespace: 'ns', subnet: 'nope', mac: '00:00:00:00:00:01', ips: ['10.16.0.9'] })).rejects.toMatchObject({
      code: 'NB_SWITCH_NOT_FOUND',
      object: 'ns/p',
    });
    await expect(nb.createOrUpdatePodPort({ pod: 'p', namespace: 'ns', subnet: 'ovn-default', mac: 'zz', ips: [] })).rejects.toMatchObject({ code: 'NB_BAD_INPUT' });
    expect(await nbFind(db, 'Logical_Switch_Port', 'name', 'name=p.ns')).toEqual([]);
  });

  it('ends with exactly one port when many callers create the same pod at once', async () => {
    const spec = { pod: 'racy', namespace: 'default', subnet: 'ovn-default', mac: '00:00:00:00:00:99', ips: ['10.16.0.99'] };
    const results = await Promise.all(Array.from({ length: 20 }, () => nb.createOrUpdatePodPort(spec)));
    expect(results.filter((r) => r.outcome === 'created')).toHaveLength(1);
    expect(new Set(results.map((r) => r.uuid)).size).toBe(1);
    expect(await nbFind(db, 'Logical_Switch_Port', 'name', 'name=racy.default')).toEqual(['racy.default']);
  });
});

describe('coalesced pod ports', () => {
  it('creates 300 ports from concurrent callers in a few transactions, one switch mutate per transaction', async () => {
    await nb.ensureLogicalSwitch({ name: 'bulk', cidr: '10.40.0.0/16', gateway: '10.40.0.1' });
    const before = { ...nb.coalescer!.stats };
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        nb.createOrUpdatePodPort({ pod: `bulk-${i}`, namespace: 'load', subnet: 'bulk', mac: `0a:00:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`, ips: [`10.40.1.${i % 250}`] }),
      ),
    );
    expect(results.every((r) => r.outcome === 'created')).toBe(true);
    const txns = nb.coalescer!.stats.transactions - before.transactions;
    const ops = nb.coalescer!.stats.operations - before.operations;
    expect(txns).toBeLessThan(30);
    expect(ops).toBe(300 + txns); // 300 inserts plus one fused Logical_Switch.ports mutate per transaction
    const listed = (await nbctl(db, 'lsp-list', 'bulk')).split('\n').filter((l) => l.includes('.load)'));
    expect(listed).toHaveLength(300);
    expect(await nbGet(db, 'Logical_Switch_Port', 'bulk-299.load', '_uuid')).toBe(results[299]!.uuid);
  });
});

describe('router policies', () => {
  const ext = { vendor: 'kube-ovn', subnet: 'ovn-default' };

  it('adds a 31000 allow policy once and shows it in lr-policy-list', async () => {
    const a = await nb.addRouterPolicy('ovn-cluster', { priority: 31000, match: 'ip4.dst == 10.16.0.0/16', action: 'allow', externalIds: ext });
    expect(a.outcome).toBe('created');
    expect((await nb.addRouterPolicy('ovn-cluster', { priority: 31000, match: 'ip4.dst == 10.16.0.0/16', action: 'allow', externalIds: ext })).outcome).toBe('unchanged');
    const list = await nbctl(db, 'lr-policy-list', 'ovn-cluster');
    expect(list).toMatch(/31000\s+ip4\.dst == 10\.16\.0\.0\/16\s+allow/);
    expect(parseNbMap(await nbGet(db, 'Logical_Router_Policy', a.uuid, 'external_ids'))).toEqual(ext);
  });

  it('replaces a reroute policy whose next hops changed, keeping one per priority and match', async () => {
    const match = 'ip4.src == $ovn.default.node1_ip4';
    await nb.addRouterPolicy('ovn-cluster', { priority: 29000, match, action: 'reroute', nexthops: ['100.64.0.2'], externalIds: ext });
    const r = await nb.addRouterPolicy('ovn-cluster', { priority: 29000, match, action: 'reroute', nexthops: ['100.64.0.3'], externalIds: ext });
    expect(r.outcome).toBe('updated');
    const rows = await nbFind(db, 'Logical_Router_Policy', 'nexthops', 'priority=29000');
    expect(rows).toEqual(['100.64.0.3']);
    expect(await nbctl(db, 'lr-policy-list', 'ovn-cluster')).toMatch(/29000\s+ip4\.src == \$ovn\.default\.node1_ip4\s+reroute\s+100\.64\.0\.3/);
    // external_ids only: same row, updated in place
    const again = await nb.addRouterPolicy('ovn-cluster', { priority: 29000, match, action: 'reroute', nexthops: ['100.64.0.3'], externalIds: { ...ext, node: 'node1' } });
    expect(again).toMatchObject({ outcome: 'updated', uuid: r.uuid });
  });

  it('removes policies by selector and refuses an empty selector', async () => {
    expect(await nb.removeRouterPolicies('ovn-cluster', { priority: 29000, externalIds: { subnet: 'ovn-default' } })).toBe(1);
    expect(await nbFind(db, 'Logical_Router_Policy', 'priority', 'priority=29000')).toEqual([]);
    expect(await nb.removeRouterPolicies('ovn-cluster', { priority: 29000 })).toBe(0);
    await expect(nb.removeRouterPolicies('ovn-cluster', {})).rejects.toMatchObject({ code: 'NB_BAD_INPUT' });
    await expect(nb.addRouterPolicy('ovn-cluster', { priority: 1, match: 'ip4', action: 'reroute' })).rejects.toMatchObject({ code: 'NB_BAD_INPUT' });
    await expect(nb.addRouterPolicy('nope', { priority: 1, match: 'ip4', action: 'allow' })).rejects.toMatchObject({ code: 'NB_ROUTER_NOT_FOUND' });
  });
});

describe('static routes', () => {
  it('keeps one route per next hop for a prefix, replacing stale next hops, as lr-route-list shows', async () => {
    const ext = { vendor: 'kube-ovn' };
    expect(await nb.addStaticRoute('ovn-cluster', { ipPrefix: '0.0.0.0/0', nexthops: ['100.64.0.1'], externalIds: ext })).toEqual({ added: ['100.64.0.1'], removed: 0 });
    expect(await nbctl(db, 'lr-route-list', 'ovn-cluster')).toMatch(/0\.0\.0\.0\/0\s+100\.64\.0\.1 dst-ip/);
    expect(await nb.addStaticRoute('ovn-cluster', { ipPrefix: '0.0.0.0/0', nexthops: ['100.64.0.1'], externalIds: ext })).toEqual({ added: [], removed: 0 });

    expect(await nb.addStaticRoute('ovn-cluster', { ipPrefix: '0.0.0.0/0', nexthops: ['100.64.0.2', '100.64.0.3'], externalIds: ext })).toEqual({
      added: ['100.64.0.2', '100.64.0.3'],
      removed: 1,
    });
    const list = await nbctl(db, 'lr-route-list', 'ovn-cluster');
    expect(list).toMatch(/0\.0\.0\.0\/0\s+100\.64\.0\.2 dst-ip ecmp/);
    expect(list).toMatch(/0\.0\.0\.0\/0\s+100\.64\.0\.3 dst-ip ecmp/);
    expect(list).not.toContain('100.64.0.1 ');
    expect(parseNbMap(await nbGet(db, 'Logical_Router_Static_Route', (await nbFind(db, 'Logical_Router_Static_Route', '_uuid', 'nexthop="100.64.0.2"'))[0]!, 'external_ids'))).toEqual(ext);

    await nb.addStaticRoute('ovn-cluster', { ipPrefix: '10.16.0.0/16', nexthops: ['100.64.0.9'], policy: 'src-ip' });
    expect(await nbctl(db, 'lr-route-list', 'ovn-cluster')).toMatch(/10\.16\.0\.0\/16\s+100\.64\.0\.9 src-ip/);

    expect(await nb.removeStaticRoutes('ovn-cluster', { ipPrefix: '0.0.0.0/0' })).toBe(2);
    expect(await nb.removeStaticRoutes('ovn-cluster', { policy: 'src-ip', nexthop: '100.64.0.9' })).toBe(1);
    expect(await nbFind(db, 'Logical_Router_Static_Route', 'nexthop')).toEqual([]);
    await expect(nb.addStaticRoute('ovn-cluster', { ipPrefix: '10.0.0.0/40', nexthops: ['1.1.1.1'] })).rejects.toMatchObject({ code: 'NB_BAD_INPUT' });
    await expect(nb.addStaticRoute('ovn-cluster', { ipPrefix: '10.0.0.0/8', nexthops: [] })).rejects.toMatchObject({ code: 'NB_BAD_INPUT' });
    await expect(nb.removeStaticRoutes('ovn-cluster', {})).rejects.toMatchObject({ code: 'NB_BAD_INPUT' });
  });
});

describe('port groups', () => {
  it('ensures a port group with vendor, updates its external_ids, adds and removes members', async () => {
    expect((await nb.ensurePortGroup('node.node1', { node: 'node1', np: 'node/node1' })).outcome).toBe('created');
    expect(parseNbMap(await nbGet(db, 'Port_Group', 'node.node1', 'external_ids'))).toEqual({ node: 'node1', np: 'node/node1', vendor: 'kube-ovn' });
    expect((await nb.ensurePortGroup('node.node1', { node: 'node1', np: 'node/node1' })).outcome).toBe('unchanged');
    expect((await nb.ensurePortGroup('node.node1', { node: 'node1' })).outcome).toBe('updated');
    expect(parseNbMap(await nbGet(db, 'Port_Group', 'node.node1', 'external_ids'))).toEqual({ node: 'node1', vendor: 'kube-ovn' });

    const a = await nb.createOrUpdatePodPort({ pod: 'a', namespace: 'ns1', subnet: 'ovn-default', mac: '00:00:00:00:00:0a', ips: ['10.16.0.10'] });
    const b = await nb.createOrUpdatePodPort({ pod: 'b', namespace: 'ns1', subnet: 'ovn-default', mac: '00:00:00:00:00:0b', ips: ['10.16.0.11'] });
    expect(await nb.addPortGroupPorts('node.node1', ['a.ns1', 'b.ns1', 'ghost.ns1'])).toEqual({ changed: 2, missing: ['ghost.ns1'] });
    expect(await nb.addPortGroupPorts('node.node1', ['a.ns1'])).toEqual({ changed: 0, missing: [] });
    const ports = (await nbGet(db, 'Port_Group', 'node.node1', 'ports')).replace(/[[\]]/g, '').split(', ').sort();
    expect(ports).toEqual([a.uuid, b.uuid].sort());
    expect(await nb.removePortGroupPorts('node.node1', ['a.ns1'])).toEqual({ changed: 1, missing: [] });
    expect(await nbGet(db, 'Port_Group', 'node.node1', 'ports')).toBe(`[${b.uuid}]`);
    await expect(nb.addPortGroupPorts('no-such-pg', ['a.ns1'])).rejects.toMatchObject({ code: 'NB_PORT_GROUP_NOT_FOUND' });
  });
});
