import * as grpc from '@grpc/grpc-js';
import * as http from 'node:http';
import * as net from 'node:net';
import type { Journal } from '../journal/journal.js';
import type { GrpcServingStatus } from './behaviour.js';

/**
 * Pod IPs on loopback: every sandbox gets its own 127.x.y.z address from a CIDR inside 127.0.0.0/8
 * (default: a random /20 inside 127.64.0.0/10). Linux routes all of 127/8 to lo, so listeners bound there are reachable
 * by real HTTP/TCP/gRPC probes without any network set-up or privileges.
 */
export class PodIpAllocator {
  private readonly first: number;
  private readonly last: number;
  private next: number;
  private readonly used = new Set<number>();

  /** The CIDR this allocator hands out, and its prefix length. */
  readonly cidr: string;
  readonly prefix: number;

  constructor(cidr: string = randomLoopbackCidr()) {
    this.cidr = cidr;
    const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr);
    const octets = m ? m.slice(1, 5).map(Number) : [];
    const bits = m ? Number(m[5]) : NaN;
    if (!m || octets.some((o) => o > 255) || octets[0] !== 127 || bits < 8 || bits > 30) {
      throw new Error(`podCidr: "${cidr}" must be an IPv4 CIDR inside 127.0.0.0/8 with a prefix of /8 to /30`);
    }
    this.prefix = bits;
    const base = ((octets[0]! << 24) | (octets[1]! << 16) | (octets[2]! << 8) | octets[3]!) >>> 0;
    const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
    this.first = ((base & mask) >>> 0) + 2; // skip the network address and .1 (the "gateway")
    this.last = (((base & mask) | (~mask >>> 0)) >>> 0) - 1;
    this.next = this.first;
  }

  allocate(): string {
    const size = this.last - this.first + 1;
    for (let i = 0; i < size; i++) {
      const candidate = this.first + ((this.next - this.first + i) % size);
      if (!this.used.has(candidate)) {
        this.used.add(candidate);
        this.next = candidate + 1 > this.last ? this.first : candidate + 1;
        return toIp(candidate);
      }
    }
    throw new Error('pod IP range exhausted');
  }

  release(ip: string): void {
    const n = ipv4ToInt(ip);
    if (n !== null) this.used.delete(n);
  }
}

/**
 * A /20 inside 127.64.0.0/10 chosen at random, so fakes started side by side (parallel test files,
 * several harnesses on one machine) do not hand out the same pod IPs and answer each other's probes.
 */
export function randomLoopbackCidr(): string {
  const block = Math.floor(Math.random() * (191 * 16));
  const second = 64 + Math.floor(block / 16);
  const third = (block % 16) * 16;
  return `127.${second}.${third}.0/20`;
}

/**
 * A dotted-quad address as a 32-bit number, or null when it is not one; read digit by digit (this runs
 * for every removed sandbox, and splitting the text was a measurable share of RemovePodSandbox).
 */
export function ipv4ToInt(ip: string): number | null {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < ip.length; i++) {
    const c = ip.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return null;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      octet = octet * 10 + (c - 48);
      digits++;
      if (octet > 255) return null;
    } else {
      return null;
    }
  }
  if (digits === 0 || dots !== 3) return null;
  return value * 256 + octet;
}

function toIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export interface Listener {
  readonly port: number;
  close(): void;
}

export interface HttpResponse {
  readonly status: number;
  readonly body: string;
}

/**
 * The listeners of one pod's network namespace, bound on its pod IP. Every request or connection
 * received is journaled as a ProbeRequestReceived event (protocol http/tcp/grpc), so specs can assert
 * when probes reached a container.
 */
export class PodNetwork {
  private readonly listeners = new Map<number, { owner: string; listener: Listener }>();

  constructor(
    readonly ip: string,
    readonly podSandboxId: string,
    private readonly journal: Journal,
  ) {}

  ports(): number[] {
    return [...this.listeners.keys()].sort((a, b) => a - b);
  }

  ownerOf(port: number): string | undefined {
    return this.listeners.get(port)?.owner;
  }

