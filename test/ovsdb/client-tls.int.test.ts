// ssl: remotes against ovsdb-server's pssl listener, with a CA and certificates made by openssl.
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type NbServer, startNbServer } from '../../src/localcluster/nb-server.ts';
import { OvsdbClient, OvsdbConnectionError } from '../../src/ovsdb/index.ts';
import { NB, type TlsMaterial, insertSwitch, makeTlsMaterial, switchNames } from './harness.ts';

let tls: TlsMaterial;
let server: NbServer;

beforeAll(async () => {
  tls = makeTlsMaterial();
  server = await startNbServer({ ssl: { cert: tls.serverCert, key: tls.serverKey, ca: tls.ca } });
});
afterAll(async () => {
  await server?.stop();
  if (tls) rmSync(tls.dir, { recursive: true, force: true });
});

describe('TLS', () => {
  it('transacts and monitors over ssl: with a client certificate signed by the CA', async () => {
    const remote = server.sslRemote as string;
    expect(remote).toMatch(/^ssl:127\.0\.0\.1:\d+$/);
    const client = await OvsdbClient.connect(remote, { tls: { key: tls.clientKey, cert: tls.clientCert, ca: tls.ca } });
    try {
      const seen: string[] = [];
      await client.monitor(NB, 'tls-mon', { Logical_Switch: { columns: ['name'] } }, (e) => {
        for (const c of Object.values(e.updates.Logical_Switch ?? {})) if ('insert' in c) seen.push(c.insert.name as string);
      });
      await client.transact(NB, [insertSwitch('over-tls')]);
      expect(seen).toEqual(['over-tls']);
      expect(await switchNames(client)).toContain('over-tls');
    } finally {
      await client.close();
    }
  });

  it('accepts PEM text instead of file paths', async () => {
    const { readFileSync } = await import('node:fs');
    const client = await OvsdbClient.connect(server.sslRemote as string, {
      tls: { key: readFileSync(tls.clientKey, 'utf8'), cert: readFileSync(tls.clientCert, 'utf8'), ca: readFileSync(tls.ca, 'utf8') },
    });
    await client.close();
  });

  it('fails to connect, naming the remote, with a certificate from another CA', async () => {
    const err = (await OvsdbClient.connect(server.sslRemote as string, {
      connectTimeoutMs: 2000,
      tls: { key: tls.strangerKey, cert: tls.strangerCert, ca: tls.ca },
    }).catch((e: unknown) => e)) as OvsdbConnectionError;
    expect(err).toBeInstanceOf(OvsdbConnectionError);
    expect(err.code).toBe('ConnectFailed');
    expect(err.message).toContain(server.sslRemote as string);
  });

  it('fails to connect when we do not trust the server CA', async () => {
    const err = (await OvsdbClient.connect(server.sslRemote as string, {
      connectTimeoutMs: 2000,
      tls: { key: tls.clientKey, cert: tls.clientCert, ca: tls.strangerCert },
    }).catch((e: unknown) => e)) as OvsdbConnectionError;
    expect(err).toBeInstanceOf(OvsdbConnectionError);
    expect(err.code).toBe('ConnectFailed');
    expect(err.message).toMatch(/certificate/i);
  });

  it('refuses an ssl: remote without TLS options', async () => {
    const err = (await OvsdbClient.connect(server.sslRemote as string, { connectTimeoutMs: 500 }).catch((e: unknown) => e)) as OvsdbConnectionError;
    expect(err.code).toBe('ConnectFailed');
    expect(err.message).toMatch(/tls options/);
  });
});
