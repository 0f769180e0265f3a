// Typed OVN Northbound operations with Kube-OVN's rows, column for column, on top of the OVSDB
// client, the monitor cache and the transaction coalescer.
//
// Every operation reads the cache, writes only what differs (so a repeat changes nothing), and
// guards against races with `wait` preconditions: "no switch of this name yet", "the router's
// policy set is still what we read". When a guard or a unique index refuses a transaction, the
// operation re-reads the cache and plans again (a bounded number of times).
import { randomBytes } from 'node:crypto';
import { NbCache, type NbCacheOptions } from './cache.ts';
import { OvsdbClient, type OvsdbClientOptions } from './client.ts';
import { type CoalescerOptions, TransactionCoalescer } from './coalescer.ts';
import { OvsdbConnectionError, OvsdbError } from './errors.ts';
import {
  type LogicalRouter,
  type LogicalRouterPolicy,
  type LogicalRouterStaticRoute,
  type LogicalSwitch,
  type LogicalSwitchPort,
  NB_DATABASE,
  type PortGroup,
  type RouterPolicyAction,
  type StringMap,
  encodeStringMap,
  encodeUuidSet,
  namedUuidAtom,
  sameStringMap,
  sameStringSet,
  uuidAtom,
} from './model.ts';
import { NbInputError, checkIp, checkMac, gatewayNetworks, parseCidr, parseCidrList, randomMac } from './nb-net.ts';
import {
  CLUSTER_ROUTER_OPTIONS,
  DEFAULT_CLUSTER_ROUTER,
  type PodPortColumns,
  bumpNbCfgOps,
  byName,
  byNamedUuid,
  byUuid,
  clusterRouterRow,
  insertOp,
  logicalSwitchRow,
  mapSetKeysOp,
  namedUuid,
  podPortColumns,
  podPortName,
  podPortRow,
  podPortUpdateRow,
  portGroupRow,
  routerPatchNames,
  routerPolicyRow,
  routerPortRow,
  routerTypeSwitchPortRow,
  setMutateOp,
  staticRouteRow,
  updateOp,
  waitAbsent,
  waitPresent,
  waitUnchanged,
  withVendor,
} from './nb-ops.ts';
import type { Condition, MutateOp, Operation, OperationResult, Row } from './protocol.ts';

export { podPortName, routerPatchNames, KUBE_OVN_VENDOR, DEFAULT_CLUSTER_ROUTER } from './nb-ops.ts';
export { NbInputError } from './nb-net.ts';

export type NbErrorCode =
  | 'NB_SWITCH_NOT_FOUND'
  | 'NB_ROUTER_NOT_FOUND'
  | 'NB_PORT_GROUP_NOT_FOUND'
  | 'NB_TRANSACT_FAILED'
  | 'NB_CONFLICT'
  | 'NB_NORTHD_TIMEOUT';

/** A typed operation failed: `code`, the stage (operation) and the object (switch, pod key, …). */
export class NbError extends Error {
  readonly code: NbErrorCode;
  readonly stage: string;
  readonly object: string;
  /** The server's error string when the server refused the transaction ("constraint violation", …). */
  readonly serverCode: string | undefined;
  constructor(code: NbErrorCode, stage: string, object: string, message: string, cause?: unknown) {
    super(`${stage} ${object}: ${message}`, cause === undefined ? undefined : { cause });
    this.name = 'NbError';
    this.code = code;
    this.stage = stage;
    this.object = object;
    this.serverCode = cause instanceof OvsdbError ? cause.code : undefined;
  }
}

export type Outcome = 'created' | 'updated' | 'moved' | 'unchanged';

export interface SubnetSwitchSpec {
  name: string;
  /** "10.16.0.0/16", or "v4cidr,v6cidr" */
  cidr: string;
  /** "10.16.0.1", or "v4,v6", one per CIDR */
  gateway: string;
  /** Kube-OVN excludeIps ("10.16.0.1", "10.16.0.2..10.16.0.9") */
  excludeIps?: readonly string[];
  /** Router the switch attaches to; default ovn-cluster. */
  router?: string;
  /** Router port MAC; random (locally administered) at creation when omitted. */
  gatewayMac?: string;
  /** Attach to the router through a patch port pair. Default true. */
  needRouter?: boolean;
  /**
   * Also write other_config subnet / exclude_ips / ipv6_prefix (OVN's own IPAM inputs). Kube-OVN
   * wrote these before it dropped OVN IPAM options; v1.17 writes only external_ids. Default false.
   */
  ovnIpamOtherConfig?: boolean;
}

export interface SwitchResult {
  outcome: Outcome;
  switchUuid: string;
  routerPortMac: string | undefined;
}

export interface PodPortSpec {
  pod: string;
  namespace: string;
  /** Network provider; 'ovn' (the default) names the port `<pod>.<ns>`, others `<pod>.<ns>.<provider>`. */
  provider?: string;
  subnet: string;
  mac: string;
  /** IPs in Kube-OVN order (v4 first); empty for a MAC-only port. */
  ips: readonly string[];
  portSecurity?: boolean;
  vips?: readonly string[];
  securityGroups?: readonly string[];
  layer2Forward?: boolean;
  /** The pod's VPC; outside ovn-cluster the port is marked associated_sg_default-securitygroup=false. */
  vpc?: string;
  dhcpv4Options?: string;
  dhcpv6Options?: string;
}

