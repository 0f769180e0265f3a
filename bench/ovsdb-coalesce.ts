// LSP creations per second through NbClient.createOrUpdatePodPort against Debian's real
// ovsdb-server: sequential awaits (no coalescing), concurrent callers without coalescing
// (pipelined), concurrent callers through the coalescer, and prebuilt raw batches (the ceiling). Standalone and single-node RAFT,
// each scenario on a fresh server, interleaved runs, median reported, ratios side by side.
// Usage: node bench/ovsdb-coalesce.ts [lspPerRun=5000] [runs=3] [callers=256]
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { startNbCluster, startNbServer } from '../src/localcluster/nb-server.ts';
import { NbClient } from '../src/ovsdb/nb-client.ts';
import type { Operation } from '../src/ovsdb/protocol.ts';

const N = Number(process.argv[2] ?? 5000);
const RUNS = Number(process.argv[3] ?? 3);
const CALLERS = Number(process.argv[4] ?? 256);

type Mode = 'standalone' | 'raft-1';
type Way = 'sequential' | 'pipelined' | 'coalesced' | 'raw-batched';

interface Sample {
  lspPerSec: number;
  transactions: number;
  /** CPU per LSP (µs): less sensitive than wall time to other processes on a loaded machine */
  clientCpuUs: number;
  serverCpuUs: number;
}

/** utime + stime of a process in ms (10 ms resolution). */
function processCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function startDb(mode: Mode): Promise<{ remote: string; pid: number; stop: () => Promise<void> }> {
  if (mode === 'standalone') {
    const s = await startNbServer({ tcp: false });
    return { remote: s.remote, pid: s.pid, stop: () => s.stop() };
  }
  const c = await startNbCluster(1, { tcp: false });
  return { remote: c.remote, pid: c.members[0]!.pid, stop: () => c.stop() };
}

function mac(i: number): string {
  const hex = i.toString(16).padStart(6, '0');
  return `0a:00:00:${hex.slice(0, 2)}:${hex.slice(2, 4)}:${hex.slice(4, 6)}`;
}
function ip(i: number): string {
  return `10.16.${(i >> 8) & 255}.${(i & 255) + 0}`;
}

const RAW_BATCH = 250;

function prebuiltBatches(switchUuid: string): Operation[][] {
  const batches: Operation[][] = [];
  for (let start = 0; start < N; start += RAW_BATCH) {
    const ops: Operation[] = [];
    const refs: ['named-uuid', string][] = [];
    for (let i = start; i < Math.min(N, start + RAW_BATCH); i++) {
      const ref = `r${i}`;
      refs.push(['named-uuid', ref]);
      ops.push({
        op: 'insert',
        table: 'Logical_Switch_Port',
        'uuid-name': ref,
        row: {
          name: `pod-${i}.bench`,
          addresses: ['set', [`${mac(i + 16)} ${ip(i + 16)}`]],
          external_ids: ['map', [['ls', 'ovn-default'], ['pod', `bench/pod-${i}`], ['vendor', 'kube-ovn']]],
        },
      });
    }
    ops.push({ op: 'mutate', table: 'Logical_Switch', where: [['_uuid', '==', ['uuid', switchUuid]]], mutations: [['ports', 'insert', ['set', refs]]] });
    batches.push(ops);
  }
  return batches;
}

