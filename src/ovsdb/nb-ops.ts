// Pure builders for the Kube-OVN-shaped NB rows and the operations that write them. No cache or
// connection here: NbClient decides what to write from the cache, these say how it looks on the
// wire, column for column as Kube-OVN's pkg/ovs writes it.
import { encodeSet, encodeStringMap, encodeUuidSet, namedUuidAtom, type StringMap, uuidAtom } from './model.ts';
import type { Atom, Condition, InsertOp, MutateOp, Operation, Row, UpdateOp, Value, WaitOp } from './protocol.ts';

export const KUBE_OVN_VENDOR = 'kube-ovn';
export const DEFAULT_CLUSTER_ROUTER = 'ovn-cluster';
/** The default provider: its ports are named `<pod>.<ns>`; any other adds `.<provider>`. */
export const OVN_PROVIDER = 'ovn';
export const DEFAULT_VPC = 'ovn-cluster';
export const DEFAULT_SECURITY_GROUP = 'default-securitygroup';

let namedSeq = 0;
/** A fresh uuid-name, `u` + ten digits as Kube-OVN's NamedUUID makes them. */
export function namedUuid(): string {
  namedSeq = (namedSeq + 1) % 1e10;
  return `u${String(namedSeq).padStart(10, '0')}`;
}

export function podPortName(pod: string, namespace: string, provider?: string): string {
  return provider === undefined || provider === '' || provider === OVN_PROVIDER ? `${pod}.${namespace}` : `${pod}.${namespace}.${provider}`;
}

export function routerPatchNames(switchName: string, router: string): { lsp: string; lrp: string } {
  return { lsp: `${switchName}-${router}`, lrp: `${router}-${switchName}` };
}

export const byName = (name: string): Condition[] => [['name', '==', name]];
export const byUuid = (uuid: string): Condition[] => [['_uuid', '==', uuidAtom(uuid)]];
export const byNamedUuid = (name: string): Condition[] => [['_uuid', '==', namedUuidAtom(name)]];

/** Fails the transaction (error "timed out") unless no row matches `where`. */
export function waitAbsent(table: string, where: Condition[]): WaitOp {
  return { op: 'wait', table, where, columns: ['_uuid'], until: '==', rows: [], timeout: 0 };
}

/** Fails the transaction (error "timed out") unless at least one row matches `where`. */
export function waitPresent(table: string, where: Condition[]): WaitOp {
  return { op: 'wait', table, where, columns: ['_uuid'], until: '!=', rows: [], timeout: 0 };
}

/**
 * Optimistic concurrency: fails (error "timed out") unless the row still has `value` in `column`,
 * i.e. nobody changed it since we read it from the cache.
 */
export function waitUnchanged(table: string, where: Condition[], column: string, value: Value): WaitOp {
  return { op: 'wait', table, where, columns: [column], until: '==', rows: [{ [column]: value }], timeout: 0 };
}

export function insertOp(table: string, row: Row, uuidName?: string): InsertOp {
  return uuidName === undefined ? { op: 'insert', table, row } : { op: 'insert', table, row, 'uuid-name': uuidName };
}

export function updateOp(table: string, where: Condition[], row: Row): UpdateOp {
  return { op: 'update', table, where, row };
}

export function setMutateOp(table: string, where: Condition[], column: string, mutator: 'insert' | 'delete', refs: Atom[]): MutateOp {
  return { op: 'mutate', table, where, mutations: [[column, mutator, encodeSet(refs)]] };
}

/**
 * Sets these keys of a map column and leaves every other key alone (no lost update of keys
 * someone else wrote between our read and this write): delete the keys, then insert the pairs.
 */
export function mapSetKeysOp(table: string, where: Condition[], column: string, pairs: Readonly<StringMap>): MutateOp {
  const keys = Object.keys(pairs).sort();
  return {
    op: 'mutate',
    table,
    where,
    mutations: [
      [column, 'delete', encodeSet(keys)],
      [column, 'insert', encodeStringMap(pairs)],
    ],
  };
}

// ------------------------------------------------------------------ rows

export function clusterRouterRow(name: string, options: StringMap): Row {
  return { name, external_ids: encodeStringMap({ vendor: KUBE_OVN_VENDOR }), options: encodeStringMap(options) };
}

/** Options Kube-OVN sets on the cluster router at startup. */
export const CLUSTER_ROUTER_OPTIONS: Readonly<StringMap> = { mac_binding_age_threshold: '300', dynamic_neigh_routers: 'true' };

export function logicalSwitchRow(name: string, otherConfig: StringMap | undefined, portRefs: Atom[]): Row {
  const row: Row = { name, external_ids: encodeStringMap({ vendor: KUBE_OVN_VENDOR }) };
  if (otherConfig && Object.keys(otherConfig).length > 0) row.other_config = encodeStringMap(otherConfig);
  if (portRefs.length > 0) row.ports = encodeSet(portRefs);
  return row;
}

export function routerTypeSwitchPortRow(lspName: string, lrpName: string, switchName: string): Row {
  return {
    name: lspName,
    type: 'router',
    addresses: encodeSet(['router']),
    options: encodeStringMap({ 'router-port': lrpName }),
    external_ids: encodeStringMap({ ls: switchName, vendor: KUBE_OVN_VENDOR }),
  };
}

