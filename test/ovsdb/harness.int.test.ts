// The real-server harness itself: lifecycle, no process outliving its owner, cleanup after a
// crashed run, and ovn-northd turning our Northbound rows into Southbound logical flows.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { killLeftoverServers, startNbServer, startNorthd } from '../../src/localcluster/nb-server.ts';
import { waitFor } from '../../src/localcluster/process.ts';
import { OvsdbClient } from '../../src/ovsdb/index.ts';
import type { Operation, Uuid } from '../../src/ovsdb/protocol.ts';
import { NB } from './harness.ts';

const NODE = process.execPath;
const HARNESS = join(import.meta.dirname, '../../src/localcluster/nb-server.ts');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[2] !== 'Z';
  } catch {
    return false;
  }
}

/** Runs a Node child that starts a server through the harness, prints "<pid> <dir>", then runs `then`. */
function childWithServer(then: string): Promise<{ child: ReturnType<typeof spawn>; serverPid: number; dir: string }> {
  const script = `const m = await import(${JSON.stringify(HARNESS)}); const s = await m.startNbServer(); console.log(s.pid + ' ' + s.dir); ${then}`;
  const child = spawn(NODE, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^(\d+) (\S+)\n/.exec(out);
      if (m) resolve({ child, serverPid: Number(m[1]), dir: m[2] as string });
    });
    child.once('exit', (code) => reject(new Error(`child exited (${code}) before reporting: ${out}`)));
  });
}

describe('startNbServer', () => {
  it('starts in a temp dir with unix and tcp remotes, restarts on the same remotes, stops by pid and cleans up', async () => {
    const s = await startNbServer();
    expect(s.remote).toBe(`unix:${s.unixSocket}`);
    expect(s.tcpRemote).toMatch(/^tcp:127\.0\.0\.1:\d+$/);
    expect(Number(readFileSync(join(s.dir, 'nb.pid'), 'utf8'))).toBe(s.pid);
    const firstPid = s.pid;
    const tcp = s.tcpRemote;
    await s.kill('SIGKILL');
    expect(alive(firstPid)).toBe(false);
    await s.restart();
    expect(s.pid).not.toBe(firstPid);
    expect(s.tcpRemote).toBe(tcp);
    const client = await OvsdbClient.connect(tcp as string);
    await client.close();
    await s.stop();
    expect(alive(s.pid)).toBe(false);
    expect(existsSync(s.dir)).toBe(false);
  });

  it('gives a clear error when a binary or the schema is missing', async () => {
    const saved = process.env.PATH;
    process.env.PATH = '/nonexistent';
    process.env.OVNKIT_NO_INSTALL = '1';
    try {
      // ovsdb-tool lives in /usr/bin, which is now off PATH (only the sbin dirs are searched too).
      const err = await startNbServer().catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'BinaryNotFound' });
      expect((err as Error).message).toMatch(/ovsdb-tool, ovn-northd, ovn-appctl: install: not installed; .*ovn-central/);
    } finally {
      process.env.PATH = saved;
      delete process.env.OVNKIT_NO_INSTALL;
    }
    const err = await startNbServer({ schema: '/nonexistent/schema.ovsschema' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'SchemaNotFound' });
    expect((err as Error).message).toMatch(/ovn-central/);
  });

  it('kills its servers when the owning Node process exits or gets SIGTERM', async () => {
    const exiting = await childWithServer('process.exit(0);');
    await new Promise((r) => exiting.child.once('exit', r));
    await waitFor(() => !alive(exiting.serverPid), { timeoutMs: 5000, what: 'server of an exited owner' });

    const terminated = await childWithServer('setInterval(() => {}, 1000);');
    terminated.child.kill('SIGTERM');
    await new Promise((r) => terminated.child.once('exit', r));
    await waitFor(() => !alive(terminated.serverPid), { timeoutMs: 5000, what: 'server of a SIGTERMed owner' });
  });

  it('kills the leftovers of a crashed (SIGKILLed) owner on the next run, by pid file', async () => {
    const crashed = await childWithServer('setInterval(() => {}, 1000);');
    crashed.child.kill('SIGKILL');
    await new Promise((r) => crashed.child.once('exit', r));
    // SIGKILL runs no exit hook: the server is orphaned.
    await new Promise((r) => setTimeout(r, 200));
    expect(alive(crashed.serverPid)).toBe(true);
    const killed = killLeftoverServers();
    expect(killed).toContain(crashed.serverPid);
    await waitFor(() => !alive(crashed.serverPid), { timeoutMs: 5000, what: 'orphaned server' });
    expect(existsSync(crashed.dir)).toBe(false);
    // A live owner's servers are left alone.
    const mine = await startNbServer();
    expect(killLeftoverServers()).not.toContain(mine.pid);
    expect(alive(mine.pid)).toBe(true);
    await mine.stop();
  });
});

