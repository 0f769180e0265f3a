// Encode cost per Kube-OVN LSP-create transaction (insert Logical_Switch_Port with a named uuid
// + mutate Logical_Switch.ports), side by side in one run:
//   JSON.stringify of a prebuilt request object (string only, and + Buffer.from),
//   the TS encoder, the Rust encoder through N-API (flat tape, written into a reused scratch
//   Buffer and copied out), and two rejected alternatives: the same tape but returning a Buffer
//   created by N-API, and passing the JS objects to Rust through napi's serde_json conversion;
// single (one transaction per call) and batched (100 transactions per call).
// The Rust path is split into its two halves (building the tape in JS; the N-API call alone).
// A last table gives the other direction for reference: JsonStreamFramer on a stream of real
// server replies (the captured vectors, repeated), against JSON.parse of the same values alone.
//
//   node bench/ovsdb-encode.ts                     # 5 repeats, median and min, ns per LSP
//   OVNKIT_BENCH_REPEATS=9 node bench/ovsdb-encode.ts
import { cpus, loadavg } from 'node:os';
import { loadNativeBinding } from '../src/native/load.ts';
import { createEncoder } from '../src/ovsdb/encoder.ts';
import { TapeWriter } from '../src/ovsdb/encoder-native.ts';
import { JsonStreamFramer } from '../src/ovsdb/framer.ts';
import type { Operation } from '../src/ovsdb/protocol.ts';

const REPEATS = Number(process.env.OVNKIT_BENCH_REPEATS ?? 5);
const BATCH = 100;
const DISTINCT = 1000; // distinct transactions cycled through, so no case encodes one object over and over
const LS_UUID = '2984cbff-b6fc-4d64-acb3-ca5d1b596982';
const NB = 'OVN_Northbound';

function lspCreate(i: number): Operation[] {
  const uuidName = `u${String(i).padStart(10, '0')}`;
  const mac = `00:00:00:${((i >> 8) & 0xff).toString(16).padStart(2, '0').toUpperCase()}:${(i & 0xff).toString(16).padStart(2, '0').toUpperCase()}:CC`;
  const addr = `${mac} 10.16.${(i >> 8) & 0xff}.${i & 0xff}`;
  return [
    {
      op: 'insert',
      table: 'Logical_Switch_Port',
      'uuid-name': uuidName,
      row: {
        name: `nginx-${i}.default`,
        addresses: addr,
        port_security: addr,
        external_ids: ['map', [['ls', 'ovn-default'], ['pod', `default/nginx-${i}`], ['vendor', 'kube-ovn']]],
      },
    },
    {
      op: 'mutate',
      table: 'Logical_Switch',
      where: [['_uuid', '==', ['uuid', LS_UUID]]],
      mutations: [['ports', 'insert', ['set', [['named-uuid', uuidName]]]]],
    },
  ];
}

const txns = Array.from({ length: DISTINCT }, (_, i) => ({ id: i + 1, database: NB, ops: lspCreate(i) }));
const requests = txns.map((t) => ({ method: 'transact', params: [t.database, ...t.ops], id: t.id }));
const batches = Array.from({ length: DISTINCT / BATCH }, (_, b) => txns.slice(b * BATCH, (b + 1) * BATCH));
const requestBatches = Array.from({ length: DISTINCT / BATCH }, (_, b) => requests.slice(b * BATCH, (b + 1) * BATCH));

const ts = createEncoder('ts');
const native = createEncoder('native');
const binding = loadNativeBinding().binding as {
  ovsdbEncodeTransactions: (tape: Float64Array, len: number, strings: string) => Buffer;
  ovsdbEncodeTransactionsInto: (tape: Float64Array, len: number, strings: string, out: Buffer) => number;
  ovsdbEncodeTransactionsSerde: (items: unknown) => Buffer;
};
const scratch = Buffer.allocUnsafeSlow(256 * 1024);
function into(tape: Float64Array, len: number, strings: string): Buffer {
  const n = binding.ovsdbEncodeTransactionsInto(tape, len, strings, scratch);
  const out = Buffer.allocUnsafe(n);
  scratch.copy(out, 0, 0, n);
  return out;
}

