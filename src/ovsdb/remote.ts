// OVSDB remote strings as OVN tools accept them: unix:PATH, tcp:HOST:PORT, ssl:HOST:PORT, and a
// comma-separated list of those. IPv6 hosts are written in brackets: tcp:[::1]:6641.
import { readFileSync } from 'node:fs';
import { type Socket, createConnection } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { OvsdbConnectionError } from './errors.ts';

export type Remote =
  | { kind: 'unix'; path: string; text: string }
  | { kind: 'tcp' | 'ssl'; host: string; port: number; text: string };

/** Client TLS material: PEM text or a path to a PEM file, for each of key, cert and CA. */
export interface TlsOptions {
  key: string | Buffer;
  cert: string | Buffer;
  ca: string | Buffer;
  /**
   * OVS/OVN clients verify the peer's chain against the CA but not its host name, and OVN
   * deployments commonly issue certificates without IP SANs; we do the same unless asked.
   */
  verifyHostname?: boolean;
}

export function parseRemotes(text: string): Remote[] {
  const parts = text.split(',').map((p) => p.trim()).filter((p) => p !== '');
  if (parts.length === 0) throw new OvsdbConnectionError('BadRemote', 'parse', text, 'no remote given');
  return parts.map(parseRemote);
}

export function parseRemote(text: string): Remote {
  const colon = text.indexOf(':');
  const kind = colon < 0 ? '' : text.slice(0, colon);
  const rest = colon < 0 ? '' : text.slice(colon + 1);
  if (kind === 'unix') {
    if (rest === '') throw new OvsdbConnectionError('BadRemote', 'parse', text, 'unix remote needs a path (unix:PATH)');
    return { kind, path: rest, text };
  }
  if (kind === 'tcp' || kind === 'ssl') {
    const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(rest);
    const port = m ? Number(m[3]) : NaN;
    if (!m || port < 1 || port > 65535) {
      throw new OvsdbConnectionError('BadRemote', 'parse', text, `expected ${kind}:HOST:PORT with port 1-65535`);
    }
    return { kind, host: (m[1] ?? m[2]) as string, port, text };
  }
  throw new OvsdbConnectionError('BadRemote', 'parse', text, 'remote must start with unix:, tcp: or ssl:');
}

function pem(value: string | Buffer): string | Buffer {
  if (Buffer.isBuffer(value) || value.includes('-----BEGIN')) return value;
  return readFileSync(value);
}

/** Opens a socket to one remote; resolves once connected (TLS: once the handshake is done). */
export function connectSocket(remote: Remote, timeoutMs: number, tls: TlsOptions | undefined): Promise<Socket> {
  return new Promise((resolve, reject) => {
    let socket: Socket;
    if (remote.kind === 'unix') {
      socket = createConnection({ path: remote.path });
    } else if (remote.kind === 'tcp') {
      socket = createConnection({ host: remote.host, port: remote.port });
    } else {
      if (!tls) {
        reject(new OvsdbConnectionError('ConnectFailed', 'connect', remote.text, 'ssl remote needs tls options (key, cert, ca)'));
        return;
      }
      let material: { key: string | Buffer; cert: string | Buffer; ca: string | Buffer };
      try {
        material = { key: pem(tls.key), cert: pem(tls.cert), ca: pem(tls.ca) };
      } catch (err) {
        reject(new OvsdbConnectionError('ConnectFailed', 'tls', remote.text, `cannot read TLS files: ${(err as Error).message}`, { cause: err }));
        return;
      }
      socket = tlsConnect({
        host: remote.host,
        port: remote.port,
        ...material,
        rejectUnauthorized: true,
        ...(tls.verifyHostname === true ? {} : { checkServerIdentity: () => undefined }),
      });
    }
    const connectEvent = remote.kind === 'ssl' ? 'secureConnect' : 'connect';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new OvsdbConnectionError('ConnectFailed', 'connect', remote.text, `not connected within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('error', (err) => {
      clearTimeout(timer);
      socket.destroy();
      reject(new OvsdbConnectionError('ConnectFailed', 'connect', remote.text, err.message, { cause: err }));
    });
    socket.once(connectEvent, () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      socket.setNoDelay(true);
      resolve(socket);
    });
  });
}
