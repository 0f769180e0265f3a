// startLocalCluster: a real Kubernetes control plane (etcd, kube-apiserver, optionally
// kube-controller-manager, kube-scheduler and kwok with fake nodes), our CRDs and RBAC, and the
// OVN Northbound database, on loopback ports in one directory. Stopped by PID in reverse order.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { WRITE_AUDIT_POLICY } from './audit.ts';
import { binDir as pinnedBinDir, ensureBinaries, KWOK_STAGES_FILE, missingBinaries, packageRoot } from './binaries.ts';
import {
  apiserverCommand,
  type CommandLine,
  type ComponentFiles,
  type ComponentPorts,
  controllerManagerCommand,
  etcdCommand,
  kwokCommand,
  kwokNode,
  schedulerCommand,
} from './components.ts';
import { LocalClusterError } from './errors.ts';
import { type Identities, type IdentityName, newIdentities, tokenAuthFile, writeKubeconfig } from './identities.ts';
import { applyObjects, readManifestDir, readManifestFile, waitCrdsEstablished, waitCrdsServed } from './manifests.ts';
import { type NbServer, type Northd, startNbServer, startNorthd } from './nb-server.ts';
import { generatePki } from './pki.ts';
import { freeLoopbackPorts } from './ports.ts';
import { killAllManagedSync, type ManagedProcess, spawnManaged, waitFor } from './process.ts';
import { type ProgressSink, stderrProgress, timedStep } from './progress.ts';
import { apiCall, apiCallOk, type ApiTarget, rawRequest } from './rest.ts';
import { createRunEntry, reapLeftoverClusters, type RunEntry } from './run-registry.ts';

const execFileAsync = promisify(execFile);

export interface LocalClusterOptions {
  /** Defaults every optional part off: etcd + kube-apiserver + CRDs + RBAC. Explicit options still win. */
  apiserverOnly?: boolean;
  controllerManager?: boolean;
  scheduler?: boolean;
  kwok?: boolean;
  /** Fake kwok nodes kwok-node-0..N-1 (default 1 when kwok runs). */
  nodes?: number;
  /** The OVN Northbound ovsdb-server (default on unless apiserverOnly). */
  nb?: boolean;
  /** ovn-northd with its own Southbound database (default off; needs nb). */
  northd?: boolean;
  /** Install every YAML in crdDir (default deploy/crds). */
  crds?: boolean;
  crdDir?: string;
  /** Install rbacFile (default deploy/rbac.yaml) so the controller identity has its real RBAC. */
  rbac?: boolean;
  rbacFile?: string;
  /** false: --watch-cache=false, which forceWatchExpiry needs to produce 410 Gone. */
  watchCache?: boolean;
  /** e.g. "2s": the apiserver compacts etcd itself at that interval. */
  etcdCompactionInterval?: string;
  /** Audit every write (create/update/patch/delete) to `auditLog`, for counting writes per user. */
  audit?: boolean;
  /** Extra kube-apiserver flags, appended last. */
  apiserverArgs?: string[];
  /** Where the cluster's files go (created if missing, must be empty); default a fresh temp dir. */
  dir?: string;
  /** Keep the directory after stop() (a dir passed in `dir` is always kept). */
  keepDir?: boolean;
  /** Use binaries from here instead of the pinned cache (must be complete). */
  binDir?: string;
  /** Run scripts/build-k8s-binaries.sh when binaries are missing (default true). */
  build?: boolean;
  /** Progress events; default: one line per event on stderr. false: silent. */
  progress?: ProgressSink | false;
  /** Per-component readiness timeout (default 60 s; the machine may be loaded). */
  readyTimeoutMs?: number;
}

const KNOWN_OPTIONS = new Set([
  'apiserverOnly', 'controllerManager', 'scheduler', 'kwok', 'nodes', 'nb', 'northd', 'crds', 'crdDir', 'rbac', 'rbacFile',
  'watchCache', 'etcdCompactionInterval', 'audit', 'apiserverArgs', 'dir', 'keepDir', 'binDir', 'build', 'progress', 'readyTimeoutMs',
]);

