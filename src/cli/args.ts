// Command-line parsing for `ovnkit`. Pure: returns what to do or a usage error, never exits.

export interface UpFlags {
  nodes: number;
  nb: boolean;
  northd: boolean;
  keep: boolean;
  dir: string | undefined;
}

export type ParsedCommand =
  | { kind: 'help'; topic: 'main' | 'up' }
  | { kind: 'up'; flags: UpFlags }
  | { kind: 'error'; message: string };

export const MAIN_HELP = `ovnkit: Kube-OVN-compatible pod IP allocation controller

Usage:
  ovnkit up [flags]     start a local control plane in the foreground (Ctrl-C stops it)
  ovnkit --help         show this help
  ovnkit up --help      show the flags of "up"
`;

export const UP_HELP = `Usage: ovnkit up [flags]

Starts, in the foreground, a local Kubernetes control plane built from pinned sources (etcd,
kube-apiserver, kube-controller-manager, kube-scheduler, kwok with fake nodes), installs the
ovnkit CRDs and RBAC, and starts the OVN Northbound database. Builds the binaries first if they
are not cached yet (once; 13-20 minutes on 2 cores). Prints KUBECONFIG=<path> when ready, runs
until SIGINT (Ctrl-C) or SIGTERM, then stops every process and removes its directory (unless
--keep or --dir). Exits 0 after a clean stop, 1 if the start fails or a component dies, 2 on a
usage error, 130 if interrupted during the start.

Flags:
  --nodes N     number of fake kwok nodes (default 1; 0 to 1000)
  --no-nb       do not start the OVN Northbound ovsdb-server
  --northd      also start ovn-northd with its own Southbound database
  --keep        keep the cluster directory (certs, kubeconfigs, logs, data) after stopping
  --dir DIR     put the cluster directory at DIR (must be empty or absent; always kept)
  -h, --help    show this help
`;

function parseNodes(value: string | undefined): number | string {
  if (value === undefined || value === '') return '--nodes needs a value, e.g. --nodes 2';
  if (!/^\d+$/.test(value)) return `--nodes must be a whole number from 0 to 1000 (got ${JSON.stringify(value)})`;
  const n = Number(value);
  if (n > 1000) return `--nodes must be a whole number from 0 to 1000 (got ${value})`;
  return n;
}

export function parseArgs(argv: string[]): ParsedCommand {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') return { kind: 'help', topic: 'main' };
  if (command !== 'up') {
    return { kind: 'error', message: `unknown ${command.startsWith('-') ? 'flag' : 'command'} ${JSON.stringify(command)} (try: ovnkit --help)` };
  }
  const flags: UpFlags = { nodes: 1, nb: true, northd: false, keep: false, dir: undefined };
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] as string;
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const inline = arg.startsWith('--') && eq > 0 ? arg.slice(eq + 1) : undefined;
    const takeValue = (): string | undefined => {
      if (inline !== undefined) return inline;
      const next = rest[i + 1];
      if (next === undefined || next.startsWith('--')) return undefined;
      i++;
      return next;
    };
    const noValue = (): ParsedCommand | undefined =>
      inline !== undefined ? { kind: 'error', message: `${name} takes no value (got ${JSON.stringify(arg)})` } : undefined;
    switch (name) {
      case '-h':
      case '--help':
        return { kind: 'help', topic: 'up' };
      case '--nodes': {
        const n = parseNodes(takeValue());
        if (typeof n === 'string') return { kind: 'error', message: n };
        flags.nodes = n;
        break;
      }
      case '--no-nb':
        if (noValue()) return noValue() as ParsedCommand;
        flags.nb = false;
        break;
      case '--northd':
        if (noValue()) return noValue() as ParsedCommand;
        flags.northd = true;
        break;
      case '--keep':
        if (noValue()) return noValue() as ParsedCommand;
        flags.keep = true;
        break;
      case '--dir': {
        const dir = takeValue();
        if (dir === undefined || dir === '') return { kind: 'error', message: '--dir needs a directory, e.g. --dir /tmp/my-cluster' };
        flags.dir = dir;
        break;
      }
      default:
        return { kind: 'error', message: `unknown ${arg.startsWith('-') ? 'flag' : 'argument'} ${JSON.stringify(arg)} for "ovnkit up" (try: ovnkit up --help)` };
    }
  }
  if (flags.northd && !flags.nb) return { kind: 'error', message: '--northd needs the NB database; drop --no-nb' };
  return { kind: 'up', flags };
}
