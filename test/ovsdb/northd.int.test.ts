// ovn-northd with a Southbound database turns the rows NbClient writes into port bindings and
// logical flows: the proof that our rows are what OVN expects, not just what ovn-nbctl prints.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type NbServer, type Northd, startNbServer, startNorthd } from '../../src/localcluster/nb-server.ts';
import { NbClient } from '../../src/ovsdb/nb-client.ts';
import { sbctl } from './nb-helpers.ts';

let server: NbServer;
let northd: Northd;
let nb: NbClient;

beforeAll(async () => {
  server = await startNbServer();
  nb = await NbClient.connect(server.remote);
  northd = await startNorthd(server.remote);
  // northd creates NB_Global itself; the handshake needs it
  await nb.cache.waitFor('NB_Global', () => true, 15_000);
});

afterAll(async () => {
  await nb?.close();
  await northd?.stop();
  await server?.stop();
});

describe('ovn-northd on NbClient rows', () => {
  it('produces port bindings and logical flows for our switch, router, policy and pod port', async () => {
    await nb.ensureClusterRouter();
    await nb.ensureLogicalSwitch({ name: 'join', cidr: '100.64.0.0/16', gateway: '100.64.0.1' });
    await nb.ensureLogicalSwitch({ name: 'ovn-default', cidr: '10.16.0.0/16', gateway: '10.16.0.1' });
    await nb.addRouterPolicy('ovn-cluster', { priority: 31000, match: 'ip4.dst == 10.16.0.0/16', action: 'allow', externalIds: { vendor: 'kube-ovn', subnet: 'ovn-default' } });
    await nb.createOrUpdatePodPort({ pod: 'nginx-0', namespace: 'default', subnet: 'ovn-default', mac: '00:00:00:aa:bb:cc', ips: ['10.16.0.5'], portSecurity: true });
    const cfg = await nb.syncNorthd(20_000);
    expect(cfg).toBeGreaterThan(0);

    const sb = northd.sbRemote;
    const datapaths = await sbctl(sb, '--bare', '--columns=external_ids', 'list', 'Datapath_Binding');
    expect(datapaths).toContain('name=ovn-default');
    expect(datapaths).toContain('name=ovn-cluster');

    expect(await sbctl(sb, '--bare', '--columns=logical_port', 'find', 'Port_Binding', 'logical_port=nginx-0.default')).toBe('nginx-0.default');
    expect(await sbctl(sb, '--bare', '--columns=mac', 'find', 'Port_Binding', 'logical_port=nginx-0.default')).toBe('00:00:00:aa:bb:cc 10.16.0.5');
    // the router patch became a patch port pair
    expect(await sbctl(sb, '--bare', '--columns=type', 'find', 'Port_Binding', 'logical_port=ovn-cluster-ovn-default')).toBe('patch');
    expect(await sbctl(sb, '--bare', '--columns=type', 'find', 'Port_Binding', 'logical_port=ovn-default-ovn-cluster')).toBe('patch');

    const switchFlows = await sbctl(sb, 'lflow-list', 'ovn-default');
    expect(switchFlows).toMatch(/ls_in_l2_lkup.*eth\.dst == 00:00:00:aa:bb:cc.*outport = "nginx-0\.default"/);
    // port_security became an L2 admission check on the port
    expect(switchFlows).toMatch(/ls_in_check_port_sec|ls_in_port_sec_l2/);
    expect(switchFlows).toContain('inport == "nginx-0.default"');

    const routerFlows = await sbctl(sb, 'lflow-list', 'ovn-cluster');
    expect(routerFlows).toMatch(/lr_in_policy.*priority=31000.*ip4\.dst == 10\.16\.0\.0\/16/);
    expect(routerFlows).toContain('10.16.0.1');
  });

  it('removes the binding when the pod port is deleted', async () => {
    expect(await nb.deletePodPorts('default/nginx-0')).toEqual(['nginx-0.default']);
    await nb.syncNorthd(20_000);
    expect(await sbctl(northd.sbRemote, '--bare', '--columns=logical_port', 'find', 'Port_Binding', 'logical_port=nginx-0.default')).toBe('');
  });
});