export interface PortResult {
  outcome: Outcome;
  name: string;
  uuid: string;
}

export interface RouterPolicySpec {
  priority: number;
  match: string;
  action: RouterPolicyAction;
  nexthops?: readonly string[];
  externalIds?: StringMap;
}

export interface StaticRouteSpec {
  /** "0.0.0.0/0", "10.16.0.0/16", "fd00::/64", or a single address */
  ipPrefix: string;
  /** One route row per next hop (ECMP when several), as Kube-OVN writes them. */
  nexthops: readonly string[];
  /** Default dst-ip. */
  policy?: 'dst-ip' | 'src-ip';
  /** Default "" (the main table). */
  routeTable?: string;
  externalIds?: StringMap;
}

export interface StaticRouteSelector {
  ipPrefix?: string;
  nexthop?: string;
  policy?: 'dst-ip' | 'src-ip';
  routeTable?: string;
  /** Every listed key must equal (an empty value means: key present with any value). */
  externalIds?: StringMap;
}

export interface PolicySelector {
  priority?: number;
  match?: string;
  /** Every listed key must equal (an empty value means: key present with any value). */
  externalIds?: StringMap;
}

export interface NbClientOptions {
  database?: string;
  /** Merge concurrent transactions (default on); pass options to tune the window. */
  coalesce?: boolean | CoalescerOptions;
  /** Per-transaction timeout. Default 30 s. */
  transactTimeoutMs?: number;
  /** Plans retried after a guard or index refusal. Default 4. */
  attempts?: number;
  /** After a lost connection, how long an operation waits for the client to reconnect and replans. Default 30 s. */
  reconnectWaitMs?: number;
  cache?: Omit<NbCacheOptions, 'database'>;
}

interface Plan<R> {
  ops: Operation[];
  /** set-insert mutations that may run last and be fused with other callers' (see coalescer) */
  tail?: MutateOp[];
  /** Turns the transaction's results into the outcome (may throw). */
  finish: (results: OperationResult[]) => R;
}
type Planned<R> = Plan<R> | { done: R };

/** Server refusals worth a fresh plan: a wait guard failed or a unique index was hit by a racer. */
const REPLAN_CODES = new Set(['timed out', 'constraint violation']);
/** Transport failures after which the client reconnects on its own; the operation then replans. */
const RECONNECT_CODES = new Set(['ConnectionLost', 'RequestTimeout']);

export class NbClient {
  readonly client: OvsdbClient;
  readonly cache: NbCache;
  readonly database: string;
  readonly coalescer: TransactionCoalescer | undefined;
  private readonly timeoutMs: number;
  private readonly attempts: number;
  private readonly reconnectWaitMs: number;
  /** Replans after a guard/index refusal (`conflicts`) and after a lost connection (`reconnects`). */
  readonly stats = { conflicts: 0, reconnects: 0 };
  private readonly ownsClient: boolean;

  private constructor(client: OvsdbClient, cache: NbCache, opts: NbClientOptions, ownsClient: boolean) {
    this.client = client;
    this.cache = cache;
    this.database = opts.database ?? NB_DATABASE;
    this.timeoutMs = opts.transactTimeoutMs ?? 30_000;
    this.attempts = opts.attempts ?? 4;
    this.reconnectWaitMs = opts.reconnectWaitMs ?? 30_000;
    this.ownsClient = ownsClient;
    if (opts.coalesce !== false) {
      const copts = typeof opts.coalesce === 'object' ? opts.coalesce : {};
      this.coalescer = new TransactionCoalescer((ops) => this.client.transact(this.database, ops, { timeoutMs: this.timeoutMs }), copts);
    }
  }

  /** Connects to `remote` (unix:/tcp:/ssl:, comma-separated for a cluster) and fills the cache. */
  static async connect(remote: string, opts: NbClientOptions & { client?: OvsdbClientOptions } = {}): Promise<NbClient> {
    const client = await OvsdbClient.connect(remote, { database: opts.database ?? NB_DATABASE, ...opts.client });
    try {
      return await NbClient.over(client, opts, true);
    } catch (err) {
      await client.close();
      throw err;
    }
  }

  /** Builds on an existing client; close() then leaves the client open. */
  static async over(client: OvsdbClient, opts: NbClientOptions = {}, ownsClient = false): Promise<NbClient> {
    const cache = await NbCache.start(client, { ...opts.cache, database: opts.database ?? NB_DATABASE });
    return new NbClient(client, cache, opts, ownsClient);
  }

  async close(): Promise<void> {
    this.coalescer?.close();
    await this.cache.close().catch(() => {});
    if (this.ownsClient) await this.client.close();
  }

  /** One transaction, through the coalescer when enabled; results of `ops` then of `tail`. */
  transact(ops: Operation[], tail: MutateOp[] = []): Promise<OperationResult[]> {
    if (this.coalescer) return this.coalescer.submit(ops, tail);
    return this.client.transact(this.database, tail.length === 0 ? ops : [...ops, ...tail], { timeoutMs: this.timeoutMs });
  }

  // ------------------------------------------------------------------ cluster router