export interface ResolvedOptions {
  controllerManager: boolean;
  scheduler: boolean;
  kwok: boolean;
  nodes: number;
  nb: boolean;
  northd: boolean;
  crds: boolean;
  crdDir: string;
  rbac: boolean;
  rbacFile: string;
  watchCache: boolean;
  etcdCompactionInterval: string | undefined;
  audit: boolean;
  apiserverArgs: string[];
  readyTimeoutMs: number;
}

export type KubeconfigIdentity = 'admin' | 'controller' | 'unprivileged';

export interface LocalCluster {
  readonly name: string;
  readonly dir: string;
  /** https://127.0.0.1:<port> */
  readonly server: string;
  readonly caFile: string;
  readonly caPem: string;
  /** The admin kubeconfig (system:masters). */
  readonly kubeconfig: string;
  readonly kubeconfigs: Record<KubeconfigIdentity, string>;
  readonly adminToken: string;
  readonly tokens: Record<KubeconfigIdentity, string>;
  /** Usernames as the apiserver sees them (e.g. for RBAC subjects and audit). */
  readonly users: Record<KubeconfigIdentity, string>;
  readonly etcdEndpoint: string;
  /** OVSDB remote of the NB database over TCP (tcp:127.0.0.1:<port>); undefined without nb. */
  readonly nbAddress: string | undefined;
  readonly nb: { remote: string; unixSocket: string; tcpRemote: string | undefined } | undefined;
  readonly sbAddress: string | undefined;
  /** The audit log (JSON lines, writes only) when started with `audit: true`; see readAuditWrites. */
  readonly auditLog: string | undefined;
  readonly binDir: string;
  readonly nodeNames: string[];
  readonly options: ResolvedOptions;
  /** Current PID of every running component (the apiserver's changes on restart). */
  readonly processes: Record<string, number>;
  readonly logFiles: Record<string, string>;
  /** Milliseconds from the call to a ready cluster. */
  readonly startupMs: number;
  stop(): Promise<void>;
  restartApiserver(): Promise<void>;
  /** Compacts etcd at its current revision; returns that revision. */
  compactEtcd(): Promise<number>;
  /** Runs the pinned kubectl against this cluster (admin unless told otherwise). */
  kubectl(args: string[], identity?: KubeconfigIdentity): Promise<{ stdout: string; stderr: string }>;
  /** An ApiTarget for the small REST helpers (admin unless told otherwise). */
  api(identity?: KubeconfigIdentity): ApiTarget;
}

export function resolveOptions(options: LocalClusterOptions): ResolvedOptions {
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) throw new LocalClusterError('BAD_OPTION', 'options', key, `unknown option (known: ${[...KNOWN_OPTIONS].join(', ')})`);
  }
  const full = options.apiserverOnly !== true;
  const kwok = options.kwok ?? full;
  const nodes = options.nodes ?? (kwok ? 1 : 0);
  if (!Number.isInteger(nodes) || nodes < 0 || nodes > 1000) {
    throw new LocalClusterError('BAD_OPTION', 'options', 'nodes', `must be an integer from 0 to 1000 (got ${String(nodes)})`);
  }
  if (nodes > 0 && !kwok) throw new LocalClusterError('BAD_OPTION', 'options', 'nodes', 'fake nodes need kwok (kwok: true)');
  const nb = options.nb ?? full;
  const northd = options.northd ?? false;
  if (northd && !nb) throw new LocalClusterError('BAD_OPTION', 'options', 'northd', 'northd needs the NB database (nb: true)');
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;
  if (!(readyTimeoutMs > 0)) throw new LocalClusterError('BAD_OPTION', 'options', 'readyTimeoutMs', 'must be a positive number');
  if (options.etcdCompactionInterval !== undefined && !/^\d+(ms|s|m|h)$/.test(options.etcdCompactionInterval)) {
    throw new LocalClusterError('BAD_OPTION', 'options', 'etcdCompactionInterval', `must be a Go duration like "2s" (got ${options.etcdCompactionInterval})`);
  }
  return {
    controllerManager: options.controllerManager ?? full,
    scheduler: options.scheduler ?? full,
    kwok,
    nodes,
    nb,
    northd,
    crds: options.crds ?? true,
    crdDir: options.crdDir ?? join(packageRoot(), 'deploy', 'crds'),
    rbac: options.rbac ?? true,
    rbacFile: options.rbacFile ?? join(packageRoot(), 'deploy', 'rbac.yaml'),
    watchCache: options.watchCache ?? true,
    etcdCompactionInterval: options.etcdCompactionInterval,
    audit: options.audit ?? false,
    apiserverArgs: options.apiserverArgs ?? [],
    readyTimeoutMs,
  };
}

