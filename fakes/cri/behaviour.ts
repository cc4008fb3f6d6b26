import { posix } from 'node:path';
import { invalidArgument } from './errors.js';
import { constant, parseBytes, parseDuration, parseHttpSchedules, parseSchedule, type Schedule } from './schedule.js';
import { isKnownCommand } from './shell/interpreter.js';
import type { ContainerConfig, PodSandboxConfig } from './types.js';

export type PortKind = 'http' | 'tcp' | 'grpc';
export type GrpcServingStatus = 'SERVING' | 'NOT_SERVING' | 'UNKNOWN' | 'SERVICE_UNKNOWN';

export interface ServedPort {
  readonly port: number;
  readonly kind: PortKind;
}

/**
 * How a fake container behaves, decided at CreateContainer from its image, command, args, env and the
 * annotations a kubelet adds, so that ordinary pod specs work unchanged (see fakes/cri/README.md).
 */
export interface ContainerBehaviour {
  /**
   * 'shell': argv is interpreted by the shell model (sh -c, sleep, cat, httpd, ...), as on a busybox image.
   * 'server': a long-running program the model does not know (an app image's entrypoint): runs until
   *   stopped, serves its declared ports, exits with termExitCode on SIGTERM.
   */
  readonly kind: 'shell' | 'server';
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** FAKE_EXIT_CODE / FAKE_EXIT_AFTER / FAKE_CRASH_LOOP: exit by itself after a delay. */
  readonly exit: { readonly code: number; readonly afterMs: number } | null;
  /** FAKE_OOM_AFTER: killed by the OOM killer (exit 137, reason OOMKilled) after a delay. */
  readonly oomAfterMs: number | null;
  readonly ignoreSigterm: boolean;
  readonly termExitCode: number;
  readonly ports: readonly ServedPort[];
  readonly http: ReadonlyMap<string, Schedule<number>>;
  readonly tcp: Schedule<'accept' | 'refuse'>;
  readonly grpcHealth: Schedule<GrpcServingStatus>;
  readonly memoryBytes: Schedule<number>;
  readonly diskBytes: Schedule<number>;
  readonly cpuNanoCores: number;
}

/** The annotation a kubelet puts on every container with its declared ports (JSON). */
export const CONTAINER_PORTS_ANNOTATION = 'io.kubernetes.container.ports';

/** Images whose default command (no command and no args in the pod spec) is a shell with no input. */
function imageDefaultArgv(image: string): string[] | null {
  const name = posix.basename(image.split('@')[0]!.replace(/:[^/]*$/, ''));
  if (name === 'busybox' || name === 'alpine' || name === 'debian' || name === 'ubuntu') return ['sh'];
  return null;
}

export function envMap(config: Pick<ContainerConfig, 'envs'>): Record<string, string> {
  const env: Record<string, string> = {};
  // KeyValue.value is a string upstream; accept bytes as well, decoded as UTF-8.
  for (const kv of config.envs ?? []) if (kv && typeof kv.key === 'string') env[kv.key] = textOf(kv.value as unknown);
  return env;
}

function textOf(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  return String(value);
}

const int = (min: number, max: number) => (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`"${v}" is not an integer in [${min}, ${max}]`);
  return n;
};
const bool = (v: string): boolean => {
  if (/^(1|true|yes)$/i.test(v)) return true;
  if (/^(0|false|no)$/i.test(v)) return false;
  throw new Error(`"${v}" is not a boolean (true/false)`);
};
const exitCodeOf = int(0, 255);
const portOf = int(1, 65535);
const nanoCoresOf = int(0, 1_000_000_000_000);
const portList = (v: string): number[] => v.split(',').map((p) => portOf(p.trim()));
const grpcStatus = (v: string): GrpcServingStatus => {
  const s = v.toUpperCase();
  if (s === 'SERVING' || s === 'NOT_SERVING' || s === 'UNKNOWN' || s === 'SERVICE_UNKNOWN') return s;
  throw new Error(`"${v}" is not a gRPC health status (SERVING, NOT_SERVING, UNKNOWN, SERVICE_UNKNOWN)`);
};
const tcpMode = (v: string): 'accept' | 'refuse' => {
  if (v === 'accept' || v === 'refuse') return v;
  throw new Error(`"${v}" is not accept or refuse`);
};
const durationOf = (name: string) => (v: string): number => parseDuration(v, name);
const KNOB_PARSERS = {
  FAKE_EXIT_CODE: exitCodeOf,
  FAKE_EXIT_AFTER: durationOf('FAKE_EXIT_AFTER'),
  FAKE_CRASH_LOOP: durationOf('FAKE_CRASH_LOOP'),
  FAKE_HTTP_PORTS: portList,
  FAKE_TCP_PORTS: portList,
  FAKE_GRPC_PORTS: portList,
  FAKE_OOM_AFTER: durationOf('FAKE_OOM_AFTER'),
  FAKE_IGNORE_SIGTERM: bool,
  FAKE_TERM_EXIT_CODE: exitCodeOf,
  FAKE_HTTP_SCHEDULE: (v: string) => parseHttpSchedules(v),
  FAKE_TCP: (v: string) => parseSchedule(v, tcpMode, 'FAKE_TCP'),
  FAKE_GRPC_HEALTH: (v: string) => parseSchedule(v, grpcStatus, 'FAKE_GRPC_HEALTH'),
  FAKE_MEMORY_SCHEDULE: (v: string) => parseSchedule(v, (b) => parseBytes(b), 'FAKE_MEMORY_SCHEDULE'),
  FAKE_DISK_SCHEDULE: (v: string) => parseSchedule(v, (b) => parseBytes(b), 'FAKE_DISK_SCHEDULE'),
  FAKE_CPU_NANOCORES: nanoCoresOf,
};
type Knob = keyof typeof KNOB_PARSERS;

