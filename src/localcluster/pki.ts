// Certificates and keys for one cluster, made with the openssl CLI (openssl 3): a CA, the
// apiserver serving cert signed by it, and the service-account signing key pair.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LocalClusterError } from './errors.ts';

const execFileAsync = promisify(execFile);

export interface ClusterPki {
  caCert: string;
  caKey: string;
  servingCert: string;
  servingKey: string;
  saKey: string;
  saPub: string;
}

/** Names the apiserver's serving certificate answers to (loopback and in-cluster names). */
export const SERVING_SANS = [
  'IP:127.0.0.1',
  'IP:10.0.0.1',
  'DNS:localhost',
  'DNS:kubernetes',
  'DNS:kubernetes.default',
  'DNS:kubernetes.default.svc',
  'DNS:kubernetes.default.svc.cluster.local',
];

async function openssl(stage: string, args: string[], cwd: string): Promise<void> {
  try {
    await execFileAsync('openssl', args, { cwd });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new LocalClusterError('PKI', stage, `openssl ${args[0]}`, `failed: ${stderr.trim() || String(err)}`, { cause: err });
  }
}

export async function generatePki(dir: string): Promise<ClusterPki> {
  const pki: ClusterPki = {
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    servingCert: join(dir, 'apiserver.crt'),
    servingKey: join(dir, 'apiserver.key'),
    saKey: join(dir, 'sa.key'),
    saPub: join(dir, 'sa.pub'),
  };
  const ext = join(dir, 'apiserver-san.ext');
  await writeFile(
    ext,
    [
      `subjectAltName=${SERVING_SANS.join(',')}`,
      'extendedKeyUsage=serverAuth',
      'basicConstraints=CA:FALSE',
      'keyUsage=digitalSignature,keyEncipherment',
      '',
    ].join('\n'),
  );
  // EC P-256 keys: generation is ~100x faster than RSA-2048 and every component accepts them.
  const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await Promise.all([
    openssl('pki-ca', ['req', '-x509', ...ecKey, '-keyout', pki.caKey, '-out', pki.caCert, '-days', '365', '-subj', '/CN=ovnkit-local-ca'], dir),
    openssl('pki-sa-key', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', pki.saKey], dir),
  ]);
  const csr = join(dir, 'apiserver.csr');
  await Promise.all([
    openssl('pki-sa-pub', ['pkey', '-in', pki.saKey, '-pubout', '-out', pki.saPub], dir),
    openssl('pki-serving-csr', ['req', ...ecKey, '-keyout', pki.servingKey, '-out', csr, '-subj', '/CN=kube-apiserver'], dir),
  ]);
  await openssl(
    'pki-serving-sign',
    ['x509', '-req', '-in', csr, '-CA', pki.caCert, '-CAkey', pki.caKey, '-CAcreateserial', '-out', pki.servingCert, '-days', '365', '-extfile', ext],
    dir,
  );
  return pki;
}