  async listenHttp(port: number, containerId: string, handler: (path: string, req: http.IncomingMessage) => HttpResponse): Promise<Listener> {
    const server = http.createServer((req, res) => {
      const path = req.url ?? '/';
      let response: HttpResponse;
      try {
        response = handler(path, req);
      } catch (err) {
        response = { status: 500, body: `${(err as Error).message}\n` };
      }
      this.record(containerId, { protocol: 'http', port, method: req.method, path, userAgent: req.headers['user-agent'] ?? '', status: response.status });
      res.writeHead(response.status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(response.body) });
      res.end(response.body);
    });
    server.keepAliveTimeout = 1_000;
    await listen(server, port, this.ip);
    return this.register(port, containerId, {
      port,
      close: () => {
        server.closeAllConnections();
        server.close();
      },
    });
  }

  async listenTcp(port: number, containerId: string): Promise<Listener> {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      sockets.add(socket);
      this.record(containerId, { protocol: 'tcp', port, remote: `${socket.remoteAddress}:${socket.remotePort}` });
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
      socket.resume();
    });
    await listen(server, port, this.ip);
    return this.register(port, containerId, {
      port,
      close: () => {
        for (const s of sockets) s.destroy();
        server.close();
      },
    });
  }

  async listenGrpcHealth(port: number, containerId: string, status: (service: string) => GrpcServingStatus): Promise<Listener> {
    const server = new grpc.Server();
    server.addService(HEALTH_SERVICE, {
      Check: (call: grpc.ServerUnaryCall<{ service: string }, number>, callback: grpc.sendUnaryData<number>) => {
        const service = call.request.service;
        const s = status(service);
        this.record(containerId, { protocol: 'grpc', port, service, status: s });
        if (s === 'SERVICE_UNKNOWN' && service !== '') {
          callback({ code: grpc.status.NOT_FOUND, details: 'unknown service' });
          return;
        }
        callback(null, SERVING_STATUS[s]);
      },
      Watch: (call: grpc.ServerWritableStream<{ service: string }, number>) => {
        call.write(SERVING_STATUS[status(call.request.service)]);
        call.end();
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.bindAsync(`${this.ip}:${port}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve()));
    });
    return this.register(port, containerId, { port, close: () => server.forceShutdown() });
  }

  /** Closes every listener a container opened (its process ended). */
  closeOwnedBy(containerId: string): void {
    for (const [port, entry] of this.listeners) {
      if (entry.owner === containerId) {
        entry.listener.close();
        this.listeners.delete(port);
      }
    }
  }

  closeAll(): void {
    for (const entry of this.listeners.values()) entry.listener.close();
    this.listeners.clear();
  }

  private register(port: number, owner: string, listener: Listener): Listener {
    this.listeners.set(port, { owner, listener });
    return {
      port,
      close: () => {
        if (this.listeners.get(port)?.listener === listener) this.listeners.delete(port);
        listener.close();
      },
    };
  }

  private record(containerId: string, request: Record<string, unknown>): void {
    this.journal.append({
      source: 'cri',
      kind: 'event',
      name: 'ProbeRequestReceived',
      subject: { podSandboxId: this.podSandboxId, containerId },
      request,
    });
  }
}

function listen(server: net.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

const SERVING_STATUS: Record<GrpcServingStatus, number> = { UNKNOWN: 0, SERVING: 1, NOT_SERVING: 2, SERVICE_UNKNOWN: 3 };

/**
 * grpc.health.v1.Health with hand-written protobuf coding: request field 1 (service, string), response
 * field 1 (status, enum). Requests decode to an object: grpc-js treats a falsy decoded message (the
 * empty service name) as no message at all.
 */
const HEALTH_SERVICE: grpc.ServiceDefinition = {
  Check: {
    path: '/grpc.health.v1.Health/Check',
    requestStream: false,
    responseStream: false,
    requestSerialize: encodeService,
    requestDeserialize: decodeService,
    responseSerialize: encodeStatus,
    responseDeserialize: decodeStatus,
  },
  Watch: {
    path: '/grpc.health.v1.Health/Watch',
    requestStream: false,
    responseStream: true,
    requestSerialize: encodeService,
    requestDeserialize: decodeService,
    responseSerialize: encodeStatus,
    responseDeserialize: decodeStatus,
  },
};

function encodeService(request: { service: string }): Buffer {
  const bytes = Buffer.from(request.service, 'utf8');
  return bytes.length === 0 ? Buffer.alloc(0) : Buffer.concat([Buffer.from([0x0a]), varint(bytes.length), bytes]);
}

function decodeService(buf: Buffer): { service: string } {
  return { service: decodeServiceName(buf) };
}

function decodeServiceName(buf: Buffer): string {
  let i = 0;
  while (i < buf.length) {
    const [tag, afterTag] = readVarint(buf, i);
    i = afterTag;
    const wire = tag & 7;
    if (wire === 2) {
      const [len, afterLen] = readVarint(buf, i);
      if (tag >>> 3 === 1) return buf.subarray(afterLen, afterLen + len).toString('utf8');
      i = afterLen + len;
    } else if (wire === 0) {
      i = readVarint(buf, i)[1];
    } else {
      break;
    }
  }
  return '';
}

function encodeStatus(status: number): Buffer {
  return status === 0 ? Buffer.alloc(0) : Buffer.from([0x08, status]);
}

function decodeStatus(buf: Buffer): number {
  return buf.length >= 2 && buf[0] === 0x08 ? buf[1]! : 0;
}

function varint(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return Buffer.from(out);
}

function readVarint(buf: Buffer, start: number): [number, number] {
  let result = 0;
  let shift = 0;
  let i = start;
  while (i < buf.length && shift < 35) {
    const b = buf[i++]!;
    result |= (b & 0x7f) << shift;
    if ((b & 0x80) === 0) break;
    shift += 7;
  }
  return [result >>> 0, i];
}