/** The steps a start with these options goes through, in order (for status views). */
export function plannedSteps(options: LocalClusterOptions): string[] {
  const o = resolveOptions(options);
  const steps = ['binaries', 'certificates', 'etcd', 'kube-apiserver'];
  if (o.crds) steps.push('crds');
  if (o.rbac) steps.push('rbac');
  if (o.controllerManager) steps.push('kube-controller-manager');
  if (o.scheduler) steps.push('kube-scheduler');
  if (o.kwok) steps.push('kwok');
  if (o.nodes > 0) steps.push('nodes');
  if (o.nb) steps.push('ovn-nb');
  if (o.northd) steps.push('ovn-northd');
  return steps;
}

function tailOf(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

async function prepareDir(requested: string | undefined): Promise<{ dir: string; created: boolean }> {
  if (requested === undefined) return { dir: await mkdtemp(join(tmpdir(), 'ovnkit-cluster-')), created: true };
  await mkdir(requested, { recursive: true });
  const entries = await readdir(requested);
  if (entries.length > 0) {
    throw new LocalClusterError('BAD_OPTION', 'options', requested, 'dir must be empty or absent (it would mix two clusters)');
  }
  return { dir: requested, created: false };
}

export async function startLocalCluster(options: LocalClusterOptions = {}): Promise<LocalCluster> {
  const o = resolveOptions(options);
  const sink: ProgressSink = options.progress === false ? () => {} : (options.progress ?? stderrProgress);
  const t0 = performance.now();

  const binDir = await timedStep(sink, t0, 'binaries', async () => {
    if (options.build === false && options.binDir === undefined) return ensureBinariesNoBuild();
    return ensureBinaries({ ...(options.binDir !== undefined ? { binDir: options.binDir } : {}), onLine: (line) => sink({ step: 'binaries', phase: 'starting', detail: line }) });
  }, (dir) => ({ detail: dir }));

  const leftovers = reapLeftoverClusters();
  if (leftovers.killedPids.length > 0 || leftovers.removedEntries.length > 0) {
    sink({ step: 'leftovers', phase: 'stopped', detail: `killed ${leftovers.killedPids.length} process(es) of ${leftovers.removedEntries.length} crashed run(s)` });
  }

  const { dir, created } = await prepareDir(options.dir);
  const removeDir = created && options.keepDir !== true;
  const name = `${process.pid}-${randomBytes(3).toString('hex')}`;
  const entry = createRunEntry(name, dir, removeDir);
  installExitHook();
  const state = new ClusterState(name, dir, binDir, o, sink, t0, entry, removeDir);
  unstopped.add(state);
  try {
    await state.start();
  } catch (err) {
    await state.stop().catch(() => {});
    throw err;
  }
  return state.handle();
}

/** Clusters not stopped yet; if the process exits with some, they are torn down synchronously. */
const unstopped = new Set<ClusterState>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' allows only synchronous work: SIGKILL every child, then drop records and temp dirs.
  // (A death by signal skips 'exit'; the next start's reapLeftoverClusters covers that case.)
  process.on('exit', () => {
    if (unstopped.size === 0) return;
    killAllManagedSync();
    for (const state of unstopped) {
      state.entry.remove();
      if (state.removeDir) rmSync(state.dir, { recursive: true, force: true });
    }
  });
}

/** Same lookup as ensureBinaries, but a missing binary is an error instead of a 20-minute build. */
async function ensureBinariesNoBuild(): Promise<string> {
  const dir = pinnedBinDir();
  const missing = missingBinaries(dir);
  if (missing.length > 0) {
    throw new LocalClusterError('BINARIES_MISSING', 'binaries', dir, `missing ${missing.join(', ')}; run scripts/build-k8s-binaries.sh (or make k8s-binaries)`);
  }
  return dir;
}