  /** The cluster router with Kube-OVN's external_ids and options; adds missing options only. */
  async ensureClusterRouter(name: string = DEFAULT_CLUSTER_ROUTER): Promise<{ outcome: Outcome; uuid: string }> {
    const stage = 'ensure cluster router';
    return this.converge<{ outcome: Outcome; uuid: string }>(stage, name, () => {
      const lr = this.cache.firstByName('Logical_Router', name);
      if (!lr) {
        const ref = namedUuid();
        return {
          ops: [waitAbsent('Logical_Router', byName(name)), insertOp('Logical_Router', this.guardRow('Logical_Router', clusterRouterRow(name, { ...CLUSTER_ROUTER_OPTIONS })), ref)],
          finish: (r) => ({ outcome: 'created', uuid: insertedUuid(r, 1) }),
        };
      }
      const options = { ...lr.options, ...CLUSTER_ROUTER_OPTIONS };
      if (sameStringMap(options, lr.options)) return { done: { outcome: 'unchanged', uuid: lr._uuid } };
      return {
        ops: [mapSetKeysOp('Logical_Router', byUuid(lr._uuid), 'options', CLUSTER_ROUTER_OPTIONS)],
        finish: () => ({ outcome: 'updated', uuid: lr._uuid }),
      };
    });
  }

  // ------------------------------------------------------------------ logical switch

  /**
   * A subnet's switch (external_ids vendor=kube-ovn) and, unless needRouter is false, its patch
   * to the router: LSP `<subnet>-<router>` of type router and LRP `<router>-<subnet>` with the
   * gateway networks. An existing router port gets its networks (and MAC, when given) updated.
   */
  async ensureLogicalSwitch(spec: SubnetSwitchSpec): Promise<SwitchResult> {
    const stage = 'ensure logical switch';
    const name = spec.name;
    if (!name) throw new NbInputError(stage, '(unnamed subnet)', 'subnet name is empty');
    const needRouter = spec.needRouter ?? true;
    const router = spec.router ?? DEFAULT_CLUSTER_ROUTER;
    const networks = needRouter ? gatewayNetworks(spec.cidr, spec.gateway, name) : [];
    if (!needRouter) parseCidrList(spec.cidr, stage, name);
    if (spec.gatewayMac !== undefined) checkMac(spec.gatewayMac, stage, name);
    const otherConfig = spec.ovnIpamOtherConfig ? ovnIpamOtherConfig(spec, name) : undefined;
    const { lsp: lspName, lrp: lrpName } = routerPatchNames(name, router);

    return this.converge<SwitchResult>(stage, name, () => {
      const ls = this.cache.firstByName('Logical_Switch', name);
      const ops: Operation[] = [];
      let outcome: Outcome = 'unchanged';
      let lsRef: string | undefined;
      const lsPortRefs = [];
      if (!ls) {
        outcome = 'created';
        lsRef = namedUuid();
      } else if (otherConfig && !sameStringMap({ ...ls.other_config, ...otherConfig }, ls.other_config)) {
        outcome = 'updated';
        ops.push(mapSetKeysOp('Logical_Switch', byUuid(ls._uuid), 'other_config', otherConfig));
      }

      let routerPortMac: string | undefined;
      if (needRouter) {
        const lr = this.cache.firstByName('Logical_Router', router);
        if (!lr) throw new NbError('NB_ROUTER_NOT_FOUND', stage, name, `router ${router} does not exist (ensureClusterRouter first)`);
        const lsp = this.cache.firstByName('Logical_Switch_Port', lspName);
        const lrp = this.cache.firstByName('Logical_Router_Port', lrpName);
        if (!lsp) {
          const ref = namedUuid();
          ops.push(insertOp('Logical_Switch_Port', this.guardRow('Logical_Switch_Port', routerTypeSwitchPortRow(lspName, lrpName, name)), ref));
          if (ls) ops.push(setMutateOp('Logical_Switch', byUuid(ls._uuid), 'ports', 'insert', [namedUuidAtom(ref)]));
          else lsPortRefs.push(namedUuidAtom(ref));
          if (outcome === 'unchanged') outcome = 'updated';
        }
        if (!lrp) {
          const ref = namedUuid();
          routerPortMac = spec.gatewayMac ?? randomMac(randomBytes);
          ops.push(waitPresent('Logical_Router', byUuid(lr._uuid)));
          ops.push(insertOp('Logical_Router_Port', this.guardRow('Logical_Router_Port', routerPortRow(lrpName, router, networks, routerPortMac)), ref));
          ops.push(setMutateOp('Logical_Router', byUuid(lr._uuid), 'ports', 'insert', [namedUuidAtom(ref)]));
          if (outcome === 'unchanged') outcome = 'updated';
        } else {
          routerPortMac = lrp.mac;
          const row: Row = {};
          if (!sameStringSet(lrp.networks, networks)) row.networks = ['set', networks];
          if (spec.gatewayMac !== undefined && lrp.mac.toLowerCase() !== spec.gatewayMac.toLowerCase()) {
            row.mac = spec.gatewayMac;
            routerPortMac = spec.gatewayMac;
          }
          if (Object.keys(row).length > 0) {
            ops.push(this.guardedUpdate('Logical_Router_Port', byUuid(lrp._uuid), row));
            if (outcome === 'unchanged') outcome = 'updated';
          }
        }
      } else {
        // Kube-OVN removes the patch pair when a subnet no longer routes (e.g. became underlay)
        const lsp = this.cache.firstByName('Logical_Switch_Port', lspName);
        const lrp = this.cache.firstByName('Logical_Router_Port', lrpName);
        for (const holder of lsp ? this.cache.parentsOf(lsp._uuid, 'Logical_Switch', 'ports') : []) {
          ops.push(setMutateOp('Logical_Switch', byUuid(holder.uuid), 'ports', 'delete', [uuidAtom(lsp!._uuid)]));
        }
        for (const holder of lrp ? this.cache.parentsOf(lrp._uuid, 'Logical_Router', 'ports') : []) {
          ops.push(setMutateOp('Logical_Router', byUuid(holder.uuid), 'ports', 'delete', [uuidAtom(lrp!._uuid)]));
        }
        if (ops.length > 0 && outcome === 'unchanged') outcome = 'updated';
      }
      if (lsRef !== undefined) {
        // the switch goes first so the rows above can be referenced from it by name
        ops.unshift(
          waitAbsent('Logical_Switch', byName(name)),
          insertOp('Logical_Switch', this.guardRow('Logical_Switch', logicalSwitchRow(name, otherConfig, lsPortRefs)), lsRef),
        );
      }
      if (ops.length === 0) return { done: { outcome, switchUuid: ls!._uuid, routerPortMac } };
      return {
        ops,
        finish: (r) => ({ outcome, switchUuid: ls ? ls._uuid : insertedUuid(r, 1), routerPortMac }),
      };
    });
  }

