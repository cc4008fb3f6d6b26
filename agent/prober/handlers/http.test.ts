import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { realClock } from '../../clock/real-clock.js';
import { VirtualClock } from '../../clock/virtual-clock.js';
import { buildHttpProbeRequest, canonicalHeaderName, httpProbe } from './http.js';
import { ProberError, probeUserAgent } from './types.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;
const servers: Array<http.Server | https.Server> = [];

async function serve(handler: Handler, host = '127.0.0.1'): Promise<{ port: number; requests: http.IncomingMessage[] }> {
  const requests: http.IncomingMessage[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req);
    handler(req, res);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { port: (server.address() as AddressInfo).port, requests };
}

afterEach(() => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    s.close();
  }
});

const UA = probeUserAgent('v1.34.0-harness');
const container = { name: 'app', ports: [{ name: 'web', containerPort: 0 }] };
const opts = { timeoutMs: 1000, clock: realClock };

describe('httpGet probe', () => {
  it('sends one GET with the kubelet defaults: User-Agent kube-probe/1.34, Accept */*, Connection close, the path and query', async () => {
    const { port, requests } = await serve((_req, res) => res.end('ok'));
    const request = buildHttpProbeRequest({ port, path: '/healthz?verbose=1' }, container, '127.0.0.1', UA);
    const run = await httpProbe(request, opts);
    expect(run).toEqual({ result: 'success', output: 'ok' });
    expect(requests).toHaveLength(1);
    const req = requests[0]!;
    expect(req.method).toBe('GET');
    expect(req.url).toBe('/healthz?verbose=1');
    expect(req.headers['user-agent']).toBe('kube-probe/1.34');
    expect(req.headers['accept']).toBe('*/*');
    expect(req.headers['connection']).toBe('close');
    expect(req.headers['host']).toBe(`127.0.0.1:${port}`);
    expect(req.headers['accept-encoding']).toBeUndefined();
  });

  it('keeps repeated custom headers, lets the pod override User-Agent, drops an empty Accept and sends a Host header as the request host', async () => {
    const { port, requests } = await serve((_req, res) => res.end());
    const request = buildHttpProbeRequest(
      {
        port,
        httpHeaders: [
          { name: 'x-token', value: 'a' },
          { name: 'X-Token', value: 'b' },
          { name: 'user-agent', value: 'mine/1' },
          { name: 'Accept', value: '' },
          { name: 'Host', value: 'app.example' },
        ],
      },
      container,
      '127.0.0.1',
      UA,
    );
    expect((await httpProbe(request, opts)).result).toBe('success');
    const req = requests[0]!;
    expect(req.headersDistinct['x-token']).toEqual(['a', 'b']);
    expect(req.headers['user-agent']).toBe('mine/1');
    expect(req.headers['accept']).toBeUndefined();
    expect(req.headers['host']).toBe('app.example');
  });

  it('probes httpGet.host instead of the pod IP, and resolves a named port from the container ports', async () => {
    const { port, requests } = await serve((_req, res) => res.end(), '127.0.0.2');
    const named = { name: 'app', ports: [{ name: 'web', containerPort: port }] };
    const request = buildHttpProbeRequest({ port: 'web', host: '127.0.0.2', scheme: 'HTTP' }, named, '127.0.0.99', UA);
    expect(request.url.href).toBe(`http://127.0.0.2:${port}/`);
    expect((await httpProbe(request, opts)).result).toBe('success');
    expect(requests).toHaveLength(1);
  });

  it('rejects an unknown named port and an out-of-range port as prober errors', () => {
    expect(() => buildHttpProbeRequest({ port: 'metrics' }, container, '127.0.0.1', UA)).toThrow(ProberError);
    expect(() => buildHttpProbeRequest({ port: 'metrics' }, container, '127.0.0.1', UA)).toThrow('port metrics not found');
    expect(() => buildHttpProbeRequest({ port: 70000 }, container, '127.0.0.1', UA)).toThrow('invalid port number: 70000');
    expect(buildHttpProbeRequest({ port: '8080' }, container, '127.0.0.1', UA).url.port).toBe('8080');
  });

  it('fails on 4xx/5xx without putting the body in the message', async () => {
    const { port } = await serve((_req, res) => {
      res.statusCode = 500;
      res.end('secret stack trace');
    });
    const run = await httpProbe(buildHttpProbeRequest({ port }, container, '127.0.0.1', UA), opts);
    expect(run).toEqual({ result: 'failure', output: 'HTTP probe failed with statuscode: 500' });
  });

  it('succeeds on 2xx and on an unfollowed 3xx; 399 counts, 400 does not', async () => {
    for (const [status, result] of [[204, 'success'], [304, 'warning'], [399, 'warning'], [400, 'failure']] as const) {
      const { port } = await serve((_req, res) => {
        res.statusCode = status;
        res.end();
      });
      expect((await httpProbe(buildHttpProbeRequest({ port }, container, '127.0.0.1', UA), opts)).result).toBe(result);
    }
  });

  it('follows redirects to the same hostname, even on another port, keeping the probe headers', async () => {
    const target = await serve((_req, res) => res.end('landed'));
    const start = await serve((_req, res) => {
      res.writeHead(302, { location: `http://127.0.0.1:${target.port}/final` });
      res.end();
    });
    const run = await httpProbe(buildHttpProbeRequest({ port: start.port, path: '/start' }, container, '127.0.0.1', UA), opts);
    expect(run).toEqual({ result: 'success', output: 'landed' });
    expect(target.requests[0]!.url).toBe('/final');
    expect(target.requests[0]!.headers['user-agent']).toBe('kube-probe/1.34');
  });

  it('does not follow a redirect to another hostname: the 3xx is a success with a warning', async () => {
    const elsewhere = await serve((_req, res) => res.end('should not be reached'), '127.0.0.3');
    const start = await serve((_req, res) => {
      res.writeHead(301, { location: `http://127.0.0.3:${elsewhere.port}/` });
      res.end('moved');
    });
    const run = await httpProbe(buildHttpProbeRequest({ port: start.port }, container, '127.0.0.1', UA), opts);
    expect(run).toEqual({ result: 'warning', output: 'Probe terminated redirects, Response body: moved' });
    expect(elsewhere.requests).toHaveLength(0);
  });

  it('stops a redirect loop at the tenth request and fails', async () => {
    const loop = await serve((req, res) => {
      const n = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('n') ?? '0');
      res.writeHead(307, { location: `/loop?n=${n + 1}` });
      res.end();
    });
    const run = await httpProbe(buildHttpProbeRequest({ port: loop.port, path: '/loop' }, container, '127.0.0.1', UA), opts);
    expect(run.result).toBe('failure');
    expect(run.output).toContain('stopped after 10 redirects');
    expect(loop.requests).toHaveLength(10);
  });

  it('reads at most 10 KiB of the body', async () => {
    const { port } = await serve((_req, res) => res.end('x'.repeat(64 * 1024)));
    const run = await httpProbe(buildHttpProbeRequest({ port }, container, '127.0.0.1', UA), opts);
    expect(run.result).toBe('success');
    expect(run.output).toHaveLength(10 * 1024);
  });

  it('treats a refused connection as a failure, not an error', async () => {
    const { port } = await serve((_req, res) => res.end());
    for (const s of servers.splice(0)) s.close();
    await new Promise((r) => setTimeout(r, 20));
    const run = await httpProbe(buildHttpProbeRequest({ port }, container, '127.0.0.1', UA), opts);
    expect(run.result).toBe('failure');
    expect(run.error).toBeUndefined();
    expect(run.output).toMatch(new RegExp(`^Get "http://127.0.0.1:${port}/": .*ECONNREFUSED`));
  });

  it('bounds the whole exchange by timeoutSeconds on the injected clock', async () => {
    const clock = new VirtualClock();
    const { port, requests } = await serve(() => undefined);
    const pending = httpProbe(buildHttpProbeRequest({ port }, container, '127.0.0.1', UA), { timeoutMs: 1000, clock });
    while (requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    let settled = false;
    void pending.then(() => (settled = true));
    await clock.advance(999);
    expect(settled).toBe(false);
    await clock.advance(1);
    const run = await pending;
    expect(run.result).toBe('failure');
    expect(run.output).toContain('Client.Timeout exceeded');
  });

  it('speaks HTTPS without verifying the certificate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'probe-tls-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=probe-test'], { stdio: 'ignore' });
      const server = https.createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (_req, res) => res.end('tls ok'));
      servers.push(server);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as AddressInfo).port;
      const run = await httpProbe(buildHttpProbeRequest({ port, scheme: 'HTTPS' }, container, '127.0.0.1', UA), opts);
      expect(run).toEqual({ result: 'success', output: 'tls ok' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('canonicalizes header names as Go does', () => {
    expect(canonicalHeaderName('x-custom-header')).toBe('X-Custom-Header');
    expect(canonicalHeaderName('ACCEPT')).toBe('Accept');
    expect(probeUserAgent('v1.34.0-harness')).toBe('kube-probe/1.34');
    expect(probeUserAgent('dev')).toBe('kube-probe/');
  });
});
