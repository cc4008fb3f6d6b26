import * as grpc from '@grpc/grpc-js';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../agent/clock/virtual-clock.js';
import { Journal, match } from '../journal/journal.js';
import { decideBehaviour } from './behaviour.js';
import { PodIpAllocator, PodNetwork } from './network.js';
import { ContainerProcess, firstTimeAbove } from './process.js';
import { ContainerFs } from './shell/fs.js';
import type { ContainerConfig } from './types.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const fn of cleanups.splice(0)) fn();
});

const nextIp = new PodIpAllocator('127.78.0.0/16');

function start(spec: { image?: string; command?: string[]; env?: Record<string, string> }) {
  const clock = new VirtualClock();
  const journal = new Journal(clock);
  const network = new PodNetwork(nextIp.allocate(), 'pod1', journal);
  const behaviour = decideBehaviour(
    {
      metadata: { name: 'c', attempt: 0 },
      image: { image: spec.image ?? 'app:1' },
      command: spec.command ?? [],
      args: [],
      envs: Object.entries(spec.env ?? {}).map(([key, value]) => ({ key, value: Buffer.from(value) })),
      annotations: {},
    } as unknown as ContainerConfig,
    null,
  );
  const fs = new ContainerFs();
  const process = new ContainerProcess({ containerId: 'c1', podSandboxId: 'pod1', behaviour, clock, journal, fs, network, logs: null, hostname: 'h', cwd: '/', memoryLimit: () => 0 });
  cleanups.push(() => {
    process.signal('KILL');
    network.closeAll();
  });
  return { clock, journal, network, process, fs };
}

function tcpConnects(ip: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, ip);
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

async function eventually(check: () => Promise<boolean>): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return false;
}

describe('scripted container processes on the pod network', () => {
  it('allocates distinct loopback pod IPs and rejects ranges outside 127/8', () => {
    const a = new PodIpAllocator('127.90.0.0/29');
    expect(Array.from({ length: 5 }, () => a.allocate())).toEqual(['127.90.0.2', '127.90.0.3', '127.90.0.4', '127.90.0.5', '127.90.0.6']);
    expect(() => a.allocate()).toThrow(/exhausted/);
    a.release('127.90.0.4');
    expect(a.allocate()).toBe('127.90.0.4');
    expect(() => new PodIpAllocator('10.0.0.0/8')).toThrow(/inside 127.0.0.0\/8/);
  });

  it('refuses TCP connections until FAKE_TCP says accept, following the clock', async () => {
    const { clock, network } = start({ env: { FAKE_TCP_PORTS: '7101', FAKE_TCP: 'refuse for 10s then accept' } });
    await new Promise((r) => setTimeout(r, 20));
    expect(await tcpConnects(network.ip, 7101)).toBe(false);
    await clock.advance(10_000);
    expect(await eventually(() => tcpConnects(network.ip, 7101))).toBe(true);
  });

  it('answers gRPC health checks from the FAKE_GRPC_HEALTH schedule and journals them', async () => {
    const { clock, network, journal } = start({ env: { FAKE_GRPC_PORTS: '7102', FAKE_GRPC_HEALTH: 'SERVING for 5s then NOT_SERVING' } });
    expect(await eventually(() => tcpConnects(network.ip, 7102))).toBe(true);
    const client = new grpc.Client(`${network.ip}:7102`, grpc.credentials.createInsecure());
    cleanups.push(() => client.close());
    const check = () =>
      new Promise<number>((resolve, reject) =>
        client.makeUnaryRequest(
          '/grpc.health.v1.Health/Check',
          (s: string) => Buffer.from(s ? [0x0a, s.length, ...Buffer.from(s)] : []),
          (b: Buffer) => (b.length >= 2 ? b[1]! : 0),
          '',
          { deadline: Date.now() + 2_000 },
          (err, value) => (err ? reject(err) : resolve(value ?? -1)),
        ),
      );
    expect(await eventually(() => check().then(() => true, () => false))).toBe(true);
    expect(await check()).toBe(1);
    await clock.advance(5_000);
    expect(await check()).toBe(2);
    expect(journal.entries(match('cri', 'ProbeRequestReceived')).some((e) => (e.request as { protocol: string }).protocol === 'grpc')).toBe(true);
  });

  it('serves files with busybox httpd and fetches them with wget from an exec', async () => {
    const { process, network, fs } = start({ image: 'busybox', command: ['sh', '-c', 'mkdir -p /www; echo hello > /www/index.html; httpd -f -p 7103 -h /www'] });
    expect(await eventually(() => tcpConnects(network.ip, 7103))).toBe(true);
    const res = await fetch(`http://${network.ip}:7103/`);
    expect([res.status, await res.text()]).toEqual([200, 'hello\n']);
    expect((await fetch(`http://${network.ip}:7103/missing`)).status).toBe(404);
    const exec = await process.exec(['wget', '-q', '-O', '-', 'http://localhost:7103/'], 5_000);
    expect(exec).toMatchObject({ exitCode: 0, stdout: 'hello\n' });
    const missing = await process.exec(['sh', '-c', 'wget -q -O /tmp/x http://localhost:7103/missing'], 5_000);
    expect(missing).toMatchObject({ exitCode: 1, stderr: 'wget: server returned error: HTTP/1.1 404 Not Found\n' });
    expect(fs.stat('/tmp/x')).toBeNull();
    process.signal('KILL');
    await process.exited;
    expect(await tcpConnects(network.ip, 7103)).toBe(false);
  });

  it('finds when a memory schedule first exceeds a limit', () => {
    const schedule = [{ value: 10, forMs: 1_000 }, { value: 100, forMs: 1_000 }, { value: 5, forMs: null }];
    expect(firstTimeAbove(schedule, 50, 0)).toBe(1_000);
    expect(firstTimeAbove(schedule, 50, 1_500)).toBe(1_500);
    expect(firstTimeAbove(schedule, 50, 2_000)).toBeNull();
    expect(firstTimeAbove(schedule, 200, 0)).toBeNull();
  });
});
