// Initial list + watch of N pods (default 20k) created through a real apiserver: time to synced,
// heap and RSS, for our informer with and without the pod transform and for client-node's own
// makeInformer, on the same pods in the same run. Each variant runs in its own child process
// (node --expose-gc) so memory figures are not polluted by the others; rounds alternate the order.
// Usage: node bench/kube-informer.ts [pods=20000] [rounds=2]
import { execFile } from 'node:child_process';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CoreV1Api, KubeConfig, makeInformer } from '@kubernetes/client-node';
import { SharedInformer, Resources } from '../src/kube/informer.ts';
import { HttpKubeTransport } from '../src/kube/watch-transport.ts';
import { trimPod } from '../src/kube/watch-transforms.ts';
import { silentLogger } from '../src/kube/watch-types.ts';
import type { KubeObject } from '../src/kube/watch-types.ts';

const execFileAsync = promisify(execFile);
const VARIANTS = ['ovnkit', 'ovnkit+trimPod', 'client-node makeInformer'] as const;
type Variant = (typeof VARIANTS)[number];

interface ChildResult {
  variant: Variant;
  syncMs: number;
  objects: number;
  heapBaseMB: number;
  heapMB: number;
  rssBaseMB: number;
  rssMB: number;
  load1: number;
}

const mb = (bytes: number): number => Math.round((bytes / 1024 / 1024) * 10) / 10;

function settleMemory(): NodeJS.MemoryUsage {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run the child with --expose-gc');
  gc();
  gc();
  return process.memoryUsage();
}

async function child(variant: Variant, kubeconfigPath: string, namespace: string, expected: number): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const base = settleMemory();
  const t0 = performance.now();
  let count: () => number;
  let stop: () => Promise<void>;
  if (variant === 'client-node makeInformer') {
    const core = kc.makeApiClient(CoreV1Api);
    const informer = makeInformer(kc, `/api/v1/namespaces/${namespace}/pods`, () => core.listNamespacedPod({ namespace }));
    let failed: unknown;
    informer.on('error', (err) => {
      failed = err;
    });
    await informer.start();
    if (failed !== undefined) throw failed;
    count = () => informer.list(namespace).length;
    stop = () => informer.stop();
  } else {
    const transport = new HttpKubeTransport(kc);
    const informer = new SharedInformer<KubeObject>({
      transport,
      resource: { ...Resources.pods, namespace },
      ...(variant === 'ovnkit+trimPod' ? { transform: trimPod } : {}),
      log: silentLogger,
    });
    informer.start();
    await informer.waitForSync(600_000);
    count = () => informer.store.size;
    stop = async () => {
      await informer.stop();
      transport.close();
    };
  }
  while (count() < expected) await new Promise((r) => setTimeout(r, 5));
  const syncMs = performance.now() - t0;
  const after = settleMemory();
  const result: ChildResult = {
    variant,
    syncMs: Math.round(syncMs),
    objects: count(),
    heapBaseMB: mb(base.heapUsed),
    heapMB: mb(after.heapUsed),
    rssBaseMB: mb(base.rss),
    rssMB: mb(after.rss),
    load1: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
  await stop();
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  process.exit(0);
}

async function runChild(variant: Variant, kubeconfigPath: string, namespace: string, expected: number): Promise<ChildResult> {
  const self = fileURLToPath(import.meta.url);
  const { stdout } = await execFileAsync(process.execPath, ['--expose-gc', self, '--child', variant, kubeconfigPath, namespace, String(expected)], {
    maxBuffer: 64 * 1024 * 1024,
    timeout: 900_000,
  });
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (line === undefined) throw new Error(`child ${variant} printed no result:\n${stdout.slice(-2000)}`);
  return JSON.parse(line.slice('RESULT '.length)) as ChildResult;
}

