// LSP creations per second through OvsdbClient against a real ovsdb-server (OVN Northbound),
// standalone and single-node RAFT: sequential (one transact at a time), pipelined (all N in
// flight, one transact() call each), pipelined-many (the same through one transactMany call:
// one encoder call, one write), batched (100 LSPs per transact) and coalesced
// (TransactionCoalescer with its defaults). Each LSP is Kube-OVN's shape: an insert with a named uuid plus
// a mutate of Logical_Switch.ports. Every scenario gets a fresh server and database.
//
//   node bench/ovsdb-throughput.ts            # N=2000 LSPs, 3 runs per cell, median
//   OVNKIT_BENCH_N=10000 OVNKIT_BENCH_RUNS=1 node bench/ovsdb-throughput.ts
//   OVNKIT_BENCH_MODES=standalone,raft-1,raft-3 node bench/ovsdb-throughput.ts   # + 3-member RAFT
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { pino } from 'pino';
import { startNbCluster, startNbServer } from '../src/localcluster/nb-server.ts';
import { OvsdbClient } from '../src/ovsdb/client.ts';
import { TransactionCoalescer } from '../src/ovsdb/coalescer.ts';
import { createEncoder } from '../src/ovsdb/encoder.ts';
import type { Operation, Uuid } from '../src/ovsdb/protocol.ts';

const NB = 'OVN_Northbound';
const N = Number(process.env.OVNKIT_BENCH_N ?? 2000);
const RUNS = Number(process.env.OVNKIT_BENCH_RUNS ?? 3);
const BATCH = 100;
if (!Number.isInteger(N) || N < BATCH || N % BATCH !== 0) throw new Error(`OVNKIT_BENCH_N must be a multiple of ${BATCH} (got ${N})`);
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`OVNKIT_BENCH_RUNS must be ≥ 1 (got ${RUNS})`);

type Mode = 'standalone' | 'raft-1' | 'raft-3';
const ALL_MODES: readonly Mode[] = ['standalone', 'raft-1', 'raft-3'];
const MODES = (process.env.OVNKIT_BENCH_MODES ?? 'standalone,raft-1').split(',').map((m) => m.trim()) as Mode[];
for (const m of MODES) if (!ALL_MODES.includes(m)) throw new Error(`OVNKIT_BENCH_MODES: unknown mode ${JSON.stringify(m)} (use ${ALL_MODES.join(', ')})`);
const SCENARIOS = ['sequential', 'pipelined', 'pipelined-many', 'batched', 'coalesced'] as const;
type Scenario = (typeof SCENARIOS)[number];

interface Result {
  lspPerSec: number;
  latencyMedianMs: number;
  latencyP99Ms: number;
  serverCpuS: number;
  clientCpuS: number;
  transactions: number;
}

function lspOps(i: number, lsUuid: string): Operation[] {
  const uuidName = `u${String(i).padStart(10, '0')}`;
  const mac = `00:00:00:${((i >> 16) & 0xff).toString(16).padStart(2, '0')}:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`;
  const ip = `10.16.${(i >> 8) & 0xff}.${i & 0xff}`;
  return [
    {
      op: 'insert',
      table: 'Logical_Switch_Port',
      'uuid-name': uuidName,
      row: {
        name: `pod-${i}.default`,
        addresses: `${mac} ${ip}`,
        external_ids: ['map', [['ls', 'ovn-default'], ['pod', `default/pod-${i}`], ['vendor', 'kube-ovn']]],
      },
    },
    { op: 'mutate', table: 'Logical_Switch', where: [['_uuid', '==', ['uuid', lsUuid]]], mutations: [['ports', 'insert', ['named-uuid', uuidName]]] },
  ];
}

function serverCpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  // utime and stime are fields 14 and 15 of /proc/pid/stat (here offset by the 2 fields before ')').
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
}

async function timed<T>(latencies: number[], f: () => Promise<T>): Promise<T> {
  const t = performance.now();
  const r = await f();
  latencies.push(performance.now() - t);
  return r;
}

