// Copied into a temp project where `ovnkit` is installed from its tarball, and run there, so the
// bare import resolves through node_modules exactly as it does for a user (from the repo it would
// resolve to the repo itself). Prints one JSON line; never throws.
// Usage: node probe.mjs <impl>
import { readFileSync } from 'node:fs';

const warnings = [];
process.on('warning', (w) => warnings.push({ name: w.name, code: w.code, message: w.message }));

/** The .node shared objects this process has mapped: proves which file the addon came from. */
function loadedAddons() {
  const paths = readFileSync('/proc/self/maps', 'utf8')
    .split('\n')
    .map((line) => line.split(/\s+/).slice(5).join(' '))
    .filter((path) => path.endsWith('.node'));
  return [...new Set(paths)];
}

let result;
try {
  const { Ipam, OvsdbClient, WorkQueue, startLocalCluster } = await import('ovnkit');
  const exports = { Ipam: typeof Ipam, OvsdbClient: typeof OvsdbClient, WorkQueue: typeof WorkQueue, startLocalCluster: typeof startLocalCluster };
  try {
    const ipam = new Ipam({ impl: process.argv[2], macSeed: 1 });
    ipam.addOrUpdateSubnet({ name: 'ovn-default', cidr: '10.16.0.0/16' });
    const first = ipam.allocate({ subnet: 'ovn-default', owner: 'default/pod-a', nic: 'eth0' });
    // A second instance: the fallback warning must still be given only once per process.
    const second = new Ipam({ impl: process.argv[2], macSeed: 2 });
    result = { stage: 'ipam', ok: true, exports, impl: ipam.impl, secondImpl: second.impl, v4: first.v4, addons: loadedAddons() };
  } catch (err) {
    result = { stage: 'ipam', ok: false, exports, error: String(err?.message ?? err), code: err?.code, addons: loadedAddons() };
  }
} catch (err) {
  result = { stage: 'import', ok: false, error: String(err?.stack ?? err) };
}
// process.emitWarning delivers on the next tick.
await new Promise((resolve) => setImmediate(resolve));
console.log(JSON.stringify({ ...result, warnings }));
