// NbClient on a 3-member RAFT cluster with the leader killed while 600 pod ports are being
// created through the coalescer: every call resolves, and afterwards there is exactly one port
// per pod on the switch — none lost, none doubled.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type NbCluster, startNbCluster } from '../../src/localcluster/nb-server.ts';
import { NbClient } from '../../src/ovsdb/nb-client.ts';
import { nbFind, nbctl } from './nb-helpers.ts';

let cluster: NbCluster;
let nb: NbClient;
const PODS = 600;

beforeAll(async () => {
  cluster = await startNbCluster(3);
  nb = await NbClient.connect(cluster.remote, { client: { backoffInitialMs: 50, backoffMaxMs: 500, requestTimeoutMs: 10_000 } });
  await nb.ensureClusterRouter();
  await nb.ensureLogicalSwitch({ name: 'ovn-default', cidr: '10.16.0.0/16', gateway: '10.16.0.1' });
});

afterAll(async () => {
  await nb?.close();
  await cluster?.stop();
});

describe('NbClient across a RAFT leader change', () => {
  it('creates every port exactly once although the leader dies mid-load', async () => {
    const leader = await cluster.waitForLeader();
    let done = 0;
    let next = 0;
    let killed: Promise<void> | undefined;
    const worker = async (): Promise<void> => {
      while (next < PODS) {
        const i = next++;
        await nb.createOrUpdatePodPort({
          pod: `p${i}`,
          namespace: 'raft',
          subnet: 'ovn-default',
          mac: `0a:00:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`,
          ips: [`10.16.${(i >> 8) + 1}.${i & 255}`],
        });
        done++;
        if (done === 150) killed = cluster.kill(leader, 'SIGKILL');
      }
    };
    await Promise.all(Array.from({ length: 32 }, worker));
    await killed;
    expect(done).toBe(PODS);
    expect(killed).toBeDefined();
    // calls really were cut off by the kill and replanned after the reconnect
    expect(nb.stats.reconnects).toBeGreaterThan(0);

    const newLeader = await cluster.waitForLeader(20_000, leader);
    expect(newLeader).not.toBe(leader);
    const live = cluster.members.filter((m) => m.index !== leader).map((m) => m.remote).join(',');
    const names = (await nbFind(live, 'Logical_Switch_Port', 'name')).filter((n) => n.endsWith('.raft'));
    expect(names).toHaveLength(PODS);
    expect(new Set(names).size).toBe(PODS);
    const onSwitch = (await nbctl(live, 'lsp-list', 'ovn-default')).split('\n').filter((l) => l.includes('.raft)'));
    expect(onSwitch).toHaveLength(PODS);
    // and the cache agrees with the server
    expect(nb.cache.rows('Logical_Switch_Port').filter((p) => p.name.endsWith('.raft'))).toHaveLength(PODS);
  });
});
