import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * Test certificates: a throwaway CA and a server certificate for 127.0.0.1/localhost, made with the
 * openssl CLI (node:crypto cannot issue X.509 certificates). Every call is an argv array, no shell.
 */
const run = promisify(execFile);

export interface ServerCertificates {
  caPem: string;
  certPem: string;
  keyPem: string;
}

export async function generateServerCertificates(hosts: readonly string[] = ['127.0.0.1', 'localhost'], openssl = 'openssl'): Promise<ServerCertificates> {
  const dir = await mkdtemp(join(tmpdir(), 'kubelet-harness-tls-'));
  const p = (f: string): string => join(dir, f);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  try {
    await run(openssl, ['req', '-x509', ...ec, '-keyout', p('ca.key'), '-out', p('ca.crt'), '-days', '2', '-subj', '/CN=kubelet-harness-ca']);
    await run(openssl, ['req', ...ec, '-keyout', p('server.key'), '-out', p('server.csr'), '-subj', '/CN=kube-apiserver']);
    const san = hosts.map((h) => (/^[\d.]+$|:/.test(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
    await writeFile(p('ext.cnf'), `subjectAltName=${san}\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n`);
    await run(openssl, [
      'x509', '-req', '-in', p('server.csr'), '-CA', p('ca.crt'), '-CAkey', p('ca.key'), '-CAcreateserial',
      '-out', p('server.crt'), '-days', '2', '-extfile', p('ext.cnf'),
    ]);
    const [caPem, certPem, keyPem] = await Promise.all([readFile(p('ca.crt'), 'utf8'), readFile(p('server.crt'), 'utf8'), readFile(p('server.key'), 'utf8')]);
    return { caPem, certPem, keyPem };
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new Error(`mock-apiserver: generating test certificates with ${openssl} failed: ${detail}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
