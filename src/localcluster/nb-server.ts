// Real OVN databases on this machine: a standalone ovsdb-server, a RAFT cluster on loopback,
// and ovn-northd with its Southbound database. Used by the integration tests and by the local
// control plane (`ovnkit up`). Nothing here needs root; everything lives in a temp dir.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  type ManagedProcess,
  ProcessError,
  killLeftovers,
  markOwned,
  resolveBinary,
  spawnManaged,
  waitFor,
} from './process.ts';

const execFileAsync = promisify(execFile);

export const NB_SCHEMA = '/usr/share/ovn/ovn-nb.ovsschema';
export const SB_SCHEMA = '/usr/share/ovn/ovn-sb.ovsschema';
const INSTALL_HINT =
  'install Debian ovn-central (scripts/bootstrap.sh does: apt-get install ovn-central ovn-common openvswitch-common)';
const TMP_PREFIX = 'ovnkit-ovsdb-';
const READY_TIMEOUT_MS = 15_000;

export interface TlsFiles {
  cert: string;
  key: string;
  ca: string;
}

export interface NbServerOptions {
  /** Directory for db, sockets, logs; a fresh temp dir (removed on stop) when omitted. */
  dir?: string;
  /** Also listen on TCP 127.0.0.1 (ephemeral port). Default true. */
  tcp?: boolean;
  /** Also listen with TLS on 127.0.0.1 using these files. */
  ssl?: TlsFiles;
  /** Schema file; default OVN Northbound. */
  schema?: string;
  /** File stem for db/sock/ctl/pid/log. Default 'nb'. */
  name?: string;
}

export interface NbServer {
  readonly name: string;
  readonly dir: string;
  readonly dbFile: string;
  readonly database: string;
  readonly unixSocket: string;
  /** `unix:<socket>` */
  readonly remote: string;
  readonly tcpRemote: string | undefined;
  readonly sslRemote: string | undefined;
  readonly ctlSocket: string;
  readonly logFile: string;
  /** Pid of the running server (changes on restart). */
  readonly pid: number;
  readonly process: ManagedProcess;
  /** SIGTERM, SIGKILL after a timeout; removes the temp dir if the harness made it. */
  stop(): Promise<void>;
  /** Sends a signal (default SIGKILL) and, for SIGKILL/SIGTERM, waits until the process is gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts the server again on the same db, sockets and ports. */
  restart(): Promise<void>;
}

let leftoversChecked = false;
let installing: Promise<void> | undefined;

const OVN_BINARIES = ['ovsdb-server', 'ovsdb-tool', 'ovn-northd', 'ovn-appctl'];

function missingBinaries(): string[] {
  return OVN_BINARIES.filter((b) => {
    try {
      resolveBinary(b, INSTALL_HINT);
      return false;
    } catch {
      return true;
    }
  });
}

/**
 * Makes sure Debian's ovn-central is installed: installs it with apt-get when a binary is missing
 * and we are root (about 10 s), unless OVNKIT_NO_INSTALL=1. Otherwise throws BinaryNotFound
 * naming the missing binaries and the package.
 */
