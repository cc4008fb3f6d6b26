import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { RequestHandler } from 'msw';
import type { Clock } from '../../agent/clock/clock.js';
import { realClock } from '../../agent/clock/real-clock.js';
import { listenHttp } from '../../agent/util/listen-http.js';
import type { Journal } from '../journal/journal.js';
import { EventExpiry, DEFAULT_EVENT_TTL_MS } from './event-ttl.js';
import { FaultInjector, type FaultRule } from './faults.js';
import { createHandlers, type ActiveWatch } from './handlers.js';
import { servePodExecUpgrade } from './pod-exec.js';
import { createRequestListener } from './http-adapter.js';
import { renderKubeconfig, writeKubeconfig } from './kubeconfig.js';
import { ApiRegistry } from './registry.js';
import { resourceKey, type ResourceType } from './resources.js';
import { ObjectStore } from './store.js';
import { generateServerCertificates, type ServerCertificates } from './tls.js';

/**
 * Programmatic start of the mock API server: msw handlers on a real loopback HTTP(S) server, with
 * the store, the fault controls and a kubeconfig for clients.
 */
export const KUBE_APISERVER_MAX_BODY_BYTES = 3 * 1024 * 1024;

export interface MockApiServerOptions {
  /** Listen address; loopback unless asked otherwise. */
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  clock?: Clock;
  /** Serve HTTPS with a generated CA (or the given certificates). */
  tls?: boolean | ServerCertificates;
  /** Require `Authorization: Bearer <token>`; `true` generates a token. */
  token?: string | true;
  /** Write a kubeconfig for this server here (mode 0600). */
  kubeconfigPath?: string;
  /** Changes retained for watches to resume from; older resourceVersions get 410. */
  historyLimit?: number;
  /** Seed of the fault injector's RNG. */
  faultSeed?: number;
  journal?: Journal;
  bookmarkIntervalMs?: number;
  maxBodyBytes?: number;
  /** A watcher further behind than this is disconnected (it resumes from its last resourceVersion). */
  watchMaxPendingBytes?: number;
  /** Skip the built-in namespaces and system priority classes. */
  empty?: boolean;
  /** How long an Event lives after its last write (kube-apiserver's --event-ttl); default 1 h. */
  eventTtlMs?: number;
}

export interface WatchFaults {
  /** Ends matching watch streams cleanly (clients resume from their last resourceVersion). */
  closeWatches(resource?: string): number;
  /** Sends ERROR 410 Expired on matching watches and ends them (clients relist). */
  expireWatches(resource?: string): number;
  /** Cuts matching watch connections mid-stream. */
  dropWatches(resource?: string): number;
  /** Forgets the retained history: resuming from any earlier resourceVersion gets 410. */
  compactHistory(): void;
}

export interface MockApiServer {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly token?: string;
  readonly caPem?: string;
  readonly kubeconfigPath?: string;
  readonly store: ObjectStore;
  readonly registry: ApiRegistry;
  readonly handlers: RequestHandler[];
  readonly faults: FaultInjector & WatchFaults & { add(rule: FaultRule): () => void };
  /** Open watch streams right now. */
  watchCount(resource?: string): number;
  /** The kubeconfig YAML for this server. */
  kubeconfig(): string;
  /** Writes the kubeconfig to `path` (mode 0600). */
  writeKubeconfig(path: string): Promise<void>;
  close(): Promise<void>;
}

function matchesResource(w: ActiveWatch, resource: string | undefined): boolean {
  return resource === undefined || w.resource.plural === resource || resourceKey(w.resource) === resource;
}