interface Running {
  step: string;
  command: CommandLine;
  proc: ManagedProcess;
  logFile: string;
}

class ClusterState {
  readonly name: string;
  readonly dir: string;
  readonly binDir: string;
  readonly o: ResolvedOptions;
  readonly sink: ProgressSink;
  readonly t0: number;
  readonly entry: RunEntry;
  readonly removeDir: boolean;
  readonly running = new Map<string, Running>();
  /** Start order; stop walks it backwards. */
  readonly order: string[] = [];
  identities!: Identities;
  ports!: ComponentPorts;
  files!: ComponentFiles;
  caPem = '';
  kubeconfigs!: Record<KubeconfigIdentity, string>;
  nb: NbServer | undefined;
  northd: Northd | undefined;
  nodeNames: string[] = [];
  startupMs = 0;
  stopping = false;
  stopped: Promise<void> | undefined;
  /** The component being restarted on purpose: its exit is not a crash. */
  restarting: string | undefined;
  /** Aborted when one part of the start fails or stop() is called: every wait gives up at once. */
  readonly startAbort = new AbortController();

  constructor(name: string, dir: string, binDir: string, o: ResolvedOptions, sink: ProgressSink, t0: number, entry: RunEntry, removeDir: boolean) {
    this.name = name;
    this.dir = dir;
    this.binDir = binDir;
    this.o = o;
    this.sink = sink;
    this.t0 = t0;
    this.entry = entry;
    this.removeDir = removeDir;
  }

  get server(): string {
    return `https://127.0.0.1:${this.ports.apiserver}`;
  }

  api(identity: IdentityName = 'admin'): ApiTarget {
    return { server: this.server, ca: this.caPem, token: this.identities[identity].token };
  }

  async start(): Promise<void> {
    const logs = join(this.dir, 'logs');
    await mkdir(logs, { recursive: true });
    await timedStep(this.sink, this.t0, 'certificates', () => this.writeCredentials(), () => ({ detail: this.dir }));

    // The NB database does not depend on Kubernetes: start it alongside the control plane.
    const nbStarted = this.o.nb ? this.startOvn() : Promise.resolve();
    // A failed NB start abandons the Kubernetes start too (and is observed here, not unhandled).
    nbStarted.catch(() => this.startAbort.abort());
    try {
      await this.startKubernetes(nbStarted);
    } catch (err) {
      this.startAbort.abort();
      // Let an in-flight NB start finish so stop() sees (and stops) what it started; if it is
      // what failed, its error is the one worth reporting.
      const nbError: unknown = await nbStarted.then(() => undefined, (e: unknown) => e);
      if (nbError !== undefined && err instanceof LocalClusterError && err.code === 'STOPPED') throw nbError;
      throw err;
    }
    this.startupMs = performance.now() - this.t0;
    this.sink({ step: 'cluster', phase: 'ready', elapsedMs: this.startupMs, detail: `${this.server} (dir ${this.dir})` });
  }