export function ensureOvnInstalled(): Promise<void> {
  const missing = missingBinaries();
  if (missing.length === 0) return Promise.resolve();
  installing ??= (async () => {
    const canInstall = process.env.OVNKIT_NO_INSTALL !== '1' && process.getuid?.() === 0;
    let aptGet: string | undefined;
    try {
      aptGet = canInstall ? resolveBinary('apt-get', 'not a Debian system') : undefined;
    } catch {
      aptGet = undefined;
    }
    if (!aptGet) {
      throw new ProcessError('BinaryNotFound', 'install', missing.join(', '), `not installed; ${INSTALL_HINT}`);
    }
    process.stderr.write(`[ovnkit] ${missing.join(', ')} missing: installing ovn-central with apt-get (about 10 s)\n`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const install = (): Promise<unknown> =>
      execFileAsync(aptGet, ['-o', 'DPkg::Lock::Timeout=300', 'install', '-y', '-qq', '--no-install-recommends', 'ovn-central', 'ovn-common', 'openvswitch-common'], { env });
    try {
      await install();
    } catch {
      // Package lists may be missing on a fresh machine.
      await execFileAsync(aptGet, ['-o', 'DPkg::Lock::Timeout=300', 'update', '-qq'], { env });
      await install();
    }
    const still = missingBinaries();
    if (still.length > 0) throw new ProcessError('BinaryNotFound', 'install', still.join(', '), `still missing after apt-get install; ${INSTALL_HINT}`);
    process.stderr.write('[ovnkit] ovn-central installed\n');
  })().finally(() => {
    installing = undefined;
  });
  return installing;
}

/** Kills ovsdb-server/ovn-northd processes left by an earlier run that crashed. */
export function killLeftoverServers(): number[] {
  return killLeftovers(tmpdir(), TMP_PREFIX, ['ovsdb-server', 'ovn-northd'], { removeDirs: true });
}

function prepareDir(dir: string | undefined): { dir: string; owned: boolean } {
  if (!leftoversChecked) {
    leftoversChecked = true;
    killLeftoverServers();
  }
  if (dir !== undefined) {
    mkdirSync(dir, { recursive: true });
    markOwned(dir);
    return { dir, owned: false };
  }
  const made = mkdtempSync(join(tmpdir(), TMP_PREFIX));
  markOwned(made);
  return { dir: made, owned: true };
}

function schemaName(schemaFile: string): string {
  if (!existsSync(schemaFile)) {
    throw new ProcessError('SchemaNotFound', 'create-db', schemaFile, `schema file missing; ${INSTALL_HINT}`);
  }
  const parsed = JSON.parse(readFileSync(schemaFile, 'utf8')) as { name?: unknown };
  if (typeof parsed.name !== 'string') {
    throw new ProcessError('BadSchema', 'create-db', schemaFile, 'schema has no "name"');
  }
  return parsed.name;
}

/** A free TCP port on 127.0.0.1 (bound then released; the caller binds it right after). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * One JSON-RPC call on a fresh unix-socket connection, for readiness checks only (the real
 * client lives in src/ovsdb). Replies here are a single JSON value, so parsing the whole buffer
 * is enough.
 */
export async function rpcOnce(socketPath: string, method: string, params: unknown[], timeoutMs = 2000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const sock = createConnection({ path: socketPath });
    let buf = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`${method} on ${socketPath}: no reply within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.setEncoding('utf8');
    sock.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    sock.once('connect', () => sock.write(JSON.stringify({ method, params, id: 0 })));
    sock.on('data', (chunk: string) => {
      buf += chunk;
      let msg: { id?: unknown; result?: unknown; error?: unknown };
      try {
        msg = JSON.parse(buf) as typeof msg;
      } catch {
        return; // incomplete
      }
      clearTimeout(timer);
      sock.destroy();
      if (msg.error !== null && msg.error !== undefined) reject(new Error(`${method}: ${JSON.stringify(msg.error)}`));
      else resolve(msg.result);
    });
  });
}

export interface ServerDatabaseRow {
  name: string;
  model: string;
  connected: boolean;
  leader: boolean;
}

/** `_Server.Database` row for `database` as this server sees it. */
export async function serverDatabaseStatus(socketPath: string, database: string): Promise<ServerDatabaseRow | undefined> {
  const result = (await rpcOnce(socketPath, 'transact', [
    '_Server',
    { op: 'select', table: 'Database', where: [['name', '==', database]], columns: ['name', 'model', 'connected', 'leader'] },
  ])) as [{ rows?: ServerDatabaseRow[] }];
  return result[0]?.rows?.[0];
}

interface LaunchSpec {
  name: string;
  dir: string;
  dbFile: string;
  database: string;
  tcp: boolean;
  ssl: TlsFiles | undefined;
  clustered: boolean;
  removeDirOnStop: boolean;
}

async function launchOvsdbServer(spec: LaunchSpec): Promise<NbServer> {
  const binary = resolveBinary('ovsdb-server', INSTALL_HINT);
  const unixSocket = join(spec.dir, `${spec.name}.sock`);
  const ctlSocket = join(spec.dir, `${spec.name}.ctl`);
  const logFile = join(spec.dir, `${spec.name}.log`);
  const pidFile = join(spec.dir, `${spec.name}.pid`);
  let tcpPort: number | undefined;
  const sslPort = spec.ssl ? await freePort() : undefined;

  const start = async (): Promise<ManagedProcess> => {
    const args = [
      spec.dbFile,
      `--remote=punix:${unixSocket}`,
      `--unixctl=${ctlSocket}`,
      `--pidfile=${pidFile}`,
      `--log-file=${logFile}`,
      '-vconsole:off',
      '-vfile:info',
      '--no-chdir',
    ];
    // A restart reuses the port the first start got so remotes stay valid.
    if (spec.tcp) args.push(`--remote=ptcp:${tcpPort ?? 0}:127.0.0.1`);
    if (spec.ssl) {
      args.push(
        `--remote=pssl:${sslPort}:127.0.0.1`,
        `--private-key=${spec.ssl.key}`,
        `--certificate=${spec.ssl.cert}`,
        `--ca-cert=${spec.ssl.ca}`,
      );
    }
    const logStart = existsSync(logFile) ? readFileSync(logFile).length : 0;
    const proc = spawnManaged({ name: `ovsdb-server(${spec.name})`, command: binary, args, logFile: join(spec.dir, `${spec.name}.stdout`) });
    const died = proc.exited.then((st) => {
      throw new ProcessError(
        'ServerExited',
        'start',
        `ovsdb-server(${spec.name})`,
        `exited during startup (code ${st.code}, signal ${st.signal}); see ${logFile}`,
      );
    });
    died.catch(() => {}); // observed through the race below; later exits are normal
    const ready = (async () => {
      if (spec.tcp && tcpPort === undefined) {
        tcpPort = await waitFor(
          () => {
            if (!existsSync(logFile)) return undefined;
            const text = readFileSync(logFile).subarray(logStart).toString('utf8');
            for (const m of text.matchAll(/listening on port (\d+)/g)) {
              const port = Number(m[1]);
              if (port !== sslPort) return port;
            }
            return undefined;
          },
          { timeoutMs: READY_TIMEOUT_MS, what: `ovsdb-server(${spec.name}): TCP port in ${logFile}` },
        );
      }
      await waitFor(
        async () => {
          if (spec.clustered) {
            // A clustered member is usable once it has joined and knows the leader.
            const row = await serverDatabaseStatus(unixSocket, spec.database);
            return row?.connected === true;
          }
          const dbs = (await rpcOnce(unixSocket, 'list_dbs', [])) as string[];
          return dbs.includes(spec.database);
        },
        { timeoutMs: READY_TIMEOUT_MS, what: `ovsdb-server(${spec.name}) on ${unixSocket}` },
      );
    })();
    try {
      await Promise.race([ready, died]);
    } catch (err) {
      await proc.stop(2000);
      throw err;
    }
    return proc;
  };

  let current = await start();
  const server: NbServer = {
    name: spec.name,
    dir: spec.dir,
    dbFile: spec.dbFile,
    database: spec.database,
    unixSocket,
    remote: `unix:${unixSocket}`,
    get tcpRemote() {
      return tcpPort === undefined ? undefined : `tcp:127.0.0.1:${tcpPort}`;
    },
    sslRemote: sslPort === undefined ? undefined : `ssl:127.0.0.1:${sslPort}`,
    ctlSocket,
    logFile,
    get pid() {
      return current.pid;
    },
    get process() {
      return current;
    },
    async stop() {
      await current.stop(5000);
      if (spec.removeDirOnStop && process.env.OVNKIT_KEEP_TMP !== '1') rmSync(spec.dir, { recursive: true, force: true });
    },
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      current.signal(signal);
      if (signal === 'SIGKILL' || signal === 'SIGTERM') await current.exited;
    },
    async restart() {
      if (current.isAlive()) await current.stop(5000);
      current = await start();
    },
  };
  return server;
}

async function ovsdbTool(args: string[], what: string): Promise<void> {
  const tool = resolveBinary('ovsdb-tool', INSTALL_HINT);
  try {
    await execFileAsync(tool, args);
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new ProcessError('ToolFailed', 'create-db', what, `ovsdb-tool ${args.join(' ')}: ${stderr.trim()}`, { cause: err });
  }
}

/** A standalone ovsdb-server with a fresh database (OVN Northbound unless `schema` says otherwise). */
export async function startNbServer(opts: NbServerOptions = {}): Promise<NbServer> {
  await ensureOvnInstalled();
  const schema = opts.schema ?? NB_SCHEMA;
  const database = schemaName(schema);
  const { dir, owned } = prepareDir(opts.dir);
  const name = opts.name ?? 'nb';
  const dbFile = join(dir, `${name}.db`);
  try {
    if (!existsSync(dbFile)) await ovsdbTool(['create', dbFile, schema], `${name}.db`);
    return await launchOvsdbServer({
      name,
      dir,
      dbFile,
      database,
      tcp: opts.tcp ?? true,
      ssl: opts.ssl,
      clustered: false,
      removeDirOnStop: owned,
    });
  } catch (err) {
    if (owned && process.env.OVNKIT_KEEP_TMP !== '1') rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

export interface NbClusterMember extends NbServer {
  readonly index: number;
  readonly raftAddress: string;
}

export interface NbCluster {
  readonly dir: string;
  readonly database: string;
  readonly members: NbClusterMember[];
  /** Comma-separated unix remotes of all members, e.g. for ovn-nbctl --db=… */
  readonly remote: string;
  /** Comma-separated tcp remotes of all members. */
  readonly tcpRemote: string;
  /** Index of the member that currently reports itself leader (waits up to timeoutMs). */
  waitForLeader(timeoutMs?: number, exclude?: number): Promise<number>;
  kill(index: number, signal?: NodeJS.Signals): Promise<void>;
  restart(index: number): Promise<void>;
  stop(): Promise<void>;
}

export interface NbClusterOptions {
  dir?: string;
  schema?: string;
  tcp?: boolean;
}

/** An n-member RAFT cluster on loopback, each member in its own subdirectory with its own ports. */
export async function startNbCluster(n = 3, opts: NbClusterOptions = {}): Promise<NbCluster> {
  if (!Number.isInteger(n) || n < 1) throw new ProcessError('BadInput', 'cluster', 'startNbCluster', `member count must be ≥ 1 (got ${n})`);
  await ensureOvnInstalled();
  const schema = opts.schema ?? NB_SCHEMA;
  const database = schemaName(schema);
  const { dir, owned } = prepareDir(opts.dir);
  const raftPorts: number[] = [];
  for (let i = 0; i < n; i++) raftPorts.push(await freePort());
  const raft = raftPorts.map((p) => `tcp:127.0.0.1:${p}`);
  const members: NbClusterMember[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const memberDir = join(dir, `m${i + 1}`);
      mkdirSync(memberDir, { recursive: true });
      const dbFile = join(memberDir, 'nb.db');
      const raftAddress = raft[i] as string;
      if (i === 0) await ovsdbTool(['create-cluster', dbFile, schema, raftAddress], `member ${i + 1}`);
      else await ovsdbTool(['join-cluster', dbFile, database, raftAddress, raft[0] as string], `member ${i + 1}`);
    }
    // Start all members concurrently: a joining member only reports connected once the leader
    // has admitted it, and followers need each other for elections.
    const started = await Promise.all(
      raft.map(async (raftAddress, i) => {
        const memberDir = join(dir, `m${i + 1}`);
        const server = await launchOvsdbServer({
          name: 'nb',
          dir: memberDir,
          dbFile: join(memberDir, 'nb.db'),
          database,
          tcp: opts.tcp ?? true,
          ssl: undefined,
          clustered: true,
          removeDirOnStop: false,
        });
        return Object.assign(server, { index: i, raftAddress }) as NbClusterMember;
      }),
    );
    members.push(...started);
  } catch (err) {
    await Promise.all(members.map((m) => m.stop()));
    if (owned) rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  const cluster: NbCluster = {
    dir,
    database,
    members,
    remote: members.map((m) => m.remote).join(','),
    get tcpRemote() {
      return members.map((m) => m.tcpRemote).filter((r) => r !== undefined).join(',');
    },
    async waitForLeader(timeoutMs = 20_000, exclude?: number) {
      return waitFor(
        async () => {
          for (const m of members) {
            if (m.index === exclude || !m.process.isAlive()) continue;
            try {
              const row = await serverDatabaseStatus(m.unixSocket, database);
              if (row?.leader === true && row.connected) return m.index;
            } catch {
              // member down or busy
            }
          }
          return undefined;
        },
        { timeoutMs, intervalMs: 50, what: `RAFT leader of ${database} in ${dir}` },
      );
    },
    async kill(index, signal = 'SIGKILL') {
      await memberAt(index).kill(signal);
    },
    async restart(index) {
      await memberAt(index).restart();
    },
    async stop() {
      await Promise.all(members.map((m) => m.stop()));
      if (owned && process.env.OVNKIT_KEEP_TMP !== '1') rmSync(dir, { recursive: true, force: true });
    },
  };
  function memberAt(index: number): NbClusterMember {
    const m = members[index];
    if (!m) throw new ProcessError('BadInput', 'cluster', `member ${index}`, `no such member (cluster has ${members.length})`);
    return m;
  }
  await cluster.waitForLeader();
  return cluster;
}

export interface Northd {
  readonly dir: string;
  readonly sb: NbServer;
  readonly sbRemote: string;
  readonly process: ManagedProcess;
  readonly ctlSocket: string;
  stop(): Promise<void>;
}

/** ovn-northd between `nbRemote` and a fresh Southbound database it gets to itself. */
export async function startNorthd(nbRemote: string, opts: { dir?: string } = {}): Promise<Northd> {
  await ensureOvnInstalled();
  const binary = resolveBinary('ovn-northd', INSTALL_HINT);
  const appctl = resolveBinary('ovn-appctl', INSTALL_HINT);
  const { dir, owned } = prepareDir(opts.dir);
  // SB first: northd otherwise retries the missing socket only once a second.
  const sb = await startNbServer({ dir, schema: SB_SCHEMA, name: 'sb', tcp: false });
  const ctlSocket = join(dir, 'northd.ctl');
  const logFile = join(dir, 'northd.log');
  const proc = spawnManaged({
    name: 'ovn-northd',
    command: binary,
    args: [
      `--ovnnb-db=${nbRemote}`,
      `--ovnsb-db=${sb.remote}`,
      `--unixctl=${ctlSocket}`,
      `--pidfile=${join(dir, 'northd.pid')}`,
      `--log-file=${logFile}`,
      '-vconsole:off',
      '--no-chdir',
    ],
    logFile: join(dir, 'northd.stdout'),
  });
  const stopAll = async (): Promise<void> => {
    await proc.stop(5000);
    await sb.stop();
    if (owned && process.env.OVNKIT_KEEP_TMP !== '1') rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      async () => {
        if (!proc.isAlive()) throw new ProcessError('ServerExited', 'start', 'ovn-northd', `exited; see ${logFile}`);
        if (!existsSync(ctlSocket)) return undefined;
        const { stdout } = await execFileAsync(appctl, ['-t', ctlSocket, 'status']);
        return stdout.includes('active');
      },
      { timeoutMs: READY_TIMEOUT_MS, intervalMs: 50, what: `ovn-northd (${logFile})` },
    );
  } catch (err) {
    await stopAll();
    throw err;
  }
  return { dir, sb, sbRemote: sb.remote, process: proc, ctlSocket, stop: stopAll };
}