async function once(mode: Mode, way: Way): Promise<Sample> {
  const db = await startDb(mode);
  const nb = await NbClient.connect(db.remote, { coalesce: way === 'coalesced' });
  try {
    await nb.ensureClusterRouter();
    await nb.ensureLogicalSwitch({ name: 'ovn-default', cidr: '10.16.0.0/16', gateway: '10.16.0.1' });
    const spec = (i: number) => ({ pod: `pod-${i}`, namespace: 'bench', subnet: 'ovn-default', mac: mac(i + 16), ips: [ip(i + 16)] });
    // raw-batched: the ceiling — prebuilt transactions of 250 LSP inserts plus one ports mutate,
    // sent one after another on the same connection (cache monitor attached), no NbClient logic
    const rawBatches = way === 'raw-batched' ? prebuiltBatches(nb.cache.firstByName('Logical_Switch', 'ovn-default')!._uuid) : [];
    const cpu0 = process.cpuUsage();
    const server0 = processCpuMs(db.pid);
    const t0 = performance.now();
    if (way === 'raw-batched') {
      for (const ops of rawBatches) await nb.client.transact('OVN_Northbound', ops);
    } else if (way === 'sequential') {
      for (let i = 0; i < N; i++) await nb.createOrUpdatePodPort(spec(i));
    } else {
      let next = 0;
      await Promise.all(
        Array.from({ length: CALLERS }, async () => {
          while (next < N) await nb.createOrUpdatePodPort(spec(next++));
        }),
      );
    }
    const secs = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const serverMs = processCpuMs(db.pid) - server0;
    const made = nb.cache.byName('Logical_Switch', 'ovn-default')[0]?.ports.length ?? 0;
    if (made !== N + 1) throw new Error(`${mode}/${way}: expected ${N + 1} ports on ovn-default, cache shows ${made}`);
    return {
      lspPerSec: N / secs,
      transactions: way === 'raw-batched' ? rawBatches.length : (nb.coalescer?.stats.transactions ?? N),
      clientCpuUs: (cpu.user + cpu.system) / N,
      serverCpuUs: (serverMs * 1000) / N,
    };
  } finally {
    await nb.close();
    await db.stop();
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

console.log(`machine: ${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} cores; node ${process.version}`);
console.log(`loadavg at start: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log(`${N} LSPs per run (each: LSP insert + Logical_Switch.ports mutate; coalesced mutates are fused per transaction), ${RUNS} runs per cell, ${CALLERS} concurrent callers for pipelined/coalesced`);

const modes: Mode[] = ['standalone', 'raft-1'];
const ways: Way[] = ['sequential', 'pipelined', 'coalesced', 'raw-batched'];
const samples = new Map<string, Sample[]>();
for (let r = 0; r < RUNS; r++) {
  for (const mode of modes) {
    for (const way of ways) {
      const s = await once(mode, way);
      const key = `${mode}/${way}`;
      samples.set(key, [...(samples.get(key) ?? []), s]);
      process.stderr.write(
        `run ${r + 1}/${RUNS} ${key}: ${Math.round(s.lspPerSec)} LSP/s (${s.transactions} transactions; CPU µs/LSP client ${s.clientCpuUs.toFixed(1)}, server ${s.serverCpuUs.toFixed(1)}; load ${loadavg()[0]!.toFixed(1)})\n`,
      );
    }
  }
}

console.log('\n| server | sequential LSP/s | pipelined LSP/s | coalesced LSP/s | raw batched LSP/s (ceiling) | coalesced ÷ sequential | coalesced ÷ raw | txns per 1000 LSP (coalesced) |');
console.log('|---|---|---|---|---|---|---|---|');
for (const mode of modes) {
  const m = (way: Way) => median((samples.get(`${mode}/${way}`) ?? []).map((s) => s.lspPerSec));
  const tx = median((samples.get(`${mode}/coalesced`) ?? []).map((s) => s.transactions));
  console.log(
    `| ${mode} | ${Math.round(m('sequential'))} | ${Math.round(m('pipelined'))} | ${Math.round(m('coalesced'))} | ${Math.round(m('raw-batched'))} | ${(m('coalesced') / m('sequential')).toFixed(1)}× | ${(m('coalesced') / m('raw-batched')).toFixed(2)} | ${((tx / N) * 1000).toFixed(1)} |`,
  );
}
console.log('\nCPU per LSP (µs, median; client = this node process incl. cache, server = ovsdb-server):');
console.log('| server | sequential client / server | pipelined client / server | coalesced client / server | raw batched client / server |');
console.log('|---|---|---|---|---|');
for (const mode of modes) {
  const c = (way: Way, f: (s: Sample) => number) => median((samples.get(`${mode}/${way}`) ?? []).map(f)).toFixed(1);
  console.log(`| ${mode} | ${ways.map((w) => `${c(w, (s) => s.clientCpuUs)} / ${c(w, (s) => s.serverCpuUs)}`).join(' | ')} |`);
}
console.log(`\nloadavg at end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
