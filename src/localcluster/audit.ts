// Write counting through the apiserver's audit log: the cost a controller puts on the apiserver
// is mostly its writes, so tests and benchmarks count them per user and user agent.
import { readFile } from 'node:fs/promises';

/** Logs only mutating requests, once each (when the response is complete), without bodies. */
export const WRITE_AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
    verbs: [create, update, patch, delete, deletecollection]
  - level: None
`;

export interface AuditWrite {
  verb: string;
  user: string;
  userAgent: string;
  resource: string;
  subresource: string | undefined;
  namespace: string | undefined;
  name: string | undefined;
  code: number | undefined;
}

interface AuditEvent {
  verb?: string;
  user?: { username?: string };
  userAgent?: string;
  objectRef?: { resource?: string; subresource?: string; namespace?: string; name?: string };
  responseStatus?: { code?: number };
}

/** Every write in an audit log file (JSON lines); an absent file means no writes yet. */
export async function readAuditWrites(file: string): Promise<AuditWrite[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: AuditWrite[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const e = JSON.parse(line) as AuditEvent;
    out.push({
      verb: e.verb ?? '',
      user: e.user?.username ?? '',
      userAgent: e.userAgent ?? '',
      resource: e.objectRef?.resource ?? '',
      subresource: e.objectRef?.subresource,
      namespace: e.objectRef?.namespace,
      name: e.objectRef?.name,
      code: e.responseStatus?.code,
    });
  }
  return out;
}