  private async startKubernetes(nbStarted: Promise<void>): Promise<void> {
    const etcd = etcdCommand(this.binDir, this.dir, this.ports);
    await this.launch('etcd', etcd, async () => {
      const res = await rawRequest(`http://127.0.0.1:${this.ports.etcdClient}/health`, { timeoutMs: 2000 });
      return res.status === 200 && res.body.includes('"health":"true"');
    });
    await this.launchApiserver();

    const after: Promise<unknown>[] = [];
    if (this.o.crds) after.push(timedStep(this.sink, this.t0, 'crds', () => this.installCrds(), (n) => ({ detail: `${n} CRD(s) Established and served` })));
    if (this.o.rbac) after.push(timedStep(this.sink, this.t0, 'rbac', () => this.installRbac(), () => ({ detail: this.o.rbacFile })));
    if (this.o.controllerManager) {
      after.push(this.launch('kube-controller-manager', controllerManagerCommand(this.binDir, this.files, this.ports), () => this.healthz(this.ports.controllerManager, true)));
    }
    if (this.o.scheduler) {
      after.push(this.launch('kube-scheduler', schedulerCommand(this.binDir, this.files, this.ports), () => this.healthz(this.ports.scheduler, true)));
    }
    let kwokReady: Promise<unknown> = Promise.resolve();
    if (this.o.kwok) {
      kwokReady = this.launch('kwok', kwokCommand(this.binDir, this.files, this.ports), () => this.healthz(this.ports.kwok, false));
      after.push(kwokReady);
    }
    if (this.o.nodes > 0) after.push(timedStep(this.sink, this.t0, 'nodes', () => this.createNodes(kwokReady), () => ({ detail: this.nodeNames.join(', ') })));
    after.push(nbStarted);
    const abortOnFailure = (p: Promise<unknown>) =>
      p.catch((err: unknown) => {
        this.startAbort.abort();
        throw err;
      });
    const results = await Promise.allSettled(after.map(abortOnFailure));
    // Report the first real failure, not the STOPPED errors of the parts it cut short.
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    const cause = rejected.find((r) => !(r.reason instanceof LocalClusterError && r.reason.code === 'STOPPED')) ?? rejected[0];
    if (cause) throw cause.reason;
  }

  /** Polls `probe` until true; gives up with STOPPED as soon as the start is abandoned. */
  private async poll(what: string, probe: () => Promise<boolean>): Promise<void> {
    const outcome = await waitFor(
      async () => {
        if (this.startAbort.signal.aborted) return 'abandoned' as const;
        return (await probe()) ? ('ok' as const) : undefined;
      },
      { timeoutMs: this.o.readyTimeoutMs, intervalMs: 50, what },
    );
    if (outcome === 'abandoned') {
      throw new LocalClusterError('STOPPED', 'start', what, 'abandoned: another part of the start failed, or stop() was called');
    }
  }

  private async writeCredentials(): Promise<void> {
    const [ports, pki] = await Promise.all([freeLoopbackPorts(6), generatePki(this.dir)]);
    const [etcdClient, etcdPeer, apiserver, controllerManager, scheduler, kwok] = ports as [number, number, number, number, number, number];
    this.ports = { etcdClient, etcdPeer, apiserver, controllerManager, scheduler, kwok };
    this.caPem = await readFile(pki.caCert, 'utf8');
    this.identities = newIdentities();
    const tokenFile = join(this.dir, 'tokens.csv');
    await writeFile(tokenFile, tokenAuthFile(this.identities), { mode: 0o600 });
    const kc = (id: IdentityName, file: string) => writeKubeconfig(join(this.dir, file), { server: this.server, caFile: pki.caCert, identity: this.identities[id] });
    const [admin, controller, unprivileged, controllerManagerKc, schedulerKc, kwokKc] = await Promise.all([
      kc('admin', 'admin.kubeconfig'),
      kc('controller', 'controller.kubeconfig'),
      kc('unprivileged', 'unprivileged.kubeconfig'),
      kc('controllerManager', 'kube-controller-manager.kubeconfig'),
      kc('scheduler', 'kube-scheduler.kubeconfig'),
      kc('kwok', 'kwok.kubeconfig'),
    ]);
    this.kubeconfigs = { admin, controller, unprivileged };
    const audit = this.auditFiles;
    if (audit !== undefined) await writeFile(audit.policyFile, WRITE_AUDIT_POLICY);
    this.files = {
      caCert: pki.caCert,
      servingCert: pki.servingCert,
      servingKey: pki.servingKey,
      saKey: pki.saKey,
      saPub: pki.saPub,
      tokenAuthFile: tokenFile,
      controllerManagerKubeconfig: controllerManagerKc,
      schedulerKubeconfig: schedulerKc,
      kwokKubeconfig: kwokKc,
      kwokStages: join(this.binDir, KWOK_STAGES_FILE),
    };
  }

  get auditFiles(): { policyFile: string; logFile: string } | undefined {
    return this.o.audit ? { policyFile: join(this.dir, 'audit-policy.yaml'), logFile: join(this.dir, 'logs', 'audit.jsonl') } : undefined;
  }