export function routerPortRow(lrpName: string, router: string, networks: string[], mac: string): Row {
  return {
    name: lrpName,
    networks: encodeSet(networks),
    mac,
    external_ids: encodeStringMap({ lr: router, vendor: KUBE_OVN_VENDOR }),
  };
}

export interface PodPortColumns {
  addresses: string[];
  port_security: string[];
  external_ids: StringMap;
  dhcpv4_options: string | undefined;
  dhcpv6_options: string | undefined;
}

export interface PodPortInput {
  pod: string;
  namespace: string;
  subnet: string;
  mac: string;
  ips: readonly string[];
  portSecurity: boolean;
  vips: readonly string[];
  securityGroups: readonly string[];
  layer2Forward: boolean;
  vpc: string | undefined;
  dhcpv4Options: string | undefined;
  dhcpv6Options: string | undefined;
}

/** The columns Kube-OVN's buildLogicalSwitchPort gives a pod's port. */
export function podPortColumns(p: PodPortInput): PodPortColumns {
  const external: StringMap = { vendor: KUBE_OVN_VENDOR };
  if (p.securityGroups.length > 0) {
    external.security_groups = p.securityGroups.join('/');
    for (const sg of p.securityGroups) external[`associated_sg_${sg}`] = 'true';
  }
  if (p.vpc !== undefined && p.vpc !== '' && p.vpc !== DEFAULT_VPC && !p.securityGroups.includes(DEFAULT_SECURITY_GROUP)) {
    external[`associated_sg_${DEFAULT_SECURITY_GROUP}`] = 'false';
  }
  if (p.vips.length > 0) {
    external.vips = p.vips.join(',');
    external['attach-vips'] = 'true';
  }
  external.pod = `${p.namespace}/${p.pod}`;
  external.ls = p.subnet;

  let addresses: string[];
  let portSecurity: string[] = [];
  if (p.ips.length === 0) {
    // MAC-only port (underlay without CIDR): no IPs and no port security
    addresses = [p.mac];
  } else {
    addresses = [[p.mac, ...p.ips].join(' ')];
    if (p.portSecurity) portSecurity = [[p.mac, ...p.ips, ...p.vips].join(' ')];
  }
  if (p.layer2Forward) addresses.push('unknown');
  return { addresses, port_security: portSecurity, external_ids: external, dhcpv4_options: p.dhcpv4Options, dhcpv6_options: p.dhcpv6Options };
}

export function podPortRow(name: string, c: PodPortColumns): Row {
  const row: Row = {
    name,
    addresses: encodeSet(c.addresses),
    external_ids: encodeStringMap(c.external_ids),
  };
  // empty is the default: leaving it out saves the server parsing it on every insert
  if (c.port_security.length > 0) row.port_security = encodeSet(c.port_security);
  if (c.dhcpv4_options !== undefined) row.dhcpv4_options = encodeUuidSet([c.dhcpv4_options]);
  if (c.dhcpv6_options !== undefined) row.dhcpv6_options = encodeUuidSet([c.dhcpv6_options]);
  return row;
}

/** The update Kube-OVN applies to an existing pod port on the same switch (whole columns). */
export function podPortUpdateRow(c: PodPortColumns): Row {
  return {
    addresses: encodeSet(c.addresses),
    port_security: encodeSet(c.port_security),
    external_ids: encodeStringMap(c.external_ids),
    dhcpv4_options: encodeUuidSet(c.dhcpv4_options === undefined ? [] : [c.dhcpv4_options]),
    dhcpv6_options: encodeUuidSet(c.dhcpv6_options === undefined ? [] : [c.dhcpv6_options]),
  };
}

export function routerPolicyRow(priority: number, match: string, action: string, nexthops: readonly string[], externalIds: StringMap): Row {
  return {
    priority,
    match,
    action,
    nexthops: encodeSet([...nexthops]),
    external_ids: encodeStringMap(externalIds),
  };
}

export function staticRouteRow(routeTable: string, policy: string, ipPrefix: string, nexthop: string, externalIds: StringMap): Row {
  return {
    route_table: routeTable,
    policy: encodeSet([policy]),
    ip_prefix: ipPrefix,
    nexthop,
    external_ids: encodeStringMap(externalIds),
  };
}

export function portGroupRow(name: string, externalIds: StringMap): Row {
  return { name, external_ids: encodeStringMap(externalIds) };
}

/** Adds Kube-OVN's vendor tag to a caller's external_ids without changing the caller's object. */
export function withVendor(externalIds: Readonly<StringMap> | undefined): StringMap {
  return { ...(externalIds ?? {}), vendor: KUBE_OVN_VENDOR };
}

/** The --wait=sb handshake: bump NB_Global.nb_cfg and read the new value back. */
export function bumpNbCfgOps(): Operation[] {
  return [
    { op: 'wait', table: 'NB_Global', timeout: 0, where: [], columns: ['nb_cfg'], until: '!=', rows: [{ nb_cfg: -1 }] },
    { op: 'mutate', table: 'NB_Global', where: [], mutations: [['nb_cfg', '+=', 1]] },
    { op: 'select', table: 'NB_Global', where: [], columns: ['nb_cfg'] },
  ];
}