const writer = new TapeWriter();
function buildTape(items: readonly (typeof txns)[number][]): void {
  writer.reset();
  writer.word(items.length);
  for (const t of items) writer.transaction(t.id, t.database, t.ops);
}
// Every path must produce the same bytes before its speed means anything.
for (let i = 0; i < DISTINCT; i++) {
  const t = txns[i] as (typeof txns)[number];
  const want = JSON.stringify(requests[i]);
  for (const [name, got] of [
    ['ts', ts.transact(t.id, t.database, t.ops)],
    ['native', native.transact(t.id, t.database, t.ops)],
    ['serde', binding.ovsdbEncodeTransactionsSerde([t])],
    ['napi-buffer', (buildTape([t]), binding.ovsdbEncodeTransactions(writer.tape, writer.len, writer.strings))],
  ] as const) {
    if (got.toString('utf8') !== want) throw new Error(`${name} output differs from JSON.stringify for transaction ${i}`);
  }
}

interface Case {
  name: string;
  /** LSPs encoded per call of `run`. */
  perCall: number;
  run: (i: number) => unknown;
}

// Prebuilt tapes, to time the N-API call and the Rust encoding without the JS half.
function prebuilt(items: readonly (typeof txns)[number][]): { tape: Float64Array; len: number; strings: string } {
  buildTape(items);
  return { tape: writer.tape.slice(0, writer.len), len: writer.len, strings: writer.strings };
}
const singleTapes = txns.map((t) => prebuilt([t]));
const batchTapes = batches.map((b) => prebuilt(b));

let sink = 0;
const keep = (x: { length: number }) => {
  sink += x.length;
};

const single: Case[] = [
  { name: 'JSON.stringify (string only)', perCall: 1, run: (i) => keep(JSON.stringify(requests[i % DISTINCT])) },
  { name: 'JSON.stringify + Buffer.from', perCall: 1, run: (i) => keep(Buffer.from(JSON.stringify(requests[i % DISTINCT]))) },
  { name: 'TS encoder', perCall: 1, run: (i) => { const t = txns[i % DISTINCT]!; keep(ts.transact(t.id, t.database, t.ops)); } },
  { name: 'Rust via N-API (tape, scratch)', perCall: 1, run: (i) => { const t = txns[i % DISTINCT]!; keep(native.transact(t.id, t.database, t.ops)); } },
  { name: '  of which: tape build (JS)', perCall: 1, run: (i) => { buildTape([txns[i % DISTINCT]!]); keep(writer.strings); } },
  { name: '  of which: N-API call + Rust + copy', perCall: 1, run: (i) => { const p = singleTapes[i % DISTINCT]!; keep(into(p.tape, p.len, p.strings)); } },
  { name: 'Rust via N-API (tape, N-API Buffer)', perCall: 1, run: (i) => { buildTape([txns[i % DISTINCT]!]); keep(binding.ovsdbEncodeTransactions(writer.tape, writer.len, writer.strings)); } },
  { name: 'Rust via N-API (serde objects)', perCall: 1, run: (i) => keep(binding.ovsdbEncodeTransactionsSerde([txns[i % DISTINCT]])) },
];

const nb = DISTINCT / BATCH;
const batched: Case[] = [
  { name: 'JSON.stringify (string only)', perCall: BATCH, run: (i) => { let s = ''; for (const r of requestBatches[i % nb]!) s += JSON.stringify(r); keep(s); } },
  { name: 'JSON.stringify + Buffer.from', perCall: BATCH, run: (i) => { let s = ''; for (const r of requestBatches[i % nb]!) s += JSON.stringify(r); keep(Buffer.from(s)); } },
  { name: 'TS encoder', perCall: BATCH, run: (i) => keep(ts.transactBatch(batches[i % nb]!)) },
  { name: 'Rust via N-API (tape, scratch)', perCall: BATCH, run: (i) => keep(native.transactBatch(batches[i % nb]!)) },
  { name: '  of which: tape build (JS)', perCall: BATCH, run: (i) => { buildTape(batches[i % nb]!); keep(writer.strings); } },
  { name: '  of which: N-API call + Rust + copy', perCall: BATCH, run: (i) => { const p = batchTapes[i % nb]!; keep(into(p.tape, p.len, p.strings)); } },
  { name: 'Rust via N-API (tape, N-API Buffer)', perCall: BATCH, run: (i) => { buildTape(batches[i % nb]!); keep(binding.ovsdbEncodeTransactions(writer.tape, writer.len, writer.strings)); } },
  { name: 'Rust via N-API (serde objects)', perCall: BATCH, run: (i) => keep(binding.ovsdbEncodeTransactionsSerde(batches[i % nb])) },
];

