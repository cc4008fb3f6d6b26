import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { realClock } from '../../clock/real-clock.js';
import { VirtualClock } from '../../clock/virtual-clock.js';
import { grpcProbe, loadHealthProto, type ServingStatus } from './grpc.js';

const servers: grpc.Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.forceShutdown();
});

interface Seen {
  service: string;
  userAgent: string;
}

async function healthServer(status: (service: string) => ServingStatus | 'NOT_FOUND', withHealth = true): Promise<{ port: number; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = new grpc.Server();
  if (withHealth) {
    const { Health } = loadHealthProto();
    server.addService(Health.service, {
      Check: (call: grpc.ServerUnaryCall<{ service: string }, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        seen.push({ service: call.request.service, userAgent: String(call.metadata.get('user-agent')[0] ?? '') });
        const s = status(call.request.service);
        if (s === 'NOT_FOUND') callback({ code: grpc.status.NOT_FOUND, details: 'unknown service' });
        else callback(null, { status: s });
      },
      Watch: (call: grpc.ServerWritableStream<unknown, unknown>) => call.end(),
    });
  }
  servers.push(server);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { port, seen };
}

const opts = { timeoutMs: 2000, clock: realClock, userAgent: 'kube-probe/1.34' };

describe('grpc probe', () => {
  it('succeeds on SERVING, asking about the configured service with the kube-probe user agent', async () => {
    const { port, seen } = await healthServer(() => 'SERVING');
    expect(await grpcProbe('127.0.0.1', port, 'db', opts)).toEqual({ result: 'success', output: 'service is serving' });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.service).toBe('db');
    expect(seen[0]!.userAgent).toMatch(/^kube-probe\/1\.34/);
  });

  it('fails on NOT_SERVING, UNKNOWN and an error status', async () => {
    const { port } = await healthServer((service) => (service === 'a' ? 'NOT_SERVING' : service === 'b' ? 'UNKNOWN' : 'NOT_FOUND'));
    expect(await grpcProbe('127.0.0.1', port, 'a', opts)).toEqual({ result: 'failure', output: 'service unhealthy (responded with "NOT_SERVING")' });
    expect(await grpcProbe('127.0.0.1', port, 'b', opts)).toEqual({ result: 'failure', output: 'service unhealthy (responded with "UNKNOWN")' });
    const notFound = await grpcProbe('127.0.0.1', port, 'c', opts);
    expect(notFound).toEqual({ result: 'failure', output: 'error: health rpc probe failed: rpc error: code = NotFound desc = unknown service' });
  });

  it('fails when the server does not implement grpc.health.v1', async () => {
    const { port } = await healthServer(() => 'SERVING', false);
    const run = await grpcProbe('127.0.0.1', port, '', opts);
    expect(run.result).toBe('failure');
    expect(run.output).toMatch(/^this server does not implement the grpc health protocol/);
  });

  it('keeps trying to connect until timeoutSeconds on the injected clock, then fails', async () => {
    const clock = new VirtualClock();
    const { port } = await healthServer(() => 'SERVING');
    servers.splice(0).forEach((s) => s.forceShutdown());
    let settled = false;
    const pending = grpcProbe('127.0.0.1', port, '', { timeoutMs: 1000, clock, userAgent: 'kube-probe/1.34' });
    void pending.then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 100));
    expect(settled).toBe(false);
    await clock.advance(1000);
    const run = await pending;
    expect(run).toEqual({ result: 'failure', output: `timeout: failed to connect service "127.0.0.1:${port}" within 1s: context deadline exceeded` });
  });
});