/** The schedules of a container without knobs (schedules are read, never changed, so all share them). */
const DEFAULTS = {
  http: new Map<string, Schedule<number>>() as ReadonlyMap<string, Schedule<number>>,
  tcp: constant<'accept' | 'refuse'>('accept'),
  grpcHealth: constant<GrpcServingStatus>('SERVING'),
  serverMemory: constant(8 * 2 ** 20),
  shellMemory: constant(512 * 2 ** 10),
  disk: constant(0),
};

export function decideBehaviour(config: ContainerConfig, sandbox: PodSandboxConfig | null): ContainerBehaviour {
  const env = envMap(config);
  // Most containers set no FAKE_* knob: then every knob is unset without looking each one up.
  let knobs = false;
  for (const key in env) {
    if (key.startsWith('FAKE_')) {
      knobs = true;
      break;
    }
  }
  const knob = <K extends Knob>(name: K): ReturnType<(typeof KNOB_PARSERS)[K]> | null => {
    if (!knobs) return null;
    const v = env[name];
    if (v === undefined || v === '') return null;
    try {
      return KNOB_PARSERS[name](v) as ReturnType<(typeof KNOB_PARSERS)[K]>;
    } catch (err) {
      throw invalidArgument(`config.envs ${name}: ${(err as Error).message.replace(new RegExp(`^${name}: `), '')}`);
    }
  };

  const command = [...(config.command ?? []), ...(config.args ?? [])];
  const argv = command.length > 0 ? command : (imageDefaultArgv(config.image?.image ?? '') ?? []);
  const kind: ContainerBehaviour['kind'] = argv.length > 0 && isKnownCommand(argv[0]!) ? 'shell' : 'server';

  const exitCode = knob('FAKE_EXIT_CODE');
  const exitAfter = knob('FAKE_EXIT_AFTER');
  const crashLoop = knob('FAKE_CRASH_LOOP');
  let exit: ContainerBehaviour['exit'] = null;
  if (crashLoop !== null) exit = { code: exitCode ?? 1, afterMs: crashLoop };
  else if (exitCode !== null || exitAfter !== null) exit = { code: exitCode ?? 0, afterMs: exitAfter ?? 0 };

  // Declared ports are served only by programs the model does not interpret (an app's entrypoint);
  // a shell command serves nothing unless it runs httpd/nc or a FAKE_*_PORTS knob says so, as on a runtime.
  const ports = new Map<number, PortKind>();
  const annotated = config.annotations?.[CONTAINER_PORTS_ANNOTATION];
  if (annotated && kind === 'server') {
    try {
      const parsed = JSON.parse(annotated) as { name?: string; containerPort?: number; protocol?: string }[];
      for (const p of Array.isArray(parsed) ? parsed : []) {
        if (typeof p?.containerPort !== 'number' || (p.protocol ?? 'TCP') !== 'TCP') continue;
        ports.set(p.containerPort, /^grpc/i.test(p.name ?? '') ? 'grpc' : 'http');
      }
    } catch {
      throw invalidArgument(`config.annotations ${CONTAINER_PORTS_ANNOTATION}: not a JSON list of ports`);
    }
  }
  for (const p of knob('FAKE_HTTP_PORTS') ?? []) ports.set(p, 'http');
  for (const p of knob('FAKE_TCP_PORTS') ?? []) ports.set(p, 'tcp');
  for (const p of knob('FAKE_GRPC_PORTS') ?? []) ports.set(p, 'grpc');
  if (ports.size === 0 && kind === 'server') {
    for (const m of sandbox?.portMappings ?? []) {
      const tcp = m.protocol === undefined || m.protocol === 'TCP';
      if (tcp && Number.isInteger(m.containerPort) && m.containerPort > 0 && m.containerPort < 65536) ports.set(m.containerPort, 'http');
    }
  }

  return {
    kind,
    argv,
    env,
    exit,
    oomAfterMs: knob('FAKE_OOM_AFTER'),
    ignoreSigterm: knob('FAKE_IGNORE_SIGTERM') ?? false,
    termExitCode: knob('FAKE_TERM_EXIT_CODE') ?? 0,
    ports: [...ports].map(([port, k]) => ({ port, kind: k })),
    http: knob('FAKE_HTTP_SCHEDULE') ?? DEFAULTS.http,
    tcp: knob('FAKE_TCP') ?? DEFAULTS.tcp,
    grpcHealth: knob('FAKE_GRPC_HEALTH') ?? DEFAULTS.grpcHealth,
    memoryBytes: knob('FAKE_MEMORY_SCHEDULE') ?? (kind === 'server' ? DEFAULTS.serverMemory : DEFAULTS.shellMemory),
    diskBytes: knob('FAKE_DISK_SCHEDULE') ?? DEFAULTS.disk,
    cpuNanoCores: knob('FAKE_CPU_NANOCORES') ?? (kind === 'server' ? 2_000_000 : 100_000),
  };
}

/** The HTTP status a server-kind container answers on `path` after running for `elapsedMs`. */
export function httpScheduleFor(behaviour: ContainerBehaviour, path: string): Schedule<number> {
  const bare = path.split('?')[0] ?? path;
  return behaviour.http.get(bare) ?? behaviour.http.get('*') ?? constant(200);
}