  // ------------------------------------------------------------------ pod ports

  /**
   * Creates the pod's port on `subnet`, updates it in place when it is already there, or moves
   * it (remove from the old switch, create on the new, in one transaction) when it is elsewhere.
   */
  async createOrUpdatePodPort(spec: PodPortSpec): Promise<PortResult> {
    const stage = 'create pod port';
    const podKey = `${spec.namespace}/${spec.pod}`;
    if (!spec.pod || !spec.namespace) throw new NbInputError(stage, podKey, 'pod and namespace are required');
    if (!spec.subnet) throw new NbInputError(stage, podKey, 'subnet is required');
    checkMac(spec.mac, stage, podKey);
    for (const ip of spec.ips) checkIp(ip, stage, podKey);
    for (const ip of spec.vips ?? []) checkIp(ip, stage, podKey);
    const name = podPortName(spec.pod, spec.namespace, spec.provider);
    const want = podPortColumns({
      pod: spec.pod,
      namespace: spec.namespace,
      subnet: spec.subnet,
      mac: spec.mac,
      ips: spec.ips,
      portSecurity: spec.portSecurity ?? false,
      vips: spec.vips ?? [],
      securityGroups: spec.securityGroups ?? [],
      layer2Forward: spec.layer2Forward ?? false,
      vpc: spec.vpc,
      dhcpv4Options: spec.dhcpv4Options,
      dhcpv6Options: spec.dhcpv6Options,
    });

    return this.converge<PortResult>(stage, podKey, () => {
      const ls = this.cache.firstByName('Logical_Switch', spec.subnet);
      if (!ls) throw new NbError('NB_SWITCH_NOT_FOUND', stage, podKey, `logical switch ${spec.subnet} does not exist`);
      const existing = this.cache.firstByName('Logical_Switch_Port', name);
      if (existing) {
        const holders = this.cache.parentsOf(existing._uuid, 'Logical_Switch', 'ports').map((p) => p.uuid);
        if (holders.includes(ls._uuid)) {
          if (samePodPort(existing, want, (col) => this.client.hasColumn('Logical_Switch_Port', col, this.database))) return { done: { outcome: 'unchanged', name, uuid: existing._uuid } };
          return {
            ops: [this.guardedUpdate('Logical_Switch_Port', byUuid(existing._uuid), podPortUpdateRow(want))],
            finish: (r) => {
              expectCount(r, 0, stage, podKey, `port ${name} vanished during the update`);
              return { outcome: 'updated', name, uuid: existing._uuid };
            },
          };
        }
        // on another switch: detach there (the row is garbage-collected) and create it here
        const ref = namedUuid();
        const ops: Operation[] = holders.map((h) => setMutateOp('Logical_Switch', byUuid(h), 'ports', 'delete', [uuidAtom(existing._uuid)]));
        const at = ops.length;
        ops.push(insertOp('Logical_Switch_Port', this.guardRow('Logical_Switch_Port', podPortRow(name, want)), ref));
        return {
          ops,
          tail: [setMutateOp('Logical_Switch', byUuid(ls._uuid), 'ports', 'insert', [namedUuidAtom(ref)])],
          finish: (r) => {
            expectAttached(r, at + 1, stage, podKey, spec.subnet);
            return { outcome: 'moved', name, uuid: insertedUuid(r, at) };
          },
        };
      }
      // The switch is not guarded with a wait (that costs the server more than the insert): if it
      // vanished meanwhile, the mutate matches nothing, the unreferenced port is garbage-collected
      // at commit, and the zero count tells us.
      const ref = namedUuid();
      return {
        ops: [insertOp('Logical_Switch_Port', this.guardRow('Logical_Switch_Port', podPortRow(name, want)), ref)],
        tail: [setMutateOp('Logical_Switch', byUuid(ls._uuid), 'ports', 'insert', [namedUuidAtom(ref)])],
        finish: (r) => {
          expectAttached(r, 1, stage, podKey, spec.subnet);
          return { outcome: 'created', name, uuid: insertedUuid(r, 0) };
        },
      };
    });
  }

