// A 3-member RAFT cluster on loopback: the client talks only to the leader, follows it when the
// leader is SIGKILLed under load, resumes its monitor with monitor_cond_since, and no
// acknowledged row is lost or doubled.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type NbCluster, serverDatabaseStatus, startNbCluster } from '../../src/localcluster/nb-server.ts';
import { type MonitorEvent, OvsdbClient, OvsdbConnectionError, OvsdbError } from '../../src/ovsdb/index.ts';
import type { Operation } from '../../src/ovsdb/protocol.ts';
import { NB, insertSwitch, sleep, switchNames } from './harness.ts';

let cluster: NbCluster;

beforeAll(async () => {
  cluster = await startNbCluster(3);
});
afterAll(async () => {
  await cluster?.stop();
});

/** Insert guarded by a wait: a retry of a transaction that did commit fails instead of doubling. */
function guardedInsert(name: string): Operation[] {
  return [
    { op: 'wait', table: 'Logical_Switch', where: [['name', '==', name]], columns: ['name'], until: '==', rows: [], timeout: 0 },
    insertSwitch(name, { test: 'raft' }),
  ];
}

describe('3-member RAFT cluster', () => {
  it('connects to the leader even when it is listed last', async () => {
    const leader = await cluster.waitForLeader();
    const ordered = [...cluster.members].sort((a, b) => (a.index === leader ? 1 : b.index === leader ? -1 : 0));
    const client = await OvsdbClient.connect(ordered.map((m) => m.remote).join(','));
    try {
      expect(client.clustered).toBe(true);
      expect(client.currentRemote).toBe(cluster.members[leader]?.remote);
      const status = await serverDatabaseStatus(cluster.members[leader]?.unixSocket as string, NB);
      expect(status).toMatchObject({ model: 'clustered', leader: true, connected: true });
    } finally {
      await client.close();
    }
  });

  it('leader SIGKILLed under load: follows the new leader, resumes the monitor, no row lost or doubled', async () => {
    const client = await OvsdbClient.connect(cluster.tcpRemote, { backoffInitialMs: 50, backoffMaxMs: 1000, requestTimeoutMs: 10_000 });
    const leaderChanges: { previous: string | undefined; current: string }[] = [];
    client.on('leaderChanged', (e) => leaderChanges.push(e));
    const monitorKinds: MonitorEvent['kind'][] = [];
    const seenByMonitor = new Set<string>();
    await client.monitor(NB, 'raft-mon', { Logical_Switch: { columns: ['name'] } }, (e) => {
      monitorKinds.push(e.kind);
      if (e.reset) seenByMonitor.clear();
      for (const change of Object.values(e.updates.Logical_Switch ?? {})) {
        const row = 'insert' in change ? change.insert : 'initial' in change ? change.initial : undefined;
        if (row) seenByMonitor.add(row.name as string);
      }
    });
    const total = 600;
    const names = Array.from({ length: total }, (_, i) => `raft-${i}`);
    const acknowledged = new Set<string>();
    const errorCodes = new Map<string, number>();
    let next = 0;
    let killedAt = -1;

    const worker = async (): Promise<void> => {
      while (next < total) {
        const name = names[next++] as string;
        for (let attempt = 0; ; attempt++) {
          try {
            await client.transact(NB, guardedInsert(name));
            acknowledged.add(name);
            break;
          } catch (err) {
            const code = (err as { code?: string }).code ?? 'unknown';
            errorCodes.set(code, (errorCodes.get(code) ?? 0) + 1);
            if (err instanceof OvsdbError && err.opIndex === 0 && err.code === 'timed out' && attempt > 0) {
              // The earlier attempt committed although its reply was lost: it exists already.
              acknowledged.add(name);
              break;
            }
            if (attempt > 50) throw err;
            if (err instanceof OvsdbConnectionError) await client.waitConnected(20_000).catch(() => {});
            else await sleep(50);
          }
        }
      }
    };

    const killer = (async () => {
      while (acknowledged.size < total / 3) await sleep(5);
      const leader = await cluster.waitForLeader();
      killedAt = acknowledged.size;
      await cluster.kill(leader, 'SIGKILL');
      return leader;
    })();
    await Promise.all(Array.from({ length: 8 }, worker));
    const killed = await killer;
    expect(killedAt).toBeGreaterThan(0);
    expect(killedAt).toBeLessThan(total);

    expect(acknowledged.size).toBe(total);
    const rows = (await switchNames(client)).filter((n) => n.startsWith('raft-'));
    const counts = new Map<string, number>();
    for (const n of rows) counts.set(n, (counts.get(n) ?? 0) + 1);
    for (const n of acknowledged) expect(counts.get(n), `row ${n}`).toBe(1);
    expect(rows.length).toBe(total);

    expect(leaderChanges.length).toBeGreaterThanOrEqual(1);
    expect(leaderChanges[0]?.previous).toBe(cluster.members[killed]?.tcpRemote);
    expect(client.currentRemote).not.toBe(cluster.members[killed]?.tcpRemote);
    // The monitor came back with monitor_cond_since (resumed from the last txn id, or a full
    // resync if the new leader had compacted past it) and saw every row.
    expect(monitorKinds.some((k) => k === 'resumed' || k === 'resync')).toBe(true);
    await sleep(200);
    for (const n of names) expect(seenByMonitor.has(n), `monitor saw ${n}`).toBe(true);

    // The killed member rejoins and the cluster keeps working.
    await cluster.restart(killed);
    await client.transact(NB, guardedInsert('after-rejoin'));
    console.log(
      `raft failover: killed member ${killed} after ${killedAt} acks; error codes seen: ${JSON.stringify(Object.fromEntries(errorCodes))}; monitor events: ${[...new Set(monitorKinds)].join(',')}`,
    );
    await client.close();
  });
});