  private apiserverCommandLine(): CommandLine {
    return apiserverCommand(this.binDir, this.files, this.ports, {
      watchCache: this.o.watchCache,
      etcdCompactionInterval: this.o.etcdCompactionInterval,
      audit: this.auditFiles,
      extraArgs: this.o.apiserverArgs,
    });
  }

  async launchApiserver(): Promise<void> {
    await this.launch('kube-apiserver', this.apiserverCommandLine(), async () => {
      const res = await apiCall(this.api(), 'GET', '/readyz');
      return res.status === 200;
    });
  }

  private async healthz(port: number, https: boolean): Promise<boolean> {
    const res = await rawRequest(`${https ? 'https' : 'http'}://127.0.0.1:${port}/healthz`, { insecure: true, timeoutMs: 2000 });
    return res.status === 200;
  }

  /** Spawns a component, records its PID, and waits until `ready` says so or the process dies. */
  private launch(step: string, command: CommandLine, ready: () => Promise<boolean>): Promise<void> {
    return timedStep(
      this.sink,
      this.t0,
      step,
      async () => {
        if (this.stopping) throw new LocalClusterError('STOPPED', 'start', step, 'the cluster is stopping');
        const logFile = join(this.dir, 'logs', `${step}.log`);
        let proc: ManagedProcess;
        try {
          proc = spawnManaged({ name: step, command: command.binary, args: command.args, logFile });
        } catch (err) {
          throw new LocalClusterError('SPAWN_FAILED', 'start', step, `${(err as Error).message} (log ${logFile})`, { cause: err });
        }
        const running: Running = { step, command, proc, logFile };
        this.running.set(step, running);
        if (!this.order.includes(step)) this.order.push(step);
        this.entry.recordPid(step, proc.pid);
        this.watchForCrash(running);
        try {
          // A dead process ends the wait at once; the check below says why.
          await this.poll(step, async () => !proc.isAlive() || (await ready()));
        } catch (err) {
          if (err instanceof LocalClusterError) throw err;
          throw new LocalClusterError('NOT_READY', 'start', step, `${(err as Error).message}; log ${logFile}:\n${tailOf(logFile)}`, { cause: err });
        }
        if (!proc.isAlive()) {
          const st = await proc.exited;
          throw new LocalClusterError('EXITED_EARLY', 'start', step, `exited during startup (code ${st.code}, signal ${st.signal}); log ${logFile}:\n${tailOf(logFile)}`);
        }
        return proc.pid;
      },
      (pid) => ({ pid }),
    ).then(() => undefined);
  }

  /** Reports a component that dies while the cluster runs (not during stop). */
  private watchForCrash(running: Running): void {
    void running.proc.exited.then((st) => {
      if (this.stopping || this.running.get(running.step) !== running || this.restarting === running.step) return;
      this.sink({ step: running.step, phase: 'failed', detail: `exited unexpectedly (code ${st.code}, signal ${st.signal}); log ${running.logFile}` });
    });
  }

  async restartApiserver(): Promise<void> {
    const current = this.running.get('kube-apiserver');
    if (current === undefined || this.stopping) throw new LocalClusterError('STOPPED', 'restart', 'kube-apiserver', 'the cluster is not running');
    this.restarting = 'kube-apiserver';
    try {
      this.sink({ step: 'kube-apiserver', phase: 'stopping', pid: current.proc.pid });
      await current.proc.stop(15_000);
      this.entry.forgetPid('kube-apiserver');
      await this.launchApiserver();
    } finally {
      this.restarting = undefined;
    }
  }

  async compactEtcd(): Promise<number> {
    const etcdctl = join(this.binDir, 'etcdctl');
    const endpoint = `--endpoints=http://127.0.0.1:${this.ports.etcdClient}`;
    let revision: number;
    try {
      const { stdout } = await execFileAsync(etcdctl, [endpoint, 'endpoint', 'status', '-w', 'json']);
      const status = JSON.parse(stdout) as { Status?: { header?: { revision?: number } } }[];
      const rev = status[0]?.Status?.header?.revision;
      if (typeof rev !== 'number') throw new Error(`no revision in ${stdout.slice(0, 200)}`);
      revision = rev;
      await execFileAsync(etcdctl, [endpoint, 'compact', String(revision)]);
    } catch (err) {
      const stderr = (err as { stderr?: string }).stderr ?? '';
      throw new LocalClusterError('ETCDCTL', 'compact', endpoint, `${(err as Error).message} ${stderr}`.trim(), { cause: err });
    }
    return revision;
  }