  /**
   * Deletes every port whose external_ids:pod is `podKey` ("<ns>/<pod>"), as Kube-OVN does: by
   * removing it from its switch, after which the server drops the row (and its port-group
   * memberships, which are weak references). Resolves with the names removed.
   */
  async deletePodPorts(podKey: string): Promise<string[]> {
    const stage = 'delete pod ports';
    if (!/^[^/]+\/[^/]+$/.test(podKey)) throw new NbInputError(stage, podKey, 'pod key must be "<namespace>/<pod>"');
    return this.converge<string[]>(stage, podKey, () => {
      const ports = this.cache.byExternalId('Logical_Switch_Port', 'pod', podKey);
      if (ports.length === 0) return { done: [] };
      const ops: Operation[] = [];
      for (const p of ports) {
        const holders = this.cache.parentsOf(p._uuid, 'Logical_Switch', 'ports');
        if (holders.length === 0) ops.push({ op: 'delete', table: 'Logical_Switch_Port', where: byUuid(p._uuid) });
        for (const h of holders) ops.push(setMutateOp('Logical_Switch', byUuid(h.uuid), 'ports', 'delete', [uuidAtom(p._uuid)]));
      }
      return { ops, finish: () => ports.map((p) => p.name) };
    });
  }

  // ------------------------------------------------------------------ router policies

  /**
   * Kube-OVN's AddLogicalRouterPolicy: one policy per (priority, match) on the router. A policy
   * with another action or other next hops is replaced; same ones keep their row and only get
   * their external_ids updated. Guarded by the router's policy set being unchanged since read.
   */
  async addRouterPolicy(router: string, spec: RouterPolicySpec): Promise<{ outcome: Outcome; uuid: string }> {
    const stage = 'add router policy';
    const object = `${router} ${spec.priority} ${spec.match}`;
    if (!Number.isInteger(spec.priority) || spec.priority < 0 || spec.priority > 32767) throw new NbInputError(stage, object, `priority must be an integer 0..32767 (got ${spec.priority})`);
    if (!spec.match) throw new NbInputError(stage, object, 'match is empty');
    if (!['allow', 'drop', 'reroute'].includes(spec.action)) throw new NbInputError(stage, object, `action must be allow, drop or reroute (got ${JSON.stringify(spec.action)})`);
    const nexthops = [...(spec.nexthops ?? [])];
    for (const h of nexthops) checkIp(h, stage, object);
    if (spec.action === 'reroute' && nexthops.length === 0) throw new NbInputError(stage, object, 'a reroute policy needs next hops');
    const externalIds = { ...(spec.externalIds ?? {}) };

    return this.converge<{ outcome: Outcome; uuid: string }>(stage, object, () => {
      const lr = this.cache.firstByName('Logical_Router', router);
      if (!lr) throw new NbError('NB_ROUTER_NOT_FOUND', stage, object, `router ${router} does not exist`);
      const same = this.routerPolicies(lr).filter((p) => p.priority === spec.priority && p.match === spec.match);
      let found: LogicalRouterPolicy | undefined;
      const stale: string[] = [];
      for (const p of same) {
        const fits = p.action === spec.action && (spec.action !== 'reroute' || sameStringSet(p.nexthops, nexthops));
        if (fits && !found) found = p;
        else stale.push(p._uuid);
      }
      if (found && stale.length === 0 && sameStringMap(found.external_ids, externalIds)) return { done: { outcome: 'unchanged', uuid: found._uuid } };
      const ops: Operation[] = [waitUnchanged('Logical_Router', byUuid(lr._uuid), 'policies', encodeUuidSet(lr.policies))];
      if (stale.length > 0) ops.push(setMutateOp('Logical_Router', byUuid(lr._uuid), 'policies', 'delete', stale.map(uuidAtom)));
      if (!found) {
        const ref = namedUuid();
        const at = ops.length;
        ops.push(insertOp('Logical_Router_Policy', this.guardRow('Logical_Router_Policy', routerPolicyRow(spec.priority, spec.match, spec.action, nexthops, externalIds)), ref));
        ops.push(setMutateOp('Logical_Router', byUuid(lr._uuid), 'policies', 'insert', [namedUuidAtom(ref)]));
        return { ops, finish: (r) => ({ outcome: stale.length > 0 ? 'updated' : 'created', uuid: insertedUuid(r, at) }) };
      }
      if (!sameStringMap(found.external_ids, externalIds)) ops.push(this.guardedUpdate('Logical_Router_Policy', byUuid(found._uuid), { external_ids: encodeStringMap(externalIds) }));
      const uuid = found._uuid;
      return { ops, finish: () => ({ outcome: 'updated', uuid }) };
    });
  }

  /** Removes the router's policies matching every given field of `selector`; resolves with how many. */
  async removeRouterPolicies(router: string, selector: PolicySelector): Promise<number> {
    const stage = 'remove router policies';
    const object = `${router} ${JSON.stringify(selector)}`;
    if (selector.priority === undefined && selector.match === undefined && selector.externalIds === undefined) {
      throw new NbInputError(stage, object, 'selector is empty (refusing to remove every policy)');
    }
    return this.converge<number>(stage, object, () => {
      const lr = this.cache.firstByName('Logical_Router', router);
      if (!lr) return { done: 0 };
      const doomed = this.routerPolicies(lr).filter((p) => policyMatches(p, selector));
      if (doomed.length === 0) return { done: 0 };
      return {
        ops: [setMutateOp('Logical_Router', byUuid(lr._uuid), 'policies', 'delete', doomed.map((p) => uuidAtom(p._uuid)))],
        finish: () => doomed.length,
      };
    });
  }

