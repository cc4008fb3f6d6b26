import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packagePath } from '../../agent/util/package-root.js';
import { startMockApiServer, type MockApiServer } from './server.js';

const run = promisify(execFile);
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mock-apiserver-tls-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('TLS and bearer-token authentication', () => {
  let server: MockApiServer;

  beforeAll(async () => {
    server = await startMockApiServer({ tls: true, token: true, kubeconfigPath: join(dir, 'kubeconfig') });
  });

  afterAll(async () => {
    await server.close();
  });

  it('serves HTTPS with a generated CA and writes an owner-only kubeconfig shaped like a real cluster\'s', async () => {
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect((await stat(join(dir, 'kubeconfig'))).mode & 0o777).toBe(0o600);
    const text = await readFile(join(dir, 'kubeconfig'), 'utf8');
    expect(text).toContain('certificate-authority-data:');
    expect(text).toContain(`token: ${server.token ?? 'missing'}`);
    expect(text).not.toContain('insecure-skip-tls-verify');
  });

  it('lets client-node in with the kubeconfig and verifies the server certificate', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(join(dir, 'kubeconfig'));
    const core = kc.makeApiClient(CoreV1Api);
    const namespaces = await core.listNamespace();
    expect(namespaces.items.map((n) => n.metadata?.name)).toEqual(['default', 'kube-node-lease', 'kube-public', 'kube-system']);
  });

  it('answers 401 Unauthorized without the token or with a wrong one, but serves health checks', async () => {
    const ca = server.caPem ?? '';
    const get = (path: string, token?: string): Promise<{ code: number; body: string }> =>
      new Promise((resolve, reject) => {
        import('node:https').then(({ request }) => {
          const req = request(`${server.url}${path}`, { ca, headers: token ? { authorization: `Bearer ${token}` } : {} }, (res) => {
            let body = '';
            res.on('data', (d: Buffer) => (body += d.toString()));
            res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
          });
          req.on('error', reject);
          req.end();
        }, reject);
      });
    const anonymous = await get('/api/v1/pods');
    expect(anonymous.code).toBe(401);
    expect(JSON.parse(anonymous.body)).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
    expect((await get('/api/v1/pods', 'wrong')).code).toBe(401);
    expect((await get('/api/v1/pods', server.token)).code).toBe(200);
    expect(await get('/healthz')).toEqual({ code: 200, body: 'ok' });
  });

  it('works for kubectl with the same kubeconfig', async () => {
    const { stdout } = await run(process.env['KUBECTL'] ?? '/usr/bin/kubectl', ['get', 'namespaces', '-o', 'name'], {
      env: { ...process.env, KUBECONFIG: join(dir, 'kubeconfig') },
      timeout: 15_000,
    });
    expect(stdout.trim().split('\n')).toEqual(['namespace/default', 'namespace/kube-node-lease', 'namespace/kube-public', 'namespace/kube-system']);
  });
});

describe('kubelet-harness mock-apiserver', () => {
  it('serves on loopback, prints its URL, writes a kubeconfig and stops on SIGTERM', async () => {
    const kubeconfig = join(dir, 'cli-kubeconfig');
    const child = spawn(
      packagePath('node_modules', '.bin', 'node'),
      ['--experimental-transform-types', '--disable-warning=ExperimentalWarning', '--import', './ci/scripts/source-loader.mjs', 'agent/cmd/main.ts', 'mock-apiserver', '--port', '0', '--kubeconfig', kubeconfig],
      { cwd: packagePath() },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 30_000;
      while (!/kubeconfig written/.test(out)) {
        if (Date.now() > deadline) throw new Error(`no URL printed; got: ${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1] ?? '';
      expect(url).not.toBe('');
      const version = (await (await fetch(`${url}/version`)).json()) as { major: string };
      expect(version.major).toBe('1');
      expect(await readFile(kubeconfig, 'utf8')).toContain(`server: ${url}`);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  }, 40_000);

  it('rejects a bad port with a message naming the flag', async () => {
    const result = await run(
      packagePath('node_modules', '.bin', 'node'),
      ['--experimental-transform-types', '--disable-warning=ExperimentalWarning', '--import', './ci/scripts/source-loader.mjs', 'agent/cmd/main.ts', 'mock-apiserver', '--port', 'http'],
      { cwd: packagePath(), timeout: 30_000 },
    ).then(
      () => ({ stderr: '', failed: false }),
      (err: { stderr: string }) => ({ stderr: err.stderr, failed: true }),
    );
    expect(result.failed).toBe(true);
    expect(result.stderr).toContain('mock-apiserver: --port must be an integer between 0 and 65535, got "http"');
  }, 40_000);
});