async function main(): Promise<void> {
  const pods = Number(process.argv[2] ?? 20_000);
  const rounds = Number(process.argv[3] ?? 2);
  const { startLocalCluster } = await import('../src/localcluster/index.ts');
  const { coreApi, createNamespaceWithServiceAccount, createPods } = await import('../test/kube/informer-fixtures.ts');
  const cpu = cpus();
  console.log(`machine: ${cpu[0]?.model ?? 'unknown'} × ${cpu.length} cores, ${mb(totalmem())} MB RAM (${mb(freemem())} free), node ${process.version}`);
  console.log(`loadavg at start: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const cluster = await startLocalCluster({ apiserverOnly: true, progress: false });
  try {
    const core = coreApi(cluster);
    const ns = 'bench';
    await createNamespaceWithServiceAccount(core, ns);
    const t0 = performance.now();
    await createPods(core, ns, 'p-', 0, pods, {
      nodes: 50,
      concurrency: 48,
      every: 2000,
      progress: (done) => console.log(`  created ${done}/${pods} pods (${(done / ((performance.now() - t0) / 1000)).toFixed(0)}/s)`),
    });
    const sample = await core.readNamespacedPod({ name: 'p-0', namespace: ns });
    console.log(`created ${pods} pods in ${((performance.now() - t0) / 1000).toFixed(1)} s; one pod is ${JSON.stringify(sample).length} bytes of JSON`);
    const results: ChildResult[] = [];
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? [...VARIANTS] : [...VARIANTS].reverse();
      for (const variant of order) {
        const r = await runChild(variant, cluster.kubeconfig, ns, pods);
        console.log(`  round ${round + 1} ${variant}: synced ${r.objects} in ${r.syncMs} ms, heap ${r.heapBaseMB}→${r.heapMB} MB, rss ${r.rssBaseMB}→${r.rssMB} MB (load ${r.load1})`);
        results.push(r);
      }
    }
    const median = (xs: number[]): number => {
      const s = [...xs].sort((a, b) => a - b);
      const m = Math.floor(s.length / 2);
      return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
    };
    console.log(`\n${pods} pods, median of ${rounds} run(s) per variant, each in a fresh process:`);
    console.log('| variant | time to synced | heap after sync (Δ over baseline) | RSS after sync (Δ) |');
    console.log('|---|---|---|---|');
    const rows = VARIANTS.map((variant) => {
      const rs = results.filter((r) => r.variant === variant);
      return {
        variant,
        sync: median(rs.map((r) => r.syncMs)),
        heap: median(rs.map((r) => r.heapMB)),
        heapDelta: median(rs.map((r) => r.heapMB - r.heapBaseMB)),
        rss: median(rs.map((r) => r.rssMB)),
        rssDelta: median(rs.map((r) => r.rssMB - r.rssBaseMB)),
      };
    });
    for (const r of rows) {
      console.log(`| ${r.variant} | ${(r.sync / 1000).toFixed(2)} s | ${r.heap.toFixed(0)} MB (+${r.heapDelta.toFixed(0)}) | ${r.rss.toFixed(0)} MB (+${r.rssDelta.toFixed(0)}) |`);
    }
    const [ours, trimmed, theirs] = rows as [(typeof rows)[0], (typeof rows)[0], (typeof rows)[0]];
    console.log(`\nratios: client-node / ovnkit sync time ${(theirs.sync / ours.sync).toFixed(2)}×, heap Δ ${(theirs.heapDelta / ours.heapDelta).toFixed(2)}×; ` +
      `ovnkit / ovnkit+trimPod heap Δ ${(ours.heapDelta / trimmed.heapDelta).toFixed(2)}×, sync ${(ours.sync / trimmed.sync).toFixed(2)}×`);
    console.log(`loadavg at end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  } finally {
    await cluster.stop();
  }
}

if (process.argv[2] === '--child') {
  await child(process.argv[3] as Variant, process.argv[4]!, process.argv[5]!, Number(process.argv[6]));
} else {
  await main();
}
