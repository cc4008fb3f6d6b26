import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { realClock } from '../../clock/real-clock.js';
import { runProbe } from './run-probe.js';
import { tcpProbe } from './tcp.js';

const servers: net.Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

async function listen(host = '127.0.0.1'): Promise<{ port: number; connections: () => number }> {
  let count = 0;
  const server = net.createServer((socket) => {
    count++;
    socket.on('error', () => undefined);
    socket.resume();
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { port: (server.address() as AddressInfo).port, connections: () => count };
}

describe('tcpSocket probe', () => {
  it('succeeds when the port accepts a connection, and closes it', async () => {
    const { port, connections } = await listen();
    expect(await tcpProbe('127.0.0.1', port, { timeoutMs: 1000, clock: realClock })).toEqual({ result: 'success', output: '' });
    expect(connections()).toBe(1);
  });

  it('fails when the connection is refused', async () => {
    const { port } = await listen();
    servers.splice(0).forEach((s) => s.close());
    await new Promise((r) => setTimeout(r, 20));
    const run = await tcpProbe('127.0.0.1', port, { timeoutMs: 1000, clock: realClock });
    expect(run.result).toBe('failure');
    expect(run.output).toMatch(new RegExp(`^dial tcp 127.0.0.1:${port}: .*ECONNREFUSED`));
  });

  it('dials tcpSocket.host when set, else the pod IP, on a named port', async () => {
    const other = await listen('127.0.0.4');
    const pod = await listen('127.0.0.5');
    const deps = { clock: realClock, cri: { execSync: () => Promise.reject(new Error('unused')) }, userAgent: 'kube-probe/1.34' };
    const base = { probeType: 'readiness' as const, pod: {}, podIP: '127.0.0.5', containerId: 'c' };
    const named = { name: 'app', ports: [{ name: 'db', containerPort: pod.port }, { name: 'other', containerPort: other.port }] };
    expect((await runProbe({ ...base, probe: { tcpSocket: { port: 'db' } }, container: named }, deps)).result).toBe('success');
    expect((await runProbe({ ...base, probe: { tcpSocket: { port: 'other', host: '127.0.0.4' } }, container: named }, deps)).result).toBe('success');
    expect(pod.connections()).toBe(1);
    expect(other.connections()).toBe(1);
    const bad = await runProbe({ ...base, probe: { tcpSocket: { port: 'nope' } }, container: named }, deps);
    expect(bad.result).toBe('unknown');
    expect(bad.error?.message).toBe('port nope not found');
  });
});