describe('leadership lost while the member stays up', () => {
  it('the _Server.Database monitor drops the connection and the client follows the new leader', async () => {
    const own = await startNbCluster(3);
    try {
      const client = await OvsdbClient.connect(own.remote);
      const leader = await own.waitForLeader();
      expect(client.currentRemote).toBe(own.members[leader]?.remote);
      const disconnected = new Promise<Error>((resolve) => client.once('disconnected', (e) => resolve(e.reason)));
      const changed = new Promise<{ previous: string | undefined; current: string }>((resolve) => client.once('leaderChanged', resolve));
      const t0 = Date.now();
      // The old leader leaves the cluster but its process and sockets stay up: only the
      // _Server.Database row (leader=false / connected=false) tells the client to move.
      execFileSync('ovs-appctl', ['-t', own.members[leader]?.ctlSocket as string, 'cluster/leave', NB]);
      expect((await disconnected).message).toMatch(/lost leadership/);
      const change = await changed;
      expect(Date.now() - t0).toBeLessThan(15_000);
      expect(own.members[leader]?.process.isAlive()).toBe(true);
      expect(change.previous).toBe(own.members[leader]?.remote);
      expect(change.current).not.toBe(own.members[leader]?.remote);
      await client.transact(NB, guardedInsert('after-leave'));
      expect(await switchNames(client)).toContain('after-leave');
      await client.close();
    } finally {
      await own.stop();
    }
  });
});

describe('leader frozen (SIGSTOP), as in a hung or partitioned NB leader', () => {
  it('the probe gives up on it and the client moves to the newly elected leader within a bound', async () => {
    const own = await startNbCluster(3);
    const client = await OvsdbClient.connect(own.remote, { probeIntervalMs: 1000, backoffInitialMs: 50, backoffMaxMs: 500, connectTimeoutMs: 3000 });
    const frozen = await own.waitForLeader();
    try {
      expect(client.currentRemote).toBe(own.members[frozen]?.remote);
      const changed = new Promise<{ previous: string | undefined; current: string }>((resolve) => client.once('leaderChanged', resolve));
      const t0 = Date.now();
      own.members[frozen]?.process.signal('SIGSTOP');
      // A write issued into the frozen leader fails instead of hanging (probe, then ConnectionLost).
      const stuck = await client.transact(NB, guardedInsert('into-frozen-leader')).catch((e: unknown) => e);
      expect(stuck).toMatchObject({ code: 'ConnectionLost' });
      const change = await changed;
      const elapsed = Date.now() - t0;
      expect(change.previous).toBe(own.members[frozen]?.remote);
      expect(change.current).not.toBe(own.members[frozen]?.remote);
      // Probe (≤ 3 s) + election (RAFT election timer ~1 s) + reconnect rounds; generous for a loaded machine.
      expect(elapsed).toBeLessThan(30_000);
      await client.transact(NB, guardedInsert('after-freeze'));
      console.log(`frozen leader: moved to the new leader after ${elapsed} ms`);
    } finally {
      own.members[frozen]?.process.signal('SIGCONT');
      await client.close();
      await own.stop();
    }
  });
});