  private async installCrds(): Promise<number> {
    const files = await readManifestDir(this.o.crdDir);
    const crds = files.flatMap((f) => f.objects);
    const notCrd = crds.find((c) => c.kind !== 'CustomResourceDefinition');
    if (notCrd) throw new LocalClusterError('BAD_OPTION', 'install-crds', `${notCrd.kind}/${notCrd.metadata.name}`, `only CustomResourceDefinitions belong in ${this.o.crdDir}`);
    await applyObjects(this.api(), crds);
    await waitCrdsEstablished(this.api(), crds.map((c) => c.metadata.name), this.o.readyTimeoutMs, this.startAbort.signal);
    await waitCrdsServed(this.api(), crds, this.o.readyTimeoutMs, this.startAbort.signal);
    return crds.length;
  }

  private async installRbac(): Promise<void> {
    if (!existsSync(this.o.rbacFile)) throw new LocalClusterError('BAD_OPTION', 'install-rbac', this.o.rbacFile, 'file not found');
    const objects = await readManifestFile(this.o.rbacFile);
    // kube-system is created by the apiserver itself, shortly after /readyz.
    await this.poll('namespace kube-system', async () => (await apiCall(this.api(), 'GET', '/api/v1/namespaces/kube-system')).status === 200);
    await applyObjects(this.api(), objects);
  }

  private async createNodes(kwokReady: Promise<unknown>): Promise<void> {
    const names = Array.from({ length: this.o.nodes }, (_, i) => `kwok-node-${i}`);
    for (const n of names) await apiCallOk(this.api(), 'create-node', 'POST', '/api/v1/nodes', kwokNode(n));
    this.nodeNames = names;
    await kwokReady;
    // Schedulable means Ready (kwok) and, with the controller-manager, the not-ready taint removed.
    const waitTaint = this.o.controllerManager;
    for (const n of names) {
      try {
        await this.poll(`node ${n}`, async () => {
          const res = await apiCall(this.api(), 'GET', `/api/v1/nodes/${n}`);
          if (res.status !== 200) return false;
          const node = JSON.parse(res.body) as { spec?: { taints?: { key: string }[] }; status?: { conditions?: { type: string; status: string }[] } };
          const ready = node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
          const tainted = node.spec?.taints?.some((t) => t.key.startsWith('node.kubernetes.io/')) === true;
          return ready && (!waitTaint || !tainted);
        });
      } catch (err) {
        if (err instanceof LocalClusterError) throw err;
        throw new LocalClusterError('NODE_NOT_READY', 'nodes', n, `${(err as Error).message}; kwok log ${join(this.dir, 'logs', 'kwok.log')}`, { cause: err });
      }
    }
  }

  private async startOvn(): Promise<void> {
    await timedStep(
      this.sink,
      this.t0,
      'ovn-nb',
      async () => {
        if (this.stopping) throw new LocalClusterError('STOPPED', 'start', 'ovn-nb', 'the cluster is stopping');
        this.nb = await startNbServer({ dir: join(this.dir, 'ovn-nb') });
        this.entry.recordPid('ovn-nb', this.nb.pid);
        return this.nb;
      },
      (nb) => ({ pid: nb.pid, detail: nb.tcpRemote ?? nb.remote }),
    );
    if (!this.o.northd || this.nb === undefined) return;
    const nbRemote = this.nb.remote;
    await timedStep(
      this.sink,
      this.t0,
      'ovn-northd',
      async () => {
        this.northd = await startNorthd(nbRemote, { dir: join(this.dir, 'ovn-northd') });
        this.entry.recordPid('ovn-northd', this.northd.process.pid);
        this.entry.recordPid('ovn-sb', this.northd.sb.pid);
        return this.northd;
      },
      (northd) => ({ pid: northd.process.pid, detail: `SB ${northd.sbRemote}` }),
    );
  }