describe('startNorthd', () => {
  it('ovn-northd turns our Northbound switch and port into Southbound bindings and logical flows', async () => {
    const nb = await startNbServer({ tcp: false });
    const northd = await startNorthd(nb.remote);
    const client = await OvsdbClient.connect(nb.remote);
    const sb = await OvsdbClient.connect(northd.sbRemote, { database: 'OVN_Southbound' });
    try {
      const ops: Operation[] = [
        { op: 'insert', table: 'Logical_Switch_Port', 'uuid-name': 'lsp', row: { name: 'nginx-0.default', addresses: '00:00:00:aa:bb:cc 10.16.0.5', external_ids: ['map', [['pod', 'default/nginx-0'], ['vendor', 'kube-ovn']]] } },
        { op: 'insert', table: 'Logical_Switch', 'uuid-name': 'ls', row: { name: 'ovn-default', ports: ['named-uuid', 'lsp'] } },
      ];
      const [, lsRes] = await client.transact(NB, ops);
      const lsUuid = (lsRes as { uuid: Uuid }).uuid[1];
      // The --wait=sb protocol: bump nb_cfg, wait until northd reports sb_cfg caught up.
      const bump = await waitFor(
        async () => {
          const r = await client.transact(NB, [
            { op: 'mutate', table: 'NB_Global', where: [], mutations: [['nb_cfg', '+=', 1]] },
            { op: 'select', table: 'NB_Global', where: [], columns: ['nb_cfg'] },
          ]);
          // northd creates NB_Global itself; until then the mutate matches nothing.
          return (r[0] as { count: number }).count === 1 ? ((r[1] as { rows: { nb_cfg: number }[] }).rows[0]?.nb_cfg as number) : undefined;
        },
        { timeoutMs: 10_000, what: 'NB_Global created by ovn-northd' },
      );
      await waitFor(
        async () => {
          const [r] = await client.transact(NB, [{ op: 'select', table: 'NB_Global', where: [], columns: ['sb_cfg'] }]);
          return ((r as { rows: { sb_cfg: number }[] }).rows[0]?.sb_cfg ?? 0) >= bump;
        },
        { timeoutMs: 10_000, what: 'ovn-northd catching up (sb_cfg >= nb_cfg)' },
      );
      const [pb] = await sb.transact('OVN_Southbound', [{ op: 'select', table: 'Port_Binding', where: [['logical_port', '==', 'nginx-0.default']], columns: ['logical_port', 'mac', 'datapath'] }]);
      const binding = (pb as { rows: { mac: unknown; datapath: Uuid }[] }).rows[0];
      expect(binding?.mac).toBe('00:00:00:aa:bb:cc 10.16.0.5');
      const [dp] = await sb.transact('OVN_Southbound', [{ op: 'select', table: 'Datapath_Binding', where: [['_uuid', '==', binding?.datapath as Uuid]], columns: ['external_ids'] }]);
      const dpIds = new Map((dp as { rows: { external_ids: ['map', [string, string][]] }[] }).rows[0]?.external_ids[1]);
      expect(dpIds.get('logical-switch')).toBe(lsUuid);
      expect(dpIds.get('name')).toBe('ovn-default');
      const [flows] = await sb.transact('OVN_Southbound', [{ op: 'select', table: 'Logical_Flow', where: [['logical_datapath', '==', binding?.datapath as Uuid]], columns: ['match', 'table_id', 'pipeline'] }]);
      const matches = (flows as { rows: { match: string }[] }).rows.map((f) => f.match);
      expect(matches.length).toBeGreaterThan(10);
      // Port security / L2 lookup flows name our port and its MAC.
      expect(matches.some((m) => m.includes('"nginx-0.default"'))).toBe(true);
      expect(matches.some((m) => m.includes('00:00:00:aa:bb:cc'))).toBe(true);
      const status = execFileSync('ovn-appctl', ['-t', northd.ctlSocket, 'status'], { encoding: 'utf8' });
      expect(status).toContain('active');
    } finally {
      await sb.close();
      await client.close();
      await northd.stop();
      await nb.stop();
    }
  });
});
