// Runs the benchmark scripts one after another, each in its own process (clean heap, no shared JIT
// state), and passes their tables through. `node bench/run.ts [name ...]` runs only the named ones
// (e.g. `ipam ovsdb-encode`); with no names it runs all of them. The kube-informer bench creates
// 20k pods and takes several minutes; it runs only when named or with --all.
import { spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';

const QUICK = ['ipam', 'ovsdb-encode', 'ovsdb-throughput', 'ovsdb-coalesce', 'localcluster-start'];
const SLOW = ['kube-informer'];
const ALL = [...QUICK, ...SLOW];

const args = process.argv.slice(2);
const unknown = args.filter((a) => a !== '--all' && !ALL.includes(a));
if (unknown.length > 0) {
  console.error(`bench/run.ts: unknown benchmark(s) ${unknown.join(', ')}; known: ${ALL.join(', ')} (or --all)`);
  process.exit(2);
}
const names = args.includes('--all') ? ALL : args.length > 0 ? args : QUICK;

console.log(`machine: ${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} cores; node ${process.version}; loadavg ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
let failed = 0;
for (const name of names) {
  const script = fileURLToPath(new URL(`./${name}.ts`, import.meta.url));
  console.log(`\n===== bench/${name}.ts =====`);
  const started = Date.now();
  // The tables are the output; connection logs would bury them (set OVNKIT_LOG_LEVEL to see them).
  const env = { ...process.env, OVNKIT_LOG_LEVEL: process.env.OVNKIT_LOG_LEVEL ?? 'silent' };
  const result = spawnSync(process.execPath, [script], { stdio: 'inherit', env });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (result.status !== 0) {
    failed++;
    console.log(`bench/${name}.ts FAILED (exit ${result.status ?? result.signal}) after ${seconds}s`);
  } else {
    console.log(`bench/${name}.ts done in ${seconds}s`);
  }
}
process.exit(failed > 0 ? 1 : 0);