  /** The router's policies, from the cache. */
  routerPolicies(lr: LogicalRouter): LogicalRouterPolicy[] {
    const out: LogicalRouterPolicy[] = [];
    for (const u of lr.policies) {
      const p = this.cache.get('Logical_Router_Policy', u);
      if (p) out.push(p);
    }
    return out;
  }

  // ------------------------------------------------------------------ static routes

  /**
   * Kube-OVN's AddLogicalRouterStaticRoute: for (route table, policy, prefix) on the router,
   * exactly one route per wanted next hop; routes to other next hops are removed, existing ones
   * kept as they are. Guarded by the router's static_routes set being unchanged since read.
   */
  async addStaticRoute(router: string, spec: StaticRouteSpec): Promise<{ added: string[]; removed: number }> {
    const stage = 'add static route';
    const policy = spec.policy ?? 'dst-ip';
    const routeTable = spec.routeTable ?? '';
    const object = `${router} ${routeTable ? `${routeTable} ` : ''}${policy} ${spec.ipPrefix}`;
    checkPrefix(spec.ipPrefix, stage, object);
    if (policy !== 'dst-ip' && policy !== 'src-ip') throw new NbInputError(stage, object, `policy must be dst-ip or src-ip (got ${JSON.stringify(policy)})`);
    if (spec.nexthops.length === 0) throw new NbInputError(stage, object, 'no next hops');
    for (const h of spec.nexthops) checkIp(h, stage, object);
    const externalIds = { ...(spec.externalIds ?? {}) };
    return this.converge<{ added: string[]; removed: number }>(stage, object, () => {
      const lr = this.cache.firstByName('Logical_Router', router);
      if (!lr) throw new NbError('NB_ROUTER_NOT_FOUND', stage, object, `router ${router} does not exist`);
      const same = this.routerStaticRoutes(lr).filter((r) => r.ip_prefix === spec.ipPrefix && r.route_table === routeTable && (r.policy ?? 'dst-ip') === policy);
      const have = new Set(same.map((r) => r.nexthop));
      const stale = same.filter((r) => !spec.nexthops.includes(r.nexthop)).map((r) => r._uuid);
      const add = [...new Set(spec.nexthops)].filter((h) => !have.has(h));
      if (stale.length === 0 && add.length === 0) return { done: { added: [], removed: 0 } };
      const ops: Operation[] = [waitUnchanged('Logical_Router', byUuid(lr._uuid), 'static_routes', encodeUuidSet(lr.static_routes))];
      if (stale.length > 0) ops.push(setMutateOp('Logical_Router', byUuid(lr._uuid), 'static_routes', 'delete', stale.map(uuidAtom)));
      const refs = add.map(() => namedUuid());
      add.forEach((h, i) => ops.push(insertOp('Logical_Router_Static_Route', this.guardRow('Logical_Router_Static_Route', staticRouteRow(routeTable, policy, spec.ipPrefix, h, externalIds)), refs[i])));
      if (refs.length > 0) ops.push(setMutateOp('Logical_Router', byUuid(lr._uuid), 'static_routes', 'insert', refs.map(namedUuidAtom)));
      return { ops, finish: () => ({ added: add, removed: stale.length }) };
    });
  }

  /** Removes the router's static routes matching every given field of `selector`; resolves with how many. */
  async removeStaticRoutes(router: string, selector: StaticRouteSelector): Promise<number> {
    const stage = 'remove static routes';
    const object = `${router} ${JSON.stringify(selector)}`;
    if (Object.values(selector).every((v) => v === undefined)) throw new NbInputError(stage, object, 'selector is empty (refusing to remove every route)');
    return this.converge<number>(stage, object, () => {
      const lr = this.cache.firstByName('Logical_Router', router);
      if (!lr) return { done: 0 };
      const doomed = this.routerStaticRoutes(lr).filter((r) => staticRouteMatches(r, selector));
      if (doomed.length === 0) return { done: 0 };
      return {
        ops: [setMutateOp('Logical_Router', byUuid(lr._uuid), 'static_routes', 'delete', doomed.map((r) => uuidAtom(r._uuid)))],
        finish: () => doomed.length,
      };
    });
  }

  /** The router's static routes, from the cache. */
  routerStaticRoutes(lr: LogicalRouter): LogicalRouterStaticRoute[] {
    const out: LogicalRouterStaticRoute[] = [];
    for (const u of lr.static_routes) {
      const r = this.cache.get('Logical_Router_Static_Route', u);
      if (r) out.push(r);
    }
    return out;
  }

  // ------------------------------------------------------------------ port groups