async function runOnce(mode: Mode, scenario: Scenario): Promise<Result> {
  const server =
    mode === 'standalone' ? await startNbServer({ tcp: false }) : await startNbCluster(mode === 'raft-1' ? 1 : 3, { tcp: false });
  const remote = server.remote;
  // Server CPU is the leader's (where transactions execute).
  const pid = 'members' in server ? (server.members[await server.waitForLeader()]?.pid as number) : server.pid;
  const client = await OvsdbClient.connect(remote, { requestTimeoutMs: 120_000, logger: pino({ level: 'silent' }) });
  try {
    const [ls] = await client.transact(NB, [{ op: 'insert', table: 'Logical_Switch', row: { name: 'ovn-default', external_ids: ['map', [['vendor', 'kube-ovn']]] } }]);
    const lsUuid = (ls as { uuid: Uuid }).uuid[1];
    const latencies: number[] = [];
    let transactions = 0;
    const cpu0 = serverCpuSeconds(pid);
    const clientCpu0 = process.cpuUsage();
    const t0 = performance.now();
    if (scenario === 'sequential') {
      for (let i = 0; i < N; i++) await timed(latencies, () => client.transact(NB, lspOps(i, lsUuid)));
      transactions = N;
    } else if (scenario === 'pipelined') {
      await Promise.all(Array.from({ length: N }, (_, i) => timed(latencies, () => client.transact(NB, lspOps(i, lsUuid)))));
      transactions = N;
    } else if (scenario === 'pipelined-many') {
      // Same transactions as 'pipelined', but encoded by one transactBatch call and written at once.
      const txns = Array.from({ length: N }, (_, i) => lspOps(i, lsUuid));
      const t = performance.now();
      await Promise.all(client.transactMany(NB, txns).map((p) => p.then(() => latencies.push(performance.now() - t))));
      transactions = N;
    } else if (scenario === 'batched') {
      for (let b = 0; b < N / BATCH; b++) {
        const ops: Operation[] = [];
        for (let i = b * BATCH; i < (b + 1) * BATCH; i++) ops.push(...lspOps(i, lsUuid));
        await timed(latencies, () => client.transact(NB, ops));
      }
      transactions = N / BATCH;
    } else {
      const coalescer = new TransactionCoalescer((ops) => client.transact(NB, ops));
      await Promise.all(Array.from({ length: N }, (_, i) => timed(latencies, () => coalescer.submit(lspOps(i, lsUuid)))));
      transactions = coalescer.stats.transactions;
      coalescer.close();
    }
    const elapsedS = (performance.now() - t0) / 1000;
    const serverCpuS = serverCpuSeconds(pid) - cpu0;
    const clientCpu = process.cpuUsage(clientCpu0);
    const clientCpuS = (clientCpu.user + clientCpu.system) / 1e6;
    const [count] = await client.transact(NB, [{ op: 'select', table: 'Logical_Switch_Port', where: [], columns: ['_uuid'] }]);
    const rows = (count as { rows: unknown[] }).rows.length;
    if (rows !== N) throw new Error(`${mode}/${scenario}: expected ${N} LSPs, found ${rows}`);
    latencies.sort((a, b) => a - b);
    return {
      lspPerSec: N / elapsedS,
      latencyMedianMs: percentile(latencies, 0.5),
      latencyP99Ms: percentile(latencies, 0.99),
      serverCpuS,
      clientCpuS,
      transactions,
    };
  } finally {
    await client.close();
    await server.stop();
  }
}

function median(results: Result[]): Result {
  const sorted = [...results].sort((a, b) => a.lspPerSec - b.lspPerSec);
  return sorted[Math.floor(sorted.length / 2)] as Result;
}

const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function main(): Promise<void> {
  const cpu = cpus();
  console.log(`# ovsdb-throughput: ${N} Kube-OVN LSP creations per cell (insert + mutate LS.ports), median of ${RUNS}`);
  console.log(`machine: ${cpu[0]?.model ?? 'unknown'} × ${cpu.length} cores; node ${process.version}; loadavg before: ${loadavg().map((l) => l.toFixed(2)).join(' ')}; encoder: ${createEncoder().impl}`);
  // Warm-up (JIT, page cache), not recorded.
  await runOnce('standalone', 'pipelined');
  const table = new Map<string, Result>();
  // Rounds interleave every cell, so a change in machine load hits all scenarios alike and the
  // ratios stay comparable.
  const runs = new Map<string, Result[]>();
  for (let r = 0; r < RUNS; r++) {
    for (const mode of MODES) {
      for (const scenario of SCENARIOS) {
        const result = await runOnce(mode, scenario);
        const key = `${mode}/${scenario}`;
        runs.set(key, [...(runs.get(key) ?? []), result]);
        process.stderr.write(`  round ${r + 1}/${RUNS} ${key}: ${fmt(result.lspPerSec)} LSP/s\n`);
      }
    }
  }
  for (const [key, rs] of runs) table.set(key, median(rs));
  console.log('');
  console.log('| mode | scenario | LSP/s | × sequential | txns | txn latency median (p99) | server CPU | client CPU |');
  console.log('|---|---|---:|---:|---:|---|---:|---:|');
  for (const mode of MODES) {
    const base = table.get(`${mode}/sequential`) as Result;
    for (const scenario of SCENARIOS) {
      const r = table.get(`${mode}/${scenario}`) as Result;
      console.log(
        `| ${mode} | ${scenario} | ${fmt(r.lspPerSec)} | ${fmt(r.lspPerSec / base.lspPerSec, 2)} | ${r.transactions} | ${fmt(r.latencyMedianMs, 2)} ms (${fmt(r.latencyP99Ms, 2)}) | ${fmt(r.serverCpuS, 2)} s | ${fmt(r.clientCpuS, 2)} s |`,
      );
    }
  }
  console.log(`\nloadavg after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const coalesced = table.get('standalone/coalesced');
  const sequential = table.get('standalone/sequential');
  if (!coalesced || !sequential) return;
  console.log(
    `target (issue 4): coalesced ≥ 40k LSP/s standalone and ≥ 4× sequential: ${fmt(coalesced.lspPerSec)} LSP/s, ${fmt(coalesced.lspPerSec / sequential.lspPerSec, 2)}× → ${coalesced.lspPerSec >= 40_000 && coalesced.lspPerSec >= 4 * sequential.lspPerSec ? 'met' : 'NOT met'}`,
  );
}

await main();
