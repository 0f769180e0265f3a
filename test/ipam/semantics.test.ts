// Every rule of docs/ipam.md §2–§9, run against each backend that loads (see impls.ts).
import { describe, expect, it } from 'vitest';
import { impls, makeIpam, nativeUnavailable } from './impls.ts';
import { expectIpamError } from './helpers.ts';
import type { AddressRecord } from '../../src/ipam/index.ts';

if (nativeUnavailable !== undefined) {
  // Reported as skipped (never as passed) so a missing native binary stays visible.
  describe('native backend', () => {
    it.skip(`NOT RUN: ${nativeUnavailable}`, () => {});
  });
}

describe.each(impls)('IPAM semantics (%s)', (impl) => {
  const mk = (seed = 1) => makeIpam(impl, seed);
  const alloc = (ipam: ReturnType<typeof mk>, owner: string, extra: Record<string, unknown> = {}) =>
    ipam.allocate({ subnet: 's', owner, nic: 'eth0', ...extra });

  describe('usable range and gateway', () => {
    it('IPv4 /24: network+1 is the gateway, allocation starts at network+2, broadcast never used', () => {
      const ipam = mk();
      ipam.addOrUpdateSubnet({ name: 's', cidr: '10.0.0.0/24' });
      expect(alloc(ipam, 'ns/a').v4).toBe('10.0.0.2');
      expect(ipam.subnetStats('s')).toEqual({
        v4: { available: '252', using: '1', availableRange: '10.0.0.3-10.0.0.254', usingRange: '10.0.0.2' },
      });
    });

    it('IPv6 /120: the all-ones address is not usable either', () => {
      const ipam = mk();
      ipam.addOrUpdateSubnet({ name: 's', cidr: 'fd00::/120' });
      expect(ipam.subnetStats('s')).toEqual({
        v6: { available: '253', using: '0', availableRange: 'fd00::2-fd00::fe', usingRange: '' },
      });
      expectIpamError(() => ipam.allocateStatic({ subnet: 's', owner: 'o/a', nic: 'n', ips: 'fd00::ff' }), 'AddressOutOfRange', {
        message: 'address fd00::ff is out of range of subnet "s"',
      });
    });

    it('/31 and /127 use both addresses; the default gateway is the first one', () => {
      const ipam = mk();
      ipam.addOrUpdateSubnet({ name: 's', cidr: '10.0.0.0/31' });
      expect(alloc(ipam, 'ns/a').v4).toBe('10.0.0.1');
      expectIpamError(() => alloc(ipam, 'ns/b'), 'NoAvailableAddress');
      ipam.addOrUpdateSubnet({ name: 't', cidr: 'fd00::/127', gateway: 'fd00::1' });
      expect(ipam.allocate({ subnet: 't', owner: 'ns/a', nic: 'n' }).v6).toBe('fd00::');
    });

    it('/32 and /128 are CIDRInvalid', () => {
      const ipam = mk();
      expectIpamError(() => ipam.addOrUpdateSubnet({ name: 's', cidr: '10.0.0.1/32' }), 'CIDRInvalid', {
        message: 'subnet "s": invalid cidr "10.0.0.1/32"',
        subnet: 's',
      });
      expectIpamError(() => ipam.addOrUpdateSubnet({ name: 's', cidr: 'fd00::1/128' }), 'CIDRInvalid');
    });

    it.each([
      '',
      '10.0.0.0',
      '10.0.0.0/33',
      '10.0.0.256/24',
      'fd00::/129',
      '10.0.0.0/024',
      ' 10.0.0.0/24',
      '10.0.0.0/24,10.1.0.0/24',
      '10.0.0.0/24,fd00::/64,fd01::/64',
      'fd00::1.2.3.4/120',
      '10.0.0.0/24,',
      '10.0.0.0/-1',
      'fd00:::/64',
    ])('malformed cidr %j is CIDRInvalid', (cidr) => {
      expectIpamError(() => mk().addOrUpdateSubnet({ name: 's', cidr }), 'CIDRInvalid');
    });

    it('host bits are masked off, and a dual-stack cidr may list IPv6 first', () => {
      const ipam = mk();
      ipam.addOrUpdateSubnet({ name: 's', cidr: 'fd00::7/120,10.0.0.5/24' });
      expect(alloc(ipam, 'ns/a')).toMatchObject({ v4: '10.0.0.2', v6: 'fd00::2' });
    });

    it('an explicit gateway is excluded and the first usable address becomes allocatable', () => {
      const ipam = mk();
      ipam.addOrUpdateSubnet({ name: 's', cidr: '10.0.0.0/24,fd00::/120', gateway: 'fd00::fe,10.0.0.254' });
      expect(alloc(ipam, 'ns/a')).toMatchObject({ v4: '10.0.0.1', v6: 'fd00::1' });
      expectIpamError(() => ipam.allocateStatic({ subnet: 's', owner: 'o/b', nic: 'n', ips: '10.0.0.254' }), 'AddressConflict', {
        message: 'address 10.0.0.254 is the gateway of subnet "s"',
        address: '10.0.0.254',
      });
    });

    it('gateway errors: malformed, wrong family set, out of range', () => {
      const ipam = mk();
      expectIpamError(() => ipam.addOrUpdateSubnet({ name: 's', cidr: '10.0.0.0/24', gateway: '10.0.0.x' }), 'InvalidArgument', {
        message: 'invalid IP address "10.0.0.x"',
      });
      expectIpamError(() => ipam.addOrUpdateSubnet({ name: 's', cidr: '10.0.0.0/24,fd00::/64', gateway: '10.0.0.1' }), 'InvalidArgument', {
        message: 'subnet "s": gateway "10.0.0.1" must give one address per family of the subnet',
      });
      expectIpamError(() => ipam.addOrUpdateSubnet({ name: 's', cidr: '10.0.0.0/24', gateway: 'fd00::1' }), 'InvalidArgument');
      expectIpamError(() => ipam.addOrUpdateSubnet({ name: 's', cidr: '10.0.0.0/24', gateway: '10.0.0.1,10.0.0.2' }), 'InvalidArgument');
      expectIpamError(() => ipam.addOrUpdateSubnet({ name: 's', cidr: '10.0.0.0/24', gateway: '10.0.0.255' }), 'AddressOutOfRange', {
        message: 'address 10.0.0.255 is out of range of subnet "s"',
      });
      expectIpamError(() => ipam.subnetStats('s'), 'NoSubnet', { message: 'subnet "s" does not exist' });
    });
  });

  describe('excludeIps', () => {
    it('single addresses and a..b ranges are never allocated; entries are clipped and other families ignored', () => {
      const ipam = mk();
      ipam.addOrUpdateSubnet({
        name: 's',
        cidr: '10.0.0.0/28',
        excludeIps: ['10.0.0.2', '10.0.0.4..10.0.0.6', '10.0.0.12..10.0.1.20', '9.0.0.0..10.0.0.0', 'fd00::5', '192.168.0.1'],
      });
      expect(ipam.subnetStats('s').v4).toEqual({
        available: '6',
        using: '0',
        availableRange: '10.0.0.3,10.0.0.7-10.0.0.11',
        usingRange: '',
      });
      expect([1, 2, 3].map((i) => alloc(ipam, `ns/p${i}`).v4)).toEqual(['10.0.0.3', '10.0.0.7', '10.0.0.8']);
    });

    it.each([
      ['10.0.0.x', 'invalid IP address "10.0.0.x"'],
      ['10.0.0.9..10.0.0.3', 'invalid IP range "10.0.0.9..10.0.0.3"'],
      ['10.0.0.1..fd00::1', 'invalid IP range "10.0.0.1..fd00::1"'],
      ['10.0.0.1..10.0.0.2..10.0.0.3', 'invalid IP range "10.0.0.1..10.0.0.2..10.0.0.3"'],
      ['10.0.0.0/28', 'invalid IP range "10.0.0.0/28"'],
      ['', 'invalid IP address ""'],
    ])('bad exclude entry %j is InvalidArgument', (entry, message) => {
      const ipam = mk();
      expectIpamError(() => ipam.addOrUpdateSubnet({ name: 's', cidr: '10.0.0.0/24', excludeIps: [entry] }), 'InvalidArgument', {
        message,
        subnet: 's',
      });
      expectIpamError(() => ipam.subnetStats('s'), 'NoSubnet');
    });
  });

  describe('sequential allocation and the released list', () => {
    it('released addresses wait until never-used ones run out, then are recycled lowest first (lazy turnover)', () => {
      const ipam = mk();
      ipam.addOrUpdateSubnet({ name: 's', cidr: '10.0.0.0/29' }); // usable .1-.6, gateway .1
      expect(['a', 'b', 'c', 'd'].map((o) => alloc(ipam, o).v4)).toEqual(['10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5']);
      ipam.releaseNic('c', 'eth0'); // .4 released while .6 is still free
      expect(alloc(ipam, 'e').v4).toBe('10.0.0.6');
      // free is now empty; releases before the next pick all join the turnover
      ipam.releaseNic('a', 'eth0');
      ipam.releaseNic('d', 'eth0');
      expect(alloc(ipam, 'f').v4).toBe('10.0.0.2');
      ipam.releaseNic('b', 'eth0'); // .3: after the turnover, waits for the next one
      expect(alloc(ipam, 'g').v4).toBe('10.0.0.4');
      expect(alloc(ipam, 'h').v4).toBe('10.0.0.5');
      expect(alloc(ipam, 'i').v4).toBe('10.0.0.3');
      expectIpamError(() => alloc(ipam, 'j'), 'NoAvailableAddress', {
        message: 'subnet "s" pool "" has no available ipv4 address for j/eth0',
        subnet: 's',
        pool: '',
        owner: 'j',
        nic: 'eth0',
      });
    });

    it('re-allocating a NIC returns the same address and MAC and changes nothing', () => {
      const ipam = mk();
      ipam.addOrUpdateSubnet({ name: 's', cidr: '10.0.0.0/24,fd00::/120' });
      const first = alloc(ipam, 'a');
      const stats = ipam.subnetStats('s');
      expect(alloc(ipam, 'a')).toEqual(first);
      expect(ipam.subnetStats('s')).toEqual(stats);
      expect(alloc(ipam, 'b').v4).toBe('10.0.0.3');
    });

    it('a NIC on a skipped address moves; the old address is released, not reused at once', () => {
      const ipam = mk();
      ipam.addOrUpdateSubnet({ name: 's', cidr: '10.0.0.0/24' });
      const a = alloc(ipam, 'a');
      const moved = alloc(ipam, 'a', { skip: ['10.0.0.2', '10.0.0.3', 'fd00::1', '192.168.1.1'] });
      expect(moved).toEqual({ v4: '10.0.0.4', mac: a.mac });
      expect(ipam.ownerOf('s', '10.0.0.2')).toBeUndefined();
      expect(alloc(ipam, 'b').v4).toBe('10.0.0.3');
      expect(ipam.subnetStats('s').v4!.using).toBe('2');
    });

    it('skip covering every free address is AddressConflict even with released addresses left', () => {
      const ipam = mk();
      ipam.addOrUpdateSubnet({ name: 's', cidr: '10.0.0.0/29' });
      for (const o of ['a', 'b', 'c']) alloc(ipam, o); // .2 .3 .4; free .5 .6
      ipam.releaseNic('a', 'eth0'); // .2 released
      expectIpamError(() => alloc(ipam, 'x', { skip: ['10.0.0.5', '10.0.0.6'] }), 'AddressConflict', {
        message: 'subnet "s" pool "": every free ipv4 address is in skip for x/eth0',
      });
      expect(alloc(ipam, 'x', { skip: ['10.0.0.5'] }).v4).toBe('10.0.0.6');
    });

    it('a failed move leaves the NIC on its old address (no partial state)', () => {
      const ipam = mk();
      ipam.addOrUpdateSubnet({ name: 's', cidr: '10.0.0.0/29' });
      for (const o of ['a', 'b', 'c', 'd', 'e']) alloc(ipam, o); // .2-.6, free empty
      const before = ipam.addressesOf('e');
      // the moving address joins the turnover, is skipped, so: AddressConflict (not NoAvailable)
      expectIpamError(() => alloc(ipam, 'e', { skip: ['10.0.0.6'] }), 'AddressConflict');
      expect(ipam.addressesOf('e')).toEqual(before);
      expect(ipam.ownerOf('s', '10.0.0.6')).toBe('e');
      ipam.releaseNic('b', 'eth0');
      expect(alloc(ipam, 'e', { skip: ['10.0.0.6'] }).v4).toBe('10.0.0.3');
      expect(alloc(ipam, 'f').v4).toBe('10.0.0.6');
    });

    it('malformed skip entries are InvalidArgument', () => {
      const ipam = mk();
      ipam.addOrUpdateSubnet({ name: 's', cidr: '10.0.0.0/24' });
      expectIpamError(() => alloc(ipam, 'a', { skip: ['10.0.0.300'] }), 'InvalidArgument', {
        message: 'invalid IP address "10.0.0.300"',
        address: '10.0.0.300',
      });
      expect(ipam.addressesOf('a')).toEqual([]);
    });
  });

  describe('dual stack and families', () => {
    it('both families or neither: an exhausted IPv6 side leaves no IPv4 address or MAC', () => {
      const ipam = mk();
      ipam.addOrUpdateSubnet({ name: 's', cidr: '10.0.0.0/24,fd00::/126' }); // v6 usable ::1-::2, gw ::1
      expect(alloc(ipam, 'a')).toMatchObject({ v4: '10.0.0.2', v6: 'fd00::2' });
      const stats = ipam.subnetStats('s');
      expectIpamError(() => alloc(ipam, 'b', { mac: '02:00:00:00:00:01' }), 'NoAvailableAddress');
      expect(ipam.addressesOf('b')).toEqual([]);
      expect(ipam.subnetStats('s')).toEqual(stats);
      expect(ipam.allocate({ subnet: 's', owner: 'c', nic: 'eth0', family: 'ipv4', mac: '02:00:00:00:00:01' })).toEqual({
        v4: '10.0.0.3',
        mac: '02:00:00:00:00:01',
      });
    });

    it('family narrows a dual-stack subnet; InvalidIPFamily on a single-stack subnet of the other family', () => {
      const ipam = mk();
      ipam.addOrUpdateSubnet({ name: 's', cidr: '10.0.0.0/24,fd00::/120' });
      const v4 = alloc(ipam, 'a', { family: 'ipv4' });
      expect(Object.keys(v4).sort()).toEqual(['mac', 'v4']);
      const v6 = alloc(ipam, 'a', { family: 'ipv6' });
      expect(v6).toEqual({ v6: 'fd00::2', mac: v4.mac });
      expect(alloc(ipam, 'a')).toEqual({ v4: '10.0.0.2', v6: 'fd00::2', mac: v4.mac });
      ipam.addOrUpdateSubnet({ name: 't', cidr: '10.1.0.0/24' });
      expectIpamError(() => ipam.allocate({ subnet: 't', owner: 'a', nic: 'n', family: 'ipv6' }), 'InvalidIPFamily', {
        message: 'subnet "t" has no ipv6 addresses',
        subnet: 't',
        owner: 'a',
        nic: 'n',
      });
    });
  });

  describe('MACs', () => {
    it('generated MACs follow splitmix64 from the seed and are locally administered unicast', () => {
      const a = mk(0);
      const b = mk(0);
      for (const ipam of [a, b]) ipam.addOrUpdateSubnet({ name: 's', cidr: '10.0.0.0/24' });
      const macsA = ['p', 'q', 'r'].map((o) => alloc(a, o).mac);
      const macsB = ['p', 'q', 'r'].map((o) => alloc(b, o).mac);
      expect(macsA[0]).toBe('e2:20:a8:39:7b:1d');
      expect(macsB).toEqual(macsA);
      for (const m of macsA) {
        const b0 = parseInt(m!.slice(0, 2), 16);
        expect(b0 & 0x02).toBe(2);
        expect(b0 & 0x01).toBe(0);
      }
    });

    it('a failed call draws no random number; a generated MAC skips MACs already held', () => {
      const ipam = mk(0);
      ipam.addOrUpdateSubnet({ name: 's', cidr: '10.0.0.0/24' });
      expectIpamError(() => alloc(ipam, 'x', { pool: 'nope' }), 'NoAvailableAddress', { message: 'subnet "s" has no pool "nope"' });
      ipam.allocateStatic({ subnet: 's', owner: 'st', nic: 'eth0', ips: '10.0.0.100', mac: 'E2:20:A8:39:7B:1D' });
      const ref = mk(0);
      ref.addOrUpdateSubnet({ name: 's', cidr: '10.0.0.0/24' });
      ref.allocate({ subnet: 's', owner: 'z', nic: 'eth0' });
      const second = ref.allocate({ subnet: 's', owner: 'y', nic: 'eth0' }).mac;
      // the first draw collides with the static MAC, so the second one is used
      expect(alloc(ipam, 'a').mac).toBe(second);
      expect(ipam.addressesOf('st')[0]!.mac).toBe('e2:20:a8:39:7b:1d');
    });

    it('mac null gives no MAC; omitted reuses the NIC MAC; a string replaces it and frees the old one', () => {
      const ipam = mk();
      ipam.addOrUpdateSubnet({ name: 's', cidr: '10.0.0.0/24' });
      expect(alloc(ipam, 'a', { mac: null })).toEqual({ v4: '10.0.0.2' });
      const withMac = alloc(ipam, 'a');
      expect(withMac.mac).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
      expect(alloc(ipam, 'a', { mac: null })).toEqual(withMac);
      expect(alloc(ipam, 'a', { mac: '0A:00:00:00:00:01' })).toEqual({ v4: '10.0.0.2', mac: '0a:00:00:00:00:01' });
      expect(alloc(ipam, 'b', { mac: withMac.mac })).toEqual({ v4: '10.0.0.3', mac: withMac.mac });
    });

    it('a static MAC held by another NIC is AddressConflict, by another owner or the same one', () => {
      const ipam = mk();
      ipam.addOrUpdateSubnet({ name: 's', cidr: '10.0.0.0/24' });
      alloc(ipam, 'a', { mac: '0a:00:00:00:00:01' });
      expectIpamError(() => alloc(ipam, 'b', { mac: '0a:00:00:00:00:01' }), 'AddressConflict', {
        message: 'mac 0a:00:00:00:00:01 in subnet "s" is held by "a"',
        heldBy: 'a',
        address: '0a:00:00:00:00:01',
      });
      expectIpamError(() => ipam.allocate({ subnet: 's', owner: 'a', nic: 'eth1', mac: '0a:00:00:00:00:01' }), 'AddressConflict');
      expect(ipam.addressesOf('b')).toEqual([]);
      // unique within the subnet only
      ipam.addOrUpdateSubnet({ name: 't', cidr: '10.1.0.0/24' });
      expect(ipam.allocate({ subnet: 't', owner: 'b', nic: 'eth0', mac: '0a:00:00:00:00:01' }).mac).toBe('0a:00:00:00:00:01');
    });

    it.each(['', 'zz:00:00:00:00:00', '0a:00:00:00:00', '0a-00-00-00-00-01', '0a:00:00:00:00:01:02', '0a:0:00:00:00:01'])(
      'malformed MAC %j is InvalidMAC',
      (mac) => {
        const ipam = mk();
        ipam.addOrUpdateSubnet({ name: 's', cidr: '10.0.0.0/24' });
        expectIpamError(() => alloc(ipam, 'a', { mac }), 'InvalidMAC', { message: `invalid MAC address ${JSON.stringify(mac)}` });
        expectIpamError(() => ipam.allocateStatic({ subnet: 's', owner: 'a', nic: 'n', ips: '10.0.0.9', mac }), 'InvalidMAC');
        expect(ipam.addressesOf('a')).toEqual([]);
      },
    );
  });

  describe('static allocation', () => {
    const setup = () => {
      const ipam = mk();
      ipam.addOrUpdateSubnet({ name: 's', cidr: '10.0.0.0/24', excludeIps: ['10.0.0.50..10.0.0.60'] });
      return ipam;
    };
    const st = (ipam: ReturnType<typeof mk>, owner: string, ips: string, extra: Record<string, unknown> = {}) =>
      ipam.allocateStatic({ subnet: 's', owner, nic: 'eth0', ips, ...extra });

    it('takes the address, which allocate then never hands out', () => {
      const ipam = setup();
      expect(st(ipam, 'a', '10.0.0.2', { mac: null })).toEqual({ v4: '10.0.0.2' });
      expect(alloc(ipam, 'b').v4).toBe('10.0.0.3');
      expect(st(ipam, 'a', '10.0.0.2', { mac: null })).toEqual({ v4: '10.0.0.2' });
    });

    it('out of range, gateway and other holders', () => {
      const ipam = setup();
      for (const ip of ['10.0.1.1', '10.0.0.0', '10.0.0.255', 'fd00::5']) {
        expectIpamError(() => st(ipam, 'a', ip), 'AddressOutOfRange', { message: `address ${ip} is out of range of subnet "s"` });
      }
      expectIpamError(() => st(ipam, 'a', '10.0.0.1'), 'AddressConflict');
      st(ipam, 'a', '10.0.0.9');
      expectIpamError(() => st(ipam, 'b', '10.0.0.9'), 'AddressConflict', {
        message: 'address 10.0.0.9 in subnet "s" is held by "a"',
        heldBy: 'a',
        owner: 'b',
        nic: 'eth0',
        subnet: 's',
        address: '10.0.0.9',
      });
      expectIpamError(() => ipam.allocateStatic({ subnet: 's', owner: 'a', nic: 'eth1', ips: '10.0.0.9' }), 'AddressConflict', {
        message: 'address 10.0.0.9 in subnet "s" is held by "a" nic "eth0"',
      });
      expectIpamError(() => ipam.allocateStatic({ subnet: 'x', owner: 'a', nic: 'eth1', ips: '10.0.0.9' }), 'NoSubnet', {
        subnet: 'x',
        owner: 'a',
        nic: 'eth1',
      });
    });

    it('force moves an address (and MAC) between NICs of the same owner only', () => {
      const ipam = setup();
      const a = st(ipam, 'a', '10.0.0.9');
      const moved = ipam.allocateStatic({ subnet: 's', owner: 'a', nic: 'eth1', ips: '10.0.0.9', mac: a.mac, force: true });
      expect(moved).toEqual({ v4: '10.0.0.9', mac: a.mac });
      expect(ipam.addressesOf('a')).toEqual([{ subnet: 's', owner: 'a', nic: 'eth1', v4: '10.0.0.9', mac: a.mac }]);
      expectIpamError(() => ipam.allocateStatic({ subnet: 's', owner: 'b', nic: 'eth1', ips: '10.0.0.9', force: true }), 'AddressConflict');
    });

    it('an excluded address may be held statically and does not count as using', () => {
      const ipam = setup();
      const before = ipam.subnetStats('s');
      expect(st(ipam, 'a', '10.0.0.55').v4).toBe('10.0.0.55');
      expect(ipam.ownerOf('s', '10.0.0.55')).toBe('a');
      expect(ipam.subnetStats('s')).toEqual(before);
      ipam.releaseNic('a', 'eth0');
      expect(ipam.subnetStats('s')).toEqual(before);
    });

    it('changing the static address releases the old one to the released list', () => {
      const ipam = setup();
      st(ipam, 'a', '10.0.0.2');
      st(ipam, 'a', '10.0.0.7');
      expect(ipam.ownerOf('s', '10.0.0.2')).toBeUndefined();
      expect(alloc(ipam, 'b').v4).toBe('10.0.0.3');
      expect(ipam.subnetStats('s').v4!.using).toBe('2');
    });

    it('a static request takes a released address out of the released list', () => {
      const ipam = mk();
      ipam.addOrUpdateSubnet({ name: 's', cidr: '10.0.0.0/29' });
      for (const o of ['a', 'b', 'c', 'd', 'e']) alloc(ipam, o);
      ipam.releaseNic('b', 'eth0');
      ipam.releaseNic('c', 'eth0');
      st(ipam, 'x', '10.0.0.3');
      expect(alloc(ipam, 'y').v4).toBe('10.0.0.4');
      expectIpamError(() => alloc(ipam, 'z'), 'NoAvailableAddress');
    });

    it('a conflict leaves the NIC on its old address', () => {
      const ipam = setup();
      st(ipam, 'a', '10.0.0.2');
      st(ipam, 'b', '10.0.0.3');
      expectIpamError(() => st(ipam, 'a', '10.0.0.3'), 'AddressConflict');
      expect(ipam.ownerOf('s', '10.0.0.2')).toBe('a');
    });

    it('dual stack with one family given allocates the other, or keeps the one the NIC has', () => {
      const ipam = mk();
      ipam.addOrUpdateSubnet({ name: 's', cidr: '10.0.0.0/24,fd00::/120' });
      const r = ipam.allocateStatic({ subnet: 's', owner: 'a', nic: 'eth0', ips: 'FD00::0A' });
      expect(r).toMatchObject({ v4: '10.0.0.2', v6: 'fd00::a' });
      const again = ipam.allocateStatic({ subnet: 's', owner: 'a', nic: 'eth0', ips: '10.0.0.20' });
      expect(again).toEqual({ v4: '10.0.0.20', v6: 'fd00::a', mac: r.mac });
      expect(ipam.allocateStatic({ subnet: 's', owner: 'b', nic: 'eth0', ips: '10.0.0.21,fd00::21', mac: null })).toEqual({
        v4: '10.0.0.21',
        v6: 'fd00::21',
      });
    });

    it.each(['', '10.0.0.x', '10.0.0.1,10.0.0.2', '10.0.0.1,fd00::1,10.0.0.3', '10.0.0.1,', ' 10.0.0.1'])(
      'malformed static ips %j is InvalidArgument',
      (ips) => {
        const ipam = setup();
        expectIpamError(() => st(ipam, 'a', ips), 'InvalidArgument', { message: `invalid static ips ${JSON.stringify(ips)}` });
      },
    );
  });

  describe('pools', () => {
    const setup = () => {
      const ipam = mk();
      ipam.addOrUpdateSubnet({ name: 's', cidr: '10.0.0.0/24' });
      ipam.addOrUpdatePool('s', 'p1', ['10.0.0.10..10.0.0.12', '10.0.0.20/31']);
      return ipam;
    };

    it('allocation is sequential within the pool; the default pool skips pool members', () => {
      const ipam = setup();
      expect([1, 2, 3, 4, 5].map((i) => alloc(ipam, `o${i}`, { pool: 'p1' }).v4)).toEqual([
        '10.0.0.10',
        '10.0.0.11',
        '10.0.0.12',
        '10.0.0.20',
        '10.0.0.21',
      ]);
      expectIpamError(() => alloc(ipam, 'o6', { pool: 'p1' }), 'NoAvailableAddress', { pool: 'p1' });
      for (let i = 0; i < 8; i++) alloc(ipam, `d${i}`);
      expect(alloc(ipam, 'd8').v4).toBe('10.0.0.13');
      expect(ipam.poolStats('s', 'p1').v4).toEqual({ available: '0', using: '5', availableRange: '', usingRange: '10.0.0.10-10.0.0.12,10.0.0.20-10.0.0.21' });
      expect(ipam.poolStats('s', '').v4!.using).toBe('9');
    });

    it('overlapping pools are AddressConflict naming both pools', () => {
      const ipam = setup();
      expectIpamError(() => ipam.addOrUpdatePool('s', 'p2', ['10.0.0.12..10.0.0.15']), 'AddressConflict', {
        message: 'pool "p2" overlaps pool "p1" in subnet "s": 10.0.0.12',
        subnet: 's',
        pool: 'p2',
      });
      ipam.addOrUpdatePool('s', 'p1', ['10.0.0.30']); // updating the pool itself is not an overlap
      ipam.addOrUpdatePool('s', 'p2', ['10.0.0.12..10.0.0.15']);
    });

    it('removePool returns its addresses (free and held) to the default pool', () => {
      const ipam = setup();
      alloc(ipam, 'a', { pool: 'p1' });
      ipam.removePool('s', 'p1');
      ipam.removePool('s', 'p1');
      expectIpamError(() => ipam.poolStats('s', 'p1'), 'NoAvailableAddress');
      expect(ipam.poolStats('s', '').v4).toMatchObject({ available: '252', using: '1' });
      for (let i = 0; i < 8; i++) alloc(ipam, `d${i}`);
      expect(alloc(ipam, 'd8').v4).toBe('10.0.0.11');
    });

    it("adding a pool returns the default pool's released addresses to its free set", () => {
      const ipam = mk();
      ipam.addOrUpdateSubnet({ name: 's', cidr: '10.0.0.0/24' });
      for (const o of ['a', 'b', 'c']) alloc(ipam, o);
      ipam.releaseNic('a', 'eth0');
      ipam.addOrUpdatePool('s', 'p', ['10.0.0.200..10.0.0.210']);
      expect(alloc(ipam, 'd').v4).toBe('10.0.0.2');
    });

    it('held addresses inside a new pool become that pool’s using', () => {
      const ipam = mk();
      ipam.addOrUpdateSubnet({ name: 's', cidr: '10.0.0.0/24' });
      ipam.allocateStatic({ subnet: 's', owner: 'a', nic: 'eth0', ips: '10.0.0.11' });
      ipam.addOrUpdatePool('s', 'p', ['10.0.0.10..10.0.0.12', '10.1.0.0/16', 'fd00::1']);
      expect(ipam.poolStats('s', 'p')).toEqual({
        v4: { available: '2', using: '1', availableRange: '10.0.0.10,10.0.0.12', usingRange: '10.0.0.11' },
      });
      expect(alloc(ipam, 'b', { pool: 'p' }).v4).toBe('10.0.0.10');
      expect(alloc(ipam, 'c', { pool: 'p' }).v4).toBe('10.0.0.12');
    });

    it('IPv6 /64 pools (sparse sets): carve, allocate, remove, re-carve', () => {
      const ipam = mk();
      ipam.addOrUpdateSubnet({ name: 's', cidr: '10.0.0.0/24,fd00::/64' });
      ipam.addOrUpdatePool('s', 'p', ['10.0.0.100..10.0.0.101', 'fd00::1:0/112']);
      expect(alloc(ipam, 'a', { pool: 'p', mac: null })).toEqual({ v4: '10.0.0.100', v6: 'fd00::1:0' });
      expect(alloc(ipam, 'b', { pool: 'p', mac: null })).toEqual({ v4: '10.0.0.101', v6: 'fd00::1:1' });
      expectIpamError(() => alloc(ipam, 'c', { pool: 'p' }), 'NoAvailableAddress');
      expect(ipam.poolStats('s', 'p').v6).toEqual({
        available: '65534',
        using: '2',
        availableRange: 'fd00::1:2-fd00::1:ffff',
        usingRange: 'fd00::1:0-fd00::1:1',
      });
      ipam.releaseNic('a', 'eth0');
      ipam.removePool('s', 'p');
      const def = ipam.poolStats('s', '').v6!;
      expect(def.using).toBe('1');
      expect(def.available).toBe((2n ** 64n - 2n - 1n - 1n).toString());
      ipam.addOrUpdatePool('s', 'q', ['fd00::1:0..fd00::1:1', '10.0.0.100..10.0.0.101']);
      expect(alloc(ipam, 'c', { pool: 'q', mac: null })).toEqual({ v4: '10.0.0.100', v6: 'fd00::1:0' });
    });

    it('a family added to a subnet later gets its pool members from the pool entries', () => {
      const ipam = mk();
      ipam.addOrUpdateSubnet({ name: 's', cidr: '10.0.0.0/24' });
      ipam.addOrUpdatePool('s', 'p', ['10.0.0.50', 'fd00::50']);
      alloc(ipam, 'a', { mac: null });
      const res = ipam.addOrUpdateSubnet({ name: 's', cidr: '10.0.0.0/24,fd00::/120' });
      expect(res.invalidated).toEqual([]);
      expect(ipam.poolStats('s', 'p')).toEqual({
        v4: { available: '1', using: '0', availableRange: '10.0.0.50', usingRange: '' },
        v6: { available: '1', using: '0', availableRange: 'fd00::50', usingRange: '' },
      });
      expect(alloc(ipam, 'a', { mac: null })).toEqual({ v4: '10.0.0.2', v6: 'fd00::2' });
    });

    it('pool argument errors', () => {
      const ipam = setup();
      expectIpamError(() => ipam.addOrUpdatePool('s', '', []), 'InvalidArgument', { message: 'pool name must not be empty' });
      expectIpamError(() => ipam.removePool('s', ''), 'InvalidArgument');
      expectIpamError(() => ipam.addOrUpdatePool('s', 'p', ['10.0.0.1/33']), 'InvalidArgument', { message: 'invalid IP range "10.0.0.1/33"' });
      expectIpamError(() => ipam.addOrUpdatePool('s', 'p', ['nope']), 'InvalidArgument', { message: 'invalid IP address "nope"' });
      expectIpamError(() => ipam.addOrUpdatePool('x', 'p', []), 'NoSubnet', { subnet: 'x', pool: 'p' });
      expectIpamError(() => ipam.removePool('x', 'p'), 'NoSubnet');
      expectIpamError(() => ipam.poolStats('s', 'zz'), 'NoAvailableAddress', { message: 'subnet "s" has no pool "zz"' });
    });
  });

  describe('subnet updates', () => {
    it('re-adding an unchanged subnet changes nothing, not even the released list', () => {
      const ipam = mk();
      const spec = { name: 's', cidr: '10.0.0.0/24', excludeIps: ['10.0.0.9'] };
      ipam.addOrUpdateSubnet(spec);
      for (const o of ['a', 'b']) alloc(ipam, o);
      ipam.releaseNic('a', 'eth0');
      expect(ipam.addOrUpdateSubnet({ ...spec, gateway: '10.0.0.1', excludeIps: ['10.0.0.9..10.0.0.9', '10.0.0.1'] })).toEqual({
        invalidated: [],
      });
      expect(alloc(ipam, 'c').v4).toBe('10.0.0.4');
    });

    it('a CIDR change keeps valid holders and reports the others', () => {
      const ipam = mk();
      ipam.addOrUpdateSubnet({ name: 's', cidr: '10.0.0.0/24,fd00::/120' });
      const a = alloc(ipam, 'a');
      ipam.allocateStatic({ subnet: 's', owner: 'b', nic: 'eth0', ips: '10.0.0.200,fd00::3', mac: null });
      ipam.allocateStatic({ subnet: 's', owner: 'c', nic: 'eth0', ips: '10.0.0.201,fd00::ee' });
      const res = ipam.addOrUpdateSubnet({ name: 's', cidr: '10.0.0.0/25,fd00::/120' });
      const c = ipam.addressesOf('c');
      expect(c).toEqual([{ subnet: 's', owner: 'c', nic: 'eth0', v6: 'fd00::ee', mac: expect.any(String) }]);
      expect(res.invalidated).toEqual([
        { subnet: 's', owner: 'b', nic: 'eth0', v4: '10.0.0.200' },
        { subnet: 's', owner: 'c', nic: 'eth0', v4: '10.0.0.201' },
      ]);
      expect(ipam.addressesOf('a')).toEqual([{ subnet: 's', owner: 'a', nic: 'eth0', v4: a.v4, v6: a.v6, mac: a.mac }]);
      expect(ipam.subnetStats('s').v4).toMatchObject({ using: '1', available: '124' });
      // a NIC that loses everything disappears with its MAC
      const res2 = ipam.addOrUpdateSubnet({ name: 's', cidr: '10.0.0.0/25' });
      expect(res2.invalidated).toEqual([
        { subnet: 's', owner: 'a', nic: 'eth0', v6: a.v6 },
        { subnet: 's', owner: 'b', nic: 'eth0', v6: 'fd00::3' },
        { subnet: 's', owner: 'c', nic: 'eth0', v6: 'fd00::ee', mac: c[0]!.mac },
      ]);
      expect(ipam.addressesOf('c')).toEqual([]);
      expect(ipam.subnetStats('s').v6).toBeUndefined();
    });

    it('an exclude change keeps now-excluded holders (not using) and resets released lists', () => {
      const ipam = mk();
      ipam.addOrUpdateSubnet({ name: 's', cidr: '10.0.0.0/24' });
      for (const o of ['a', 'b', 'c']) alloc(ipam, o);
      ipam.releaseNic('a', 'eth0');
      const res = ipam.addOrUpdateSubnet({ name: 's', cidr: '10.0.0.0/24', excludeIps: ['10.0.0.3'] });
      expect(res.invalidated).toEqual([]);
      expect(ipam.ownerOf('s', '10.0.0.3')).toBe('b');
      expect(ipam.subnetStats('s').v4).toMatchObject({ using: '1', usingRange: '10.0.0.4' });
      expect(alloc(ipam, 'd').v4).toBe('10.0.0.2');
    });

    it('a gateway moved onto a held address invalidates it', () => {
      const ipam = mk();
      ipam.addOrUpdateSubnet({ name: 's', cidr: '10.0.0.0/24' });
      alloc(ipam, 'a', { mac: null });
      expect(ipam.addOrUpdateSubnet({ name: 's', cidr: '10.0.0.0/24', gateway: '10.0.0.2' }).invalidated).toEqual([
        { subnet: 's', owner: 'a', nic: 'eth0', v4: '10.0.0.2' },
      ]);
    });

    it('an invalid update changes nothing', () => {
      const ipam = mk();
      ipam.addOrUpdateSubnet({ name: 's', cidr: '10.0.0.0/24' });
      alloc(ipam, 'a');
      const stats = ipam.subnetStats('s');
      expectIpamError(() => ipam.addOrUpdateSubnet({ name: 's', cidr: '10.0.0.0/25', excludeIps: ['bad'] }), 'InvalidArgument');
      expect(ipam.subnetStats('s')).toEqual(stats);
    });

    it('deleteSubnet forgets every holder; deleting again is a no-op', () => {
      const ipam = mk();
      ipam.addOrUpdateSubnet({ name: 's', cidr: '10.0.0.0/24' });
      alloc(ipam, 'a');
      ipam.deleteSubnet('s');
      ipam.deleteSubnet('s');
      expect(ipam.addressesOf('a')).toEqual([]);
      expectIpamError(() => alloc(ipam, 'a'), 'NoSubnet', { message: 'subnet "s" does not exist', owner: 'a', nic: 'eth0' });
    });
  });

  describe('release and queries', () => {
    it('releaseNic / releaseOwner with and without a subnet; unknown ones are no-ops', () => {
      const ipam = mk();
      ipam.addOrUpdateSubnet({ name: 's', cidr: '10.0.0.0/24' });
      ipam.addOrUpdateSubnet({ name: 't', cidr: '10.1.0.0/24' });
      for (const subnet of ['s', 't']) for (const nic of ['eth0', 'eth1']) ipam.allocate({ subnet, owner: 'a', nic, mac: null });
      expect(ipam.addressesOf('a').map((r) => `${r.subnet}/${r.nic}=${r.v4}`)).toEqual([
        's/eth0=10.0.0.2',
        's/eth1=10.0.0.3',
        't/eth0=10.1.0.2',
        't/eth1=10.1.0.3',
      ]);
      ipam.releaseNic('a', 'eth1', 't');
      ipam.releaseNic('a', 'nope');
      ipam.releaseNic('a', 'eth0', 'nosubnet');
      ipam.releaseOwner('nobody');
      expect(ipam.addressesOf('a')).toHaveLength(3);
      ipam.releaseNic('a', 'eth0');
      expect(ipam.addressesOf('a').map((r) => `${r.subnet}/${r.nic}`)).toEqual(['s/eth1']);
      ipam.allocate({ subnet: 't', owner: 'a', nic: 'eth9', mac: null });
      ipam.releaseOwner('a', 's');
      expect(ipam.addressesOf('a').map((r) => `${r.subnet}/${r.nic}`)).toEqual(['t/eth9']);
      ipam.releaseOwner('a');
      expect(ipam.addressesOf('a')).toEqual([]);
      expect(ipam.subnetStats('t').v4!.using).toBe('0');
    });

    it('ownerOf answers per subnet and rejects malformed addresses', () => {
      const ipam = mk();
      ipam.addOrUpdateSubnet({ name: 's', cidr: '10.0.0.0/24,fd00::/64' });
      alloc(ipam, 'a');
      expect(ipam.ownerOf('s', '10.0.0.2')).toBe('a');
      expect(ipam.ownerOf('s', 'fd00:0::2')).toBe('a');
      expect(ipam.ownerOf('s', '10.0.0.3')).toBeUndefined();
      expect(ipam.ownerOf('s', '10.9.0.3')).toBeUndefined();
      expectIpamError(() => ipam.ownerOf('s', '10.0.0'), 'InvalidArgument', { message: 'invalid IP address "10.0.0"' });
      expectIpamError(() => ipam.ownerOf('x', '10.0.0.1'), 'NoSubnet');
    });

    it('IPv6 /64: exact counts and canonical ranges', () => {
      const ipam = mk();
      ipam.addOrUpdateSubnet({ name: 's', cidr: 'fd00:0:0:1::/64' });
      for (let i = 0; i < 300; i++) alloc(ipam, `o${i}`, { mac: null });
      ipam.allocateStatic({ subnet: 's', owner: 'x', nic: 'eth0', ips: 'FD00:0:0:1:0:0:0:FFFF', mac: null });
      ipam.releaseNic('o5', 'eth0');
      expect(ipam.subnetStats('s')).toEqual({
        v6: {
          available: (2n ** 64n - 2n - 1n - 300n).toString(),
          using: '300',
          availableRange: 'fd00:0:0:1::7,fd00:0:0:1::12e-fd00:0:0:1::fffe,fd00::1:0:0:1:0-fd00::1:ffff:ffff:ffff:fffe',
          usingRange: 'fd00:0:0:1::2-fd00:0:0:1::6,fd00:0:0:1::8-fd00:0:0:1::12d,fd00:0:0:1::ffff',
        },
      });
      expect(alloc(ipam, 'n').v6).toBe('fd00:0:0:1::12e');
    });

    it('a huge IPv4 subnet (/7, sparse) behaves like a small one', () => {
      const ipam = mk();
      ipam.addOrUpdateSubnet({ name: 's', cidr: '10.0.0.0/7', excludeIps: ['10.0.0.2..10.0.0.9'] });
      expect(alloc(ipam, 'a').v4).toBe('10.0.0.10');
      ipam.allocateStatic({ subnet: 's', owner: 'b', nic: 'eth0', ips: '11.255.255.254' });
      expect(ipam.subnetStats('s').v4).toEqual({
        available: String(2 ** 25 - 2 - 9 - 2),
        using: '2',
        availableRange: '10.0.0.11-11.255.255.253',
        usingRange: '10.0.0.10,11.255.255.254',
      });
      ipam.releaseNic('a', 'eth0');
      expect(alloc(ipam, 'c').v4).toBe('10.0.0.11');
    });
  });

  describe('restore', () => {
    it('first holder wins; every failure is reported with its code; nothing is overwritten', () => {
      const ipam = mk();
      ipam.addOrUpdateSubnet({ name: 's', cidr: '10.0.0.0/24,fd00::/120', excludeIps: ['10.0.0.100'] });
      const records: AddressRecord[] = [
        { subnet: 's', owner: 'a', nic: 'eth0', v4: '10.0.0.5', v6: 'fd00::5', mac: '0a:00:00:00:00:05' },
        { subnet: 's', owner: 'b', nic: 'eth0', v4: '10.0.0.5' },
        { subnet: 's', owner: 'a', nic: 'eth0', v4: '10.0.0.5', v6: 'fd00::5', mac: '0a:00:00:00:00:05' },
        { subnet: 's', owner: 'a', nic: 'eth0', v4: '10.0.0.6' },
        { subnet: 's', owner: 'c', nic: 'eth0', v4: '10.0.0.7', mac: '0A:00:00:00:00:05' },
        { subnet: 's', owner: 'd', nic: 'eth0', v4: '10.0.0.100' },
        { subnet: 'x', owner: 'e', nic: 'eth0', v4: '10.0.0.8' },
        { subnet: 's', owner: 'e', nic: 'eth0', v4: '10.0.1.8' },
        { subnet: 's', owner: 'e', nic: 'eth0', v4: '10.0.0.1' },
        { subnet: 's', owner: 'e', nic: 'eth0' },
        { subnet: 's', owner: 'e', nic: 'eth0', v4: 'fd00::9' },
        { subnet: 's', owner: 'e', nic: 'eth0', v4: '10.0.0.9', mac: 'nope' },
        { subnet: 's', owner: 'f', nic: 'eth0', v6: 'fd00::10' },
      ];
      const res = ipam.restore(records);
      expect(res.restored).toBe(4);
      expect(res.conflicts.map((c) => [records.indexOf(c.record), c.code, c.heldBy, c.message])).toEqual([
        [1, 'AddressConflict', 'a', 'address 10.0.0.5 in subnet "s" is held by "a"'],
        [3, 'AddressConflict', 'a', 'nic a/eth0 in subnet "s" already holds 10.0.0.5'],
        [4, 'AddressConflict', 'a', 'mac 0a:00:00:00:00:05 in subnet "s" is held by "a"'],
        [6, 'NoSubnet', undefined, 'subnet "x" does not exist'],
        [7, 'AddressOutOfRange', undefined, 'address 10.0.1.8 is out of range of subnet "s"'],
        [8, 'AddressConflict', undefined, 'address 10.0.0.1 is the gateway of subnet "s"'],
        [9, 'InvalidArgument', undefined, 'restore record has no address'],
        [10, 'InvalidArgument', undefined, 'v4 "fd00::9" is not an ipv4 address'],
        [11, 'InvalidMAC', undefined, 'invalid MAC address "nope"'],
      ]);
      expect(res.conflicts[0]!.record).toBe(records[1]);
      expect('heldBy' in res.conflicts[3]!).toBe(false);
      expect(ipam.addressesOf('a')).toEqual([{ subnet: 's', owner: 'a', nic: 'eth0', v4: '10.0.0.5', v6: 'fd00::5', mac: '0a:00:00:00:00:05' }]);
      expect(ipam.addressesOf('f')).toEqual([{ subnet: 's', owner: 'f', nic: 'eth0', v6: 'fd00::10' }]);
      expect(ipam.ownerOf('s', '10.0.0.7')).toBeUndefined();
      expect(ipam.subnetStats('s').v4).toMatchObject({ using: '1', usingRange: '10.0.0.5' });
      expect(ipam.ownerOf('s', '10.0.0.100')).toBe('d');
      expect(alloc(ipam, 'g', { mac: null })).toEqual({ v4: '10.0.0.2', v6: 'fd00::2' });
    });

    it('a NIC that already holds a different MAC is a conflict; a MAC-less NIC takes the restored one', () => {
      const ipam = mk();
      ipam.addOrUpdateSubnet({ name: 's', cidr: '10.0.0.0/24,fd00::/120' });
      const res = ipam.restore([
        { subnet: 's', owner: 'a', nic: 'eth0', v4: '10.0.0.5', mac: '0a:00:00:00:00:01' },
        { subnet: 's', owner: 'a', nic: 'eth0', v6: 'fd00::5', mac: '0a:00:00:00:00:02' },
        { subnet: 's', owner: 'b', nic: 'eth0', v4: '10.0.0.6' },
        { subnet: 's', owner: 'b', nic: 'eth0', v6: 'fd00::6', mac: '0a:00:00:00:00:03' },
      ]);
      expect(res.restored).toBe(3);
      expect(res.conflicts.map((c) => [c.code, c.heldBy, c.message])).toEqual([
        ['AddressConflict', 'a', 'nic a/eth0 in subnet "s" already holds 0a:00:00:00:00:01'],
      ]);
      expect(ipam.addressesOf('a')).toEqual([{ subnet: 's', owner: 'a', nic: 'eth0', v4: '10.0.0.5', mac: '0a:00:00:00:00:01' }]);
      expect(ipam.addressesOf('b')).toEqual([{ subnet: 's', owner: 'b', nic: 'eth0', v4: '10.0.0.6', v6: 'fd00::6', mac: '0a:00:00:00:00:03' }]);
    });

    it('restored addresses are never handed out, in any order', () => {
      const ipam = mk();
      ipam.addOrUpdateSubnet({ name: 's', cidr: '10.0.0.0/26' });
      const ips = Array.from({ length: 30 }, (_, i) => `10.0.0.${2 * i + 2}`).reverse();
      const res = ipam.restore(ips.map((v4, i) => ({ subnet: 's', owner: `o${i}`, nic: 'eth0', v4 })));
      expect(res).toEqual({ restored: 30, conflicts: [] });
      const got = Array.from({ length: 31 }, (_, i) => alloc(ipam, `n${i}`, { mac: null }).v4);
      expect(new Set([...got, ...ips]).size).toBe(61);
      expectIpamError(() => alloc(ipam, 'full'), 'NoAvailableAddress');
    });
  });
});