  /** A port group with `externalIds` plus vendor=kube-ovn; existing ones get their external_ids set. */
  async ensurePortGroup(name: string, externalIds?: StringMap): Promise<{ outcome: Outcome; uuid: string }> {
    const stage = 'ensure port group';
    if (!name) throw new NbInputError(stage, '(unnamed port group)', 'port group name is empty');
    const want = withVendor(externalIds);
    return this.converge<{ outcome: Outcome; uuid: string }>(stage, name, () => {
      const pg = this.cache.firstByName('Port_Group', name);
      if (!pg) {
        return {
          ops: [insertOp('Port_Group', this.guardRow('Port_Group', portGroupRow(name, want)), namedUuid())],
          finish: (r) => ({ outcome: 'created', uuid: insertedUuid(r, 0) }),
        };
      }
      if (sameStringMap(pg.external_ids, want)) return { done: { outcome: 'unchanged', uuid: pg._uuid } };
      return {
        ops: [this.guardedUpdate('Port_Group', byUuid(pg._uuid), { external_ids: encodeStringMap(want) })],
        finish: () => ({ outcome: 'updated', uuid: pg._uuid }),
      };
    });
  }

  /** Adds ports (by name) to a port group; names with no port are skipped and returned in `missing`. */
  async addPortGroupPorts(pgName: string, lspNames: readonly string[]): Promise<{ changed: number; missing: string[] }> {
    return this.updatePortGroupPorts('add port group ports', pgName, lspNames, 'insert');
  }

  async removePortGroupPorts(pgName: string, lspNames: readonly string[]): Promise<{ changed: number; missing: string[] }> {
    return this.updatePortGroupPorts('remove port group ports', pgName, lspNames, 'delete');
  }

  private async updatePortGroupPorts(stage: string, pgName: string, lspNames: readonly string[], mutator: 'insert' | 'delete'): Promise<{ changed: number; missing: string[] }> {
    return this.converge<{ changed: number; missing: string[] }>(stage, pgName, () => {
      const pg = this.cache.firstByName('Port_Group', pgName);
      if (!pg) throw new NbError('NB_PORT_GROUP_NOT_FOUND', stage, pgName, `port group ${pgName} does not exist`);
      const members = new Set(pg.ports);
      const missing: string[] = [];
      const change: string[] = [];
      for (const n of lspNames) {
        const lsp = this.cache.firstByName('Logical_Switch_Port', n);
        if (!lsp) {
          missing.push(n);
          continue;
        }
        if (members.has(lsp._uuid) === (mutator === 'delete')) change.push(lsp._uuid);
      }
      if (change.length === 0) return { done: { changed: 0, missing } };
      return {
        ops: [setMutateOp('Port_Group', byUuid(pg._uuid), 'ports', mutator, change.map(uuidAtom))],
        finish: (r) => {
          expectCount(r, 0, stage, pgName, `port group ${pgName} vanished`);
          return { changed: change.length, missing };
        },
      };
    });
  }

  // ------------------------------------------------------------------ northd

  /**
   * The `--wait=sb` handshake: bumps NB_Global.nb_cfg and waits until ovn-northd has reflected
   * it into sb_cfg, i.e. the Southbound database holds the flows for everything written before.
   */
  async syncNorthd(timeoutMs = 10_000): Promise<number> {
    const stage = 'sync northd';
    let results: OperationResult[];
    try {
      results = await this.client.transact(this.database, bumpNbCfgOps(), { timeoutMs: this.timeoutMs });
    } catch (err) {
      throw new NbError('NB_TRANSACT_FAILED', stage, 'NB_Global', `bumping nb_cfg failed (is there an NB_Global row? ovn-northd creates it): ${errText(err)}`, err);
    }
    const rows = (results[2] as { rows?: Array<{ nb_cfg?: number }> } | null)?.rows;
    const target = rows?.[0]?.nb_cfg;
    if (typeof target !== 'number') throw new NbError('NB_TRANSACT_FAILED', stage, 'NB_Global', 'no NB_Global row to bump');
    try {
      await this.cache.waitFor('NB_Global', (g) => g.sb_cfg >= target, timeoutMs, `with sb_cfg ≥ ${target}`);
    } catch (err) {
      throw new NbError('NB_NORTHD_TIMEOUT', stage, 'NB_Global', `ovn-northd did not reach nb_cfg ${target} within ${timeoutMs} ms`, err);
    }
    return target;
  }

  // ------------------------------------------------------------------ machinery

  private guardedUpdate(table: string, where: Condition[], row: Row): Operation {
    return updateOp(table, where, this.guardRow(table, row));
  }

  /** Drops columns the server's schema lacks (newer optional columns), so older servers accept the row. */
  private guardRow(table: string, row: Row): Row {
    let out: Row | undefined;
    for (const col of Object.keys(row)) {
      if (this.client.hasColumn(table, col, this.database)) continue;
      if (col === 'name') throw new NbError('NB_TRANSACT_FAILED', 'schema guard', table, `server schema has no ${table}.name`);
      out ??= { ...row };
      delete out[col];
    }
    return out ?? row;
  }

  /**
   * Plans from the cache, transacts, and on a refusal or a lost connection plans again. Replanning
   * after a lost connection is what makes a retry safe: if the lost transaction did commit, the
   * cache (resumed or resynced before the client reports itself connected) already shows its rows
   * and the new plan does nothing; the `wait` guards and unique indexes cover the rest. The
   * outcome then reads `unchanged` although this call made the change.
   */
  private converge<R>(stage: string, object: string, plan: () => Planned<R>): Promise<R> {
    // First attempt without an async frame: at tens of thousands of ports per second the
    // promise and microtask churn of the retry loop shows in the client's CPU profile.
    let p: Planned<R>;
    try {
      p = plan();
    } catch (err) {
      return Promise.reject(err);
    }
    if ('done' in p) return Promise.resolve(p.done);
    const first = p;
    return this.transact(first.ops, first.tail).then(
      (results) => first.finish(results),
      (err: unknown) => this.convergeAfterFailure(err, stage, object, plan),
    );
  }

