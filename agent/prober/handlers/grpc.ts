import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { isIP } from 'node:net';
import type { Clock } from '../../clock/clock.js';
import { formatGoDuration } from '../../config/duration.js';
import { PROTO_LOADER_OPTIONS } from '../../runtime/proto.js';
import { packagePath } from '../../util/package-root.js';
import type { ProbeRun } from './types.js';

/** proto/grpc/health/v1/health.proto, the one service the gRPC probe speaks. */
export const HEALTH_PROTO_PATH = packagePath('proto', 'grpc', 'health', 'v1', 'health.proto');

export type ServingStatus = 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

interface HealthClient extends grpc.Client {
  Check(
    request: { service: string },
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: (err: grpc.ServiceError | null, response?: { status: ServingStatus }) => void,
  ): grpc.ClientUnaryCall;
}

export interface HealthPackage {
  readonly Health: grpc.ServiceClientConstructor;
}

let loaded: HealthPackage | undefined;

/** Loads grpc.health.v1 with the project's loader options (status as its enum name). */
export function loadHealthProto(): HealthPackage {
  if (loaded) return loaded;
  const definition = protoLoader.loadSync(HEALTH_PROTO_PATH, { ...PROTO_LOADER_OPTIONS });
  const root = grpc.loadPackageDefinition(definition) as unknown as { grpc: { health: { v1: HealthPackage } } };
  loaded = root.grpc.health.v1;
  return loaded;
}

/**
 * The grpc probe (upstream pkg/probe/grpc): plaintext, user agent `kube-probe/x.y`, wait for the
 * connection and call grpc.health.v1.Health/Check for `service` within the timeout. SERVING succeeds;
 * any other status, UNIMPLEMENTED, a refused connection or the timeout fails.
 */
export function grpcProbe(
  host: string,
  port: number,
  service: string,
  options: { timeoutMs: number; clock: Clock; userAgent: string },
): Promise<ProbeRun> {
  const address = isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
  const timeout = formatGoDuration(options.timeoutMs);
  const { Health } = loadHealthProto();
  const client = new Health(address, grpc.credentials.createInsecure(), {
    'grpc.primary_user_agent': options.userAgent,
    // One attempt per probe: no transparent retries or reconnect backoff state carried across probes.
    'grpc.enable_retries': 0,
  }) as unknown as HealthClient;
  return new Promise((resolve) => {
    let done = false;
    let timedOut = false;
    const settle = (run: ProbeRun): void => {
      if (done) return;
      done = true;
      timer.cancel();
      client.close();
      resolve(run);
    };
    const connected = (): boolean => client.getChannel().getConnectivityState(false) === grpc.connectivityState.READY;
    // waitForReady is the WithBlock dial: keep trying to connect until the deadline (on the Clock).
    const call = client.Check({ service }, new grpc.Metadata({ waitForReady: true }), {}, (err, response) => {
      if (timedOut) return;
      if (err) {
        if (err.code === grpc.status.UNIMPLEMENTED) {
          settle({ result: 'failure', output: `this server does not implement the grpc health protocol (grpc.health.v1.Health): ${err.details}` });
        } else {
          settle({ result: 'failure', output: `error: health rpc probe failed: rpc error: code = ${codeName(err.code)} desc = ${err.details}` });
        }
        return;
      }
      const status = response?.status ?? 'UNKNOWN';
      if (status !== 'SERVING') settle({ result: 'failure', output: `service unhealthy (responded with ${JSON.stringify(status)})` });
      else settle({ result: 'success', output: 'service is serving' });
    });
    const timer = options.clock.setTimeout(() => {
      timedOut = true;
      const output = connected()
        ? `timeout: health rpc did not complete within ${timeout}`
        : `timeout: failed to connect service ${JSON.stringify(address)} within ${timeout}: context deadline exceeded`;
      call.cancel();
      settle({ result: 'failure', output });
    }, options.timeoutMs);
  });
}

function codeName(code: number): string {
  const name = grpc.status[code];
  if (typeof name !== 'string') return `Code(${code})`;
  return name
    .toLowerCase()
    .split('_')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
}

