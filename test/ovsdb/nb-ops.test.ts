// Pure row builders and address checks behind NbClient (what Kube-OVN's pkg/ovs would write for
// the same inputs); the real-server tests check the same rows through ovn-nbctl.
import { describe, expect, it } from 'vitest';
import { cidrContains, gatewayNetworks, ipToBigInt, parseCidr, parseCidrList, randomMac } from '../../src/ovsdb/nb-net.ts';
import { namedUuid, podPortColumns, podPortName, routerPatchNames, waitAbsent, waitUnchanged } from '../../src/ovsdb/nb-ops.ts';
import { NAMED_UUID_PATTERN } from '../../src/ovsdb/protocol.ts';

const base = {
  pod: 'web',
  namespace: 'prod',
  subnet: 'ovn-default',
  mac: '00:00:00:aa:bb:cc',
  ips: ['10.16.0.5'],
  portSecurity: false,
  vips: [],
  securityGroups: [],
  layer2Forward: false,
  vpc: undefined,
  dhcpv4Options: undefined,
  dhcpv6Options: undefined,
};

describe('names', () => {
  it('names pod ports and router patches as Kube-OVN', () => {
    expect(podPortName('web', 'prod')).toBe('web.prod');
    expect(podPortName('web', 'prod', 'ovn')).toBe('web.prod');
    expect(podPortName('web', 'prod', 'net1.prod.ovn')).toBe('web.prod.net1.prod.ovn');
    expect(routerPatchNames('ovn-default', 'ovn-cluster')).toEqual({ lsp: 'ovn-default-ovn-cluster', lrp: 'ovn-cluster-ovn-default' });
  });

  it('makes uuid-names the server accepts, u + ten digits', () => {
    const a = namedUuid();
    const b = namedUuid();
    expect(a).toMatch(/^u\d{10}$/);
    expect(a).toMatch(NAMED_UUID_PATTERN);
    expect(b).not.toBe(a);
  });
});

describe('podPortColumns', () => {
  it('writes addresses, and port_security only when asked', () => {
    expect(podPortColumns(base)).toMatchObject({ addresses: ['00:00:00:aa:bb:cc 10.16.0.5'], port_security: [] });
    expect(podPortColumns({ ...base, ips: ['10.16.0.5', 'fd00::5'], portSecurity: true, vips: ['10.16.0.100'] })).toMatchObject({
      addresses: ['00:00:00:aa:bb:cc 10.16.0.5 fd00::5'],
      port_security: ['00:00:00:aa:bb:cc 10.16.0.5 fd00::5 10.16.0.100'],
    });
  });

  it('writes a MAC-only port without port security, and appends unknown for layer-2 forwarding', () => {
    expect(podPortColumns({ ...base, ips: [], portSecurity: true })).toMatchObject({ addresses: ['00:00:00:aa:bb:cc'], port_security: [] });
    expect(podPortColumns({ ...base, layer2Forward: true }).addresses).toEqual(['00:00:00:aa:bb:cc 10.16.0.5', 'unknown']);
  });

  it('writes Kube-OVN external_ids, with the default security group marked off outside ovn-cluster', () => {
    expect(podPortColumns(base).external_ids).toEqual({ vendor: 'kube-ovn', pod: 'prod/web', ls: 'ovn-default' });
    expect(podPortColumns({ ...base, vpc: 'ovn-cluster' }).external_ids).not.toHaveProperty('associated_sg_default-securitygroup');
    expect(podPortColumns({ ...base, vpc: 'tenant' }).external_ids['associated_sg_default-securitygroup']).toBe('false');
    expect(podPortColumns({ ...base, vpc: 'tenant', securityGroups: ['default-securitygroup'] }).external_ids).toMatchObject({
      'associated_sg_default-securitygroup': 'true',
      security_groups: 'default-securitygroup',
    });
  });
});

describe('wait guards', () => {
  it('never block: timeout 0', () => {
    expect(waitAbsent('Logical_Switch', [['name', '==', 'x']])).toMatchObject({ op: 'wait', until: '==', rows: [], timeout: 0 });
    expect(waitUnchanged('Logical_Router', [], 'policies', ['set', []])).toMatchObject({ columns: ['policies'], rows: [{ policies: ['set', []] }], timeout: 0 });
  });
});

describe('addresses', () => {
  it('parses v4 and v6 CIDRs, including compressed and embedded-v4 forms', () => {
    expect(parseCidr('10.16.0.0/16', 's', 'o')).toMatchObject({ family: 4, prefix: 16 });
    expect(ipToBigInt('fd00::1')).toBe((0xfd00n << 112n) | 1n);
    expect(ipToBigInt('::ffff:10.0.0.1')).toBe((0xffffn << 32n) | 0x0a000001n);
    expect(cidrContains(parseCidr('fd00:10:16::/64', 's', 'o'), 'fd00:10:16::abcd')).toBe(true);
    expect(cidrContains(parseCidr('fd00:10:16::/64', 's', 'o'), 'fd00:10:17::1')).toBe(false);
    for (const bad of ['10.16.0.0', '10.16.0.0/33', 'fd00::/129', 'x/8', '10.16.0.0/1a']) {
      expect(() => parseCidr(bad, 'ensure logical switch', 'sub')).toThrow(expect.objectContaining({ code: 'NB_BAD_INPUT', object: 'sub' }));
    }
    expect(() => parseCidrList('10.0.0.0/8,10.1.0.0/16', 's', 'o')).toThrow(/same family/);
  });

  it('gives the router port networks v4 first, each gateway with its CIDR prefix', () => {
    expect(gatewayNetworks('10.16.0.0/16', '10.16.0.1', 's')).toEqual(['10.16.0.1/16']);
    expect(gatewayNetworks('fd00::/120,10.16.0.0/16', 'fd00::1,10.16.0.1', 's')).toEqual(['10.16.0.1/16', 'fd00::1/120']);
    expect(() => gatewayNetworks('10.16.0.0/16', '10.17.0.1', 's')).toThrow(/no gateway/);
    expect(() => gatewayNetworks('10.16.0.0/16', '10.16.0.1,10.16.0.2', 's')).toThrow(/one address per CIDR/);
  });

  it('makes random MACs unicast and locally administered', () => {
    let i = 0;
    const fixed = (n: number) => Uint8Array.from({ length: n }, () => (i++ === 0 ? 0xff : 0x11));
    expect(randomMac(fixed)).toBe('fe:11:11:11:11:11');
  });
});