  private async convergeAfterFailure<R>(firstErr: unknown, stage: string, object: string, plan: () => Planned<R>): Promise<R> {
    let conflicts = 0;
    const reconnectDeadline = Date.now() + this.reconnectWaitMs;
    let err: unknown = firstErr;
    for (;;) {
      if (err instanceof OvsdbError && REPLAN_CODES.has(err.code)) {
        this.stats.conflicts++;
        if (++conflicts >= this.attempts) throw new NbError('NB_CONFLICT', stage, object, `still conflicting after ${this.attempts} attempts: ${err.message}`, err);
        // Another writer got there first; its rows reach the cache shortly. Back off a little.
        await sleep(2 + Math.random() * 8 * conflicts);
      } else if (err instanceof OvsdbConnectionError && RECONNECT_CODES.has(err.code) && reconnectDeadline - Date.now() > 0) {
        try {
          await this.client.waitConnected(reconnectDeadline - Date.now());
        } catch (waitErr) {
          throw new NbError('NB_TRANSACT_FAILED', stage, object, `connection lost and not back within ${this.reconnectWaitMs} ms: ${errText(waitErr)}`, err);
        }
        this.stats.reconnects++;
      } else {
        throw new NbError('NB_TRANSACT_FAILED', stage, object, errText(err), err);
      }
      const p = plan();
      if ('done' in p) return p.done;
      try {
        return p.finish(await this.transact(p.ops, p.tail));
      } catch (next) {
        if (next instanceof NbError) throw next;
        err = next;
      }
    }
  }
}

/** Equal in every column the server has (a column its schema lacks is never written, so never compared). */
function samePodPort(have: LogicalSwitchPort, want: PodPortColumns, has: (column: string) => boolean): boolean {
  return (
    (!has('addresses') || sameStringSet(have.addresses, want.addresses)) &&
    (!has('port_security') || sameStringSet(have.port_security, want.port_security)) &&
    (!has('external_ids') || sameStringMap(have.external_ids, want.external_ids)) &&
    (!has('dhcpv4_options') || have.dhcpv4_options === want.dhcpv4_options) &&
    (!has('dhcpv6_options') || have.dhcpv6_options === want.dhcpv6_options)
  );
}

function staticRouteMatches(r: LogicalRouterStaticRoute, s: StaticRouteSelector): boolean {
  if (s.ipPrefix !== undefined && r.ip_prefix !== s.ipPrefix) return false;
  if (s.nexthop !== undefined && r.nexthop !== s.nexthop) return false;
  if (s.policy !== undefined && (r.policy ?? 'dst-ip') !== s.policy) return false;
  if (s.routeTable !== undefined && r.route_table !== s.routeTable) return false;
  return externalIdsMatch(r.external_ids, s.externalIds);
}

function externalIdsMatch(have: StringMap, want: StringMap | undefined): boolean {
  for (const [k, v] of Object.entries(want ?? {})) {
    const h = have[k];
    if (h === undefined || (v !== '' && h !== v)) return false;
  }
  return true;
}

/** A static route prefix: a CIDR or a single address. */
function checkPrefix(prefix: string, stage: string, object: string): void {
  if (prefix.includes('/')) parseCidr(prefix, stage, object);
  else checkIp(prefix, stage, object);
}

function policyMatches(p: LogicalRouterPolicy, s: PolicySelector): boolean {
  if (s.priority !== undefined && p.priority !== s.priority) return false;
  if (s.match !== undefined && p.match !== s.match) return false;
  return externalIdsMatch(p.external_ids, s.externalIds);
}

function ovnIpamOtherConfig(spec: SubnetSwitchSpec, object: string): StringMap {
  const cidrs = parseCidrList(spec.cidr, 'ensure logical switch', object);
  const out: StringMap = {};
  const v4 = cidrs.find((c) => c.family === 4);
  const v6 = cidrs.find((c) => c.family === 6);
  if (v4) {
    out.subnet = v4.text;
    const v4Excludes = (spec.excludeIps ?? []).filter((e) => !e.includes(':'));
    if (v4Excludes.length > 0) out.exclude_ips = v4Excludes.join(' ');
  }
  if (v6) out.ipv6_prefix = v6.address;
  return out;
}

function insertedUuid(results: OperationResult[], index: number): string {
  const r = results[index] as { uuid?: [string, string] } | null | undefined;
  return r?.uuid?.[1] ?? '';
}

function expectCount(results: OperationResult[], index: number, stage: string, object: string, message: string): void {
  const r = results[index] as { count?: number } | null | undefined;
  if (r?.count === 0) throw new NbError('NB_CONFLICT', stage, object, message);
}

function expectAttached(results: OperationResult[], index: number, stage: string, object: string, subnet: string): void {
  const r = results[index] as { count?: number } | null | undefined;
  if (r?.count === 0) throw new NbError('NB_SWITCH_NOT_FOUND', stage, object, `logical switch ${subnet} vanished; the port was not kept`);
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export type { LogicalSwitch, LogicalSwitchPort, PortGroup };
