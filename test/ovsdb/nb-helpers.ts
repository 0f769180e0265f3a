// Helpers for the NB integration tests: run ovn-nbctl / ovn-sbctl against the real server and
// parse their output, so assertions check what OVN's own tools see.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export async function nbctl(db: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('ovn-nbctl', [`--db=${db}`, '--timeout=20', ...args], { timeout: 30_000 });
  return stdout.trim();
}

export async function sbctl(db: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('ovn-sbctl', [`--db=${db}`, '--timeout=20', ...args], { timeout: 30_000 });
  return stdout.trim();
}

/** `ovn-nbctl get` of one column, as text (e.g. `{lr=ovn-cluster, vendor=kube-ovn}`). */
export function nbGet(db: string, table: string, record: string, column: string): Promise<string> {
  return nbctl(db, 'get', table, record, column);
}

/** Names (or another column) of the rows `ovn-nbctl find` returns, sorted. */
export async function nbFind(db: string, table: string, column: string, ...conditions: string[]): Promise<string[]> {
  const out = await nbctl(db, '--bare', `--columns=${column}`, 'find', table, ...conditions);
  return out
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .sort();
}

/** A full dump of the tables ovnkit writes, for "a repeat changes nothing" comparisons. */
export async function nbDump(db: string): Promise<string> {
  const tables = ['Logical_Switch', 'Logical_Switch_Port', 'Logical_Router', 'Logical_Router_Port', 'Logical_Router_Policy', 'Port_Group'];
  const parts: string[] = [];
  for (const t of tables) parts.push(`== ${t}\n${await nbctl(db, 'list', t)}`);
  return parts.join('\n');
}

/** Parses ovn-nbctl's `{k=v, k2="v 2"}` map text. */
export function parseNbMap(text: string): Record<string, string> {
  const body = text.trim().replace(/^\{/, '').replace(/\}$/, '').trim();
  const out: Record<string, string> = {};
  if (body === '') return out;
  const re = /\s*("(?:[^"\\]|\\.)*"|[^=,]+)=("(?:[^"\\]|\\.)*"|[^,]*)\s*(?:,|$)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(body)) !== null) {
    if (m[0] === '') break;
    out[unquote(m[1]!.trim())] = unquote(m[2]!.trim());
  }
  return out;
}

function unquote(s: string): string {
  return s.startsWith('"') ? (JSON.parse(s) as string) : s;
}
