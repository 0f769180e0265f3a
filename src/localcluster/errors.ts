// Every failure of the local control plane names what failed (code), when (stage) and on what
// (object: a component, a file, a URL), so a newcomer can act on the message alone.

export type LocalClusterErrorCode =
  | 'BINARIES_MISSING'
  | 'BUILD_FAILED'
  | 'BAD_OPTION'
  | 'PORTS'
  | 'PKI'
  | 'SPAWN_FAILED'
  | 'EXITED_EARLY'
  | 'NOT_READY'
  | 'API_REQUEST'
  | 'CRD_NOT_ESTABLISHED'
  | 'NODE_NOT_READY'
  | 'ETCDCTL'
  | 'WATCH_CACHE_ENABLED'
  | 'STOPPED';

export class LocalClusterError extends Error {
  readonly code: LocalClusterErrorCode;
  readonly stage: string;
  readonly object: string;

  constructor(code: LocalClusterErrorCode, stage: string, object: string, message: string, options?: { cause?: unknown }) {
    super(`[${code}] ${stage} ${object}: ${message}`, options);
    this.name = 'LocalClusterError';
    this.code = code;
    this.stage = stage;
    this.object = object;
  }
}
