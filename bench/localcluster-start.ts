// Cached start-to-ready of the local control plane: apiserver-only and the full stack, median of
// 5 each (runs alternate so load drifts hit both alike), plus the cold build time per step read
// from the build script's log. Usage: node bench/localcluster-start.ts [runs] [build-log]
import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { startLocalCluster, type LocalClusterOptions } from '../src/localcluster/index.ts';

const runs = Number(process.argv[2] ?? 5);
const buildLog = process.argv[3] ?? '/tmp/build-k8s.log';

interface Sample {
  startMs: number;
  stopMs: number;
  load: number;
  steps: Record<string, number>;
}

async function once(options: LocalClusterOptions): Promise<Sample> {
  const load = loadavg()[0] ?? 0;
  const steps: Record<string, number> = {};
  const cluster = await startLocalCluster({
    ...options,
    progress: (e) => {
      if (e.phase === 'ready' && e.elapsedMs !== undefined) steps[e.step] = e.elapsedMs;
    },
  });
  const t = performance.now();
  await cluster.stop();
  return { startMs: cluster.startupMs, stopMs: performance.now() - t, load, steps };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};
const sec = (ms: number): string => (ms / 1000).toFixed(2);

const variants: [string, LocalClusterOptions][] = [
  ['apiserver-only (etcd + apiserver + CRDs + RBAC)', { apiserverOnly: true }],
  ['full stack (+ KCM, scheduler, kwok, 1 node Ready, OVN NB)', { nodes: 1, nb: true }],
];

console.log(`machine: ${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} cores; loadavg at start ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
// One untimed warm-up so the page cache holds the binaries, as it does for every later run.
await once({ apiserverOnly: true, crds: false, rbac: false });
const samples = new Map<string, Sample[]>(variants.map(([name]) => [name, []]));
for (let i = 0; i < runs; i++) {
  for (const [name, options] of variants) samples.get(name)?.push(await once(options));
}

console.log(`\n| stack | median start→ready (s) | min–max (s) | median stop (s) | loadavg 1m during runs |`);
console.log('|---|---|---|---|---|');
for (const [name] of variants) {
  const s = samples.get(name) ?? [];
  const starts = s.map((x) => x.startMs);
  const loads = s.map((x) => x.load);
  console.log(
    `| ${name} | ${sec(median(starts))} | ${sec(Math.min(...starts))}–${sec(Math.max(...starts))} | ${sec(median(s.map((x) => x.stopMs)))} | ${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)} |`,
  );
}
const [apiOnly, full] = variants.map(([name]) => median((samples.get(name) ?? []).map((x) => x.startMs)));
console.log(`\nfull / apiserver-only start ratio: ${((full ?? 0) / (apiOnly ?? 1)).toFixed(2)}`);

console.log('\nmedian per step, full stack (ready after, seconds from the step\'s own start):');
const fullSamples = samples.get(variants[1]?.[0] ?? '') ?? [];
for (const step of Object.keys(fullSamples[0]?.steps ?? {})) {
  console.log(`  ${step.padEnd(24)} ${sec(median(fullSamples.map((x) => x.steps[step] ?? 0)))}`);
}

if (existsSync(buildLog)) {
  console.log(`\ncold build (${buildLog}):`);
  let total = 0;
  for (const m of readFileSync(buildLog, 'utf8').matchAll(/step (\S+): done in (\d+)s/g)) {
    total += Number(m[2]);
    console.log(`  ${(m[1] ?? '').padEnd(26)} ${m[2]} s`);
  }
  console.log(`  ${'total'.padEnd(26)} ${total} s (${(total / 60).toFixed(1)} min)`);
} else {
  console.log(`\n(no build log at ${buildLog}; a cold build writes one when run as scripts/build-k8s-binaries.sh 2>&1 | tee <log>)`);
}