  processes(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [step, r] of this.running) if (r.proc.isAlive()) out[step] = r.proc.pid;
    if (this.nb?.process.isAlive()) out['ovn-nb'] = this.nb.pid;
    if (this.northd?.process.isAlive()) {
      out['ovn-northd'] = this.northd.process.pid;
      out['ovn-sb'] = this.northd.sb.pid;
    }
    return out;
  }

  stop(): Promise<void> {
    this.stopped ??= this.doStop();
    return this.stopped;
  }

  private async doStop(): Promise<void> {
    this.stopping = true;
    this.startAbort.abort();
    const started = performance.now();
    const stopOne = async (step: string, run: () => Promise<unknown>, pid: number | undefined) => {
      const t = performance.now();
      this.sink({ step, phase: 'stopping', ...(pid !== undefined ? { pid } : {}) });
      await run();
      this.entry.forgetPid(step);
      this.sink({ step, phase: 'stopped', elapsedMs: performance.now() - t });
    };
    const ovn = (async () => {
      const northd = this.northd;
      if (northd) await stopOne('ovn-northd', () => northd.stop(), northd.process.pid);
      const nb = this.nb;
      if (nb) await stopOne('ovn-nb', () => nb.stop(), nb.pid);
    })();
    const errors: unknown[] = [];
    for (const step of [...this.order].reverse()) {
      const r = this.running.get(step);
      if (r === undefined) continue;
      // The apiserver may need its 2 s watch-termination grace period plus shutdown.
      const timeout = step === 'kube-apiserver' ? 15_000 : 10_000;
      try {
        await stopOne(step, () => r.proc.stop(timeout), r.proc.pid);
      } catch (err) {
        errors.push(err);
      }
    }
    try {
      await ovn;
    } catch (err) {
      errors.push(err);
    }
    this.entry.remove();
    if (this.removeDir) await rm(this.dir, { recursive: true, force: true });
    unstopped.delete(this);
    this.sink({ step: 'cluster', phase: 'stopped', elapsedMs: performance.now() - started, detail: this.removeDir ? 'dir removed' : `dir kept: ${this.dir}` });
    if (errors.length > 0) throw errors[0];
  }

  handle(): LocalCluster {
    const state = this;
    const tokens = { admin: this.identities.admin.token, controller: this.identities.controller.token, unprivileged: this.identities.unprivileged.token };
    const users = { admin: this.identities.admin.user, controller: this.identities.controller.user, unprivileged: this.identities.unprivileged.user };
    const nb = this.nb;
    const logFiles: Record<string, string> = {};
    for (const [step, r] of this.running) logFiles[step] = r.logFile;
    if (nb) logFiles['ovn-nb'] = nb.logFile;
    return {
      name: this.name,
      dir: this.dir,
      server: this.server,
      caFile: this.files.caCert,
      caPem: this.caPem,
      kubeconfig: this.kubeconfigs.admin,
      kubeconfigs: this.kubeconfigs,
      adminToken: tokens.admin,
      tokens,
      users,
      etcdEndpoint: `http://127.0.0.1:${this.ports.etcdClient}`,
      nbAddress: nb?.tcpRemote,
      nb: nb ? { remote: nb.remote, unixSocket: nb.unixSocket, tcpRemote: nb.tcpRemote } : undefined,
      sbAddress: this.northd?.sbRemote,
      auditLog: this.auditFiles?.logFile,
      binDir: this.binDir,
      nodeNames: [...this.nodeNames],
      options: this.o,
      get processes() {
        return state.processes();
      },
      logFiles,
      startupMs: this.startupMs,
      stop: () => this.stop(),
      restartApiserver: () => this.restartApiserver(),
      compactEtcd: () => this.compactEtcd(),
      kubectl: (args, identity = 'admin') =>
        execFileAsync(join(this.binDir, 'kubectl'), [`--kubeconfig=${this.kubeconfigs[identity]}`, ...args], { maxBuffer: 64 * 1024 * 1024 }),
      api: (identity = 'admin') => this.api(identity),
    };
  }
}