export async function startMockApiServer(options: MockApiServerOptions = {}): Promise<MockApiServer> {
  const host = options.host ?? '127.0.0.1';
  const clock = options.clock ?? realClock;
  const store = new ObjectStore(options.historyLimit !== undefined ? { historyLimit: options.historyLimit } : {});
  const registry = new ApiRegistry(store, clock);
  if (!options.empty) registry.bootstrap();
  const eventType = registry.type('', 'events');
  const eventExpiry = new EventExpiry({
    store,
    clock,
    ttlMs: options.eventTtlMs ?? DEFAULT_EVENT_TTL_MS,
    remove: (namespace, name) => registry.delete(eventType, namespace, name),
  });
  const watches = new Set<ActiveWatch>();
  const injector = new FaultInjector(options.faultSeed ?? 1);
  const token = options.token === true ? randomBytes(24).toString('hex') : options.token;
  const certificates = options.tls === true ? await generateServerCertificates([host, 'localhost']) : options.tls || undefined;
  const scheme = certificates ? 'https' : 'http';
  let baseUrl = '';

  const handlers = createHandlers({
    registry,
    clock,
    faults: injector,
    watches,
    ...(token ? { token } : {}),
    ...(options.journal ? { journal: options.journal } : {}),
    bookmarkIntervalMs: options.bookmarkIntervalMs ?? 15_000,
    watchMaxPendingBytes: options.watchMaxPendingBytes ?? 16 * 1024 * 1024,
    serverAddress: () => baseUrl.replace(/^https?:\/\//, ''),
  });
  const listener = createRequestListener({
    baseUrl: () => baseUrl,
    handlers: () => handlers,
    maxBodyBytes: options.maxBodyBytes ?? KUBE_APISERVER_MAX_BODY_BYTES,
  });
  const server: Server = certificates
    ? createHttpsServer({ key: certificates.keyPem, cert: certificates.certPem }, listener)
    : createHttpServer(listener);
  server.keepAliveTimeout = 30_000;
  // Connection upgrades (kubectl exec's WebSocket) bypass the msw handlers: pods/exec proxies them to the kubelet.
  server.on('upgrade', (req, socket, head: Buffer) => servePodExecUpgrade({ registry, journal: options.journal, token }, req, socket, head));
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('secureConnection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const { port, url } = await listenHttp(server, options.port ?? 0, host, scheme);
  baseUrl = url;

  const select = (resource: string | undefined): ActiveWatch[] => [...watches].filter((w) => matchesResource(w, resource));
  const watchFaults: WatchFaults = {
    closeWatches: (resource) => {
      const chosen = select(resource);
      for (const w of chosen) w.session.close();
      return chosen.length;
    },
    expireWatches: (resource) => {
      const chosen = select(resource);
      for (const w of chosen) w.session.expire('too old resource version: forced expiry (injected fault)');
      return chosen.length;
    },
    dropWatches: (resource) => {
      const chosen = select(resource);
      for (const w of chosen) w.drop();
      return chosen.length;
    },
    compactHistory: () => store.compact(),
  };
  const faults = Object.assign(injector, watchFaults);

  const kubeconfigInput = (): Parameters<typeof renderKubeconfig>[0] => ({
    server: baseUrl,
    ...(certificates ? { caPem: certificates.caPem } : {}),
    ...(token ? { token } : {}),
  });
  if (options.kubeconfigPath) await writeKubeconfig(options.kubeconfigPath, kubeconfigInput());

  let closed: Promise<void> | undefined;
  const api: MockApiServer = {
    url: baseUrl,
    host,
    port,
    ...(token ? { token } : {}),
    ...(certificates ? { caPem: certificates.caPem } : {}),
    ...(options.kubeconfigPath ? { kubeconfigPath: options.kubeconfigPath } : {}),
    store,
    registry,
    handlers,
    faults,
    watchCount: (resource) => select(resource).length,
    kubeconfig: () => renderKubeconfig(kubeconfigInput()),
    writeKubeconfig: (path) => writeKubeconfig(path, kubeconfigInput()),
    close: () => {
      closed ??= new Promise<void>((resolve) => {
        eventExpiry.stop();
        for (const w of watches) w.session.detach();
        watches.clear();
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return closed;
    },
  };
  return api;
}

export type { ResourceType };
