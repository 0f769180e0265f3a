// Free TCP ports on 127.0.0.1, chosen by the kernel. All listeners of one call are held open
// together so a single call never returns the same port twice.
import { createServer, type Server } from 'node:net';
import { LocalClusterError } from './errors.ts';

export async function freeLoopbackPorts(count: number): Promise<number[]> {
  if (!Number.isInteger(count) || count < 1) {
    throw new LocalClusterError('BAD_OPTION', 'ports', String(count), 'port count must be a positive integer');
  }
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      const port = await new Promise<number>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => {
          const address = server.address();
          if (address === null || typeof address === 'string') reject(new Error('listener has no port'));
          else resolve(address.port);
        });
      });
      ports.push(port);
    }
    return ports;
  } catch (err) {
    throw new LocalClusterError('PORTS', 'ports', '127.0.0.1', `could not reserve ${count} loopback ports`, { cause: err });
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}