/** Runs `c` for about `targetMs`, after a warm-up that also sizes the call count; ns per LSP. */
const callsFor = new Map<Case, number>();
function sample(c: Case, targetMs: number): number {
  let calls = callsFor.get(c);
  if (calls === undefined) {
    calls = 16;
    for (;;) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < calls; i++) c.run(i);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (ms > targetMs / 4) {
        calls = Math.max(1, Math.round((calls * targetMs) / ms));
        break;
      }
      calls *= 4;
    }
    callsFor.set(c, calls);
  }
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) c.run(i);
  return Number(process.hrtime.bigint() - t0) / (calls * c.perCall);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};

function table(title: string, cases: Case[]): void {
  // Interleave the cases repeat by repeat so load changes hit all of them alike.
  const samples = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  for (let round = 0; round < REPEATS; round++) {
    for (const c of cases) {
      samples.get(c.name)?.push(sample(c, 200));
    }
    process.stderr.write(`  ${title}: round ${round + 1}/${REPEATS}\n`);
  }
  const base = median(samples.get('JSON.stringify + Buffer.from') as number[]);
  console.log(`\n### ${title}\n`);
  console.log('| encoder | median ns/LSP | min ns/LSP | vs JSON.stringify + Buffer.from |');
  console.log('|---|---:|---:|---:|');
  for (const c of cases) {
    const xs = samples.get(c.name) as number[];
    const m = median(xs);
    console.log(`| ${c.name} | ${m.toFixed(0)} | ${Math.min(...xs).toFixed(0)} | ${(m / base).toFixed(2)}× |`);
  }
}

async function loadVectors(): Promise<string[]> {
  const { WIRE_VECTORS } = await import('../test/ovsdb/encoder-vectors.ts');
  return WIRE_VECTORS.flatMap((v) => [...v.notifications, ...(v.response === undefined ? [] : [v.response])]);
}
const replyTexts = await loadVectors();

function framingTable(): void {
  const one = Buffer.from(replyTexts.join(''));
  const copies = 2000;
  const stream = Buffer.concat(Array.from({ length: copies }, () => one));
  const values = replyTexts.length * copies;
  console.log(`\n### framing: ${(stream.length / 1e6).toFixed(1)} MB of real server replies (${values} values)\n`);
  console.log('| reader | chunk | best of 5, ms | MB/s |');
  console.log('|---|---:|---:|---:|');
  const best = (run: () => void) => {
    const times: number[] = [];
    for (let r = 0; r < 5; r++) {
      const t0 = process.hrtime.bigint();
      run();
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    return Math.min(...times);
  };
  for (const chunk of [65536, 1500]) {
    const chunks: Buffer[] = [];
    for (let i = 0; i < stream.length; i += chunk) chunks.push(stream.subarray(i, i + chunk));
    const ms = best(() => {
      const framer = new JsonStreamFramer();
      let n = 0;
      for (const c of chunks) n += framer.push(c).length;
      if (n !== values) throw new Error(`framer returned ${n} values, expected ${values}`);
    });
    console.log(`| JsonStreamFramer (scan + JSON.parse) | ${chunk} | ${ms.toFixed(0)} | ${(stream.length / 1e6 / (ms / 1000)).toFixed(0)} |`);
  }
  const parseMs = best(() => {
    for (let k = 0; k < copies; k++) for (const t of replyTexts) JSON.parse(t);
  });
  console.log(`| JSON.parse of the same values alone | – | ${parseMs.toFixed(0)} | ${(stream.length / 1e6 / (parseMs / 1000)).toFixed(0)} |`);
}

const cpu = cpus();
console.log('# OVSDB encode cost per LSP-create transaction (insert LSP with named uuid + mutate Logical_Switch.ports)');
console.log(`machine: ${cpu[0]?.model ?? 'unknown'}, ${cpu.length} cores; node ${process.version}; loadavg before ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log(`one request: ${Buffer.byteLength(JSON.stringify(requests[0]))} bytes; ${REPEATS} samples of ~200 ms per cell, interleaved; all paths checked byte-identical first`);
table('single: one transaction per call', single);
table(`batched: ${BATCH} transactions per call`, batched);
framingTable();
console.log(`\nloadavg after ${loadavg().map((x) => x.toFixed(2)).join(' ')}${sink === 0 ? ' (sink empty?)' : ''}`);
