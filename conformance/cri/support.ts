/**
 * Building blocks shared by the CRI specs: sandboxes and containers that clean themselves up, image
 * presence, polling on the target's clock, and the CRI log line format.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CriError, type RpcErrorKind } from '../../agent/runtime/rpc-error.js';
import type { ContainerConfig } from '../../proto/generated/cri/runtime/v1/ContainerConfig.js';
import type { ContainerStatus__Output } from '../../proto/generated/cri/runtime/v1/ContainerStatus.js';
import type { PodSandboxConfig } from '../../proto/generated/cri/runtime/v1/PodSandboxConfig.js';
import type { SpecContext } from '../framework/spec.js';

export const SPEC_NAMESPACE = 'kh-conformance';

/** What the kubelet sends for a pod without hostNetwork/hostPID/hostIPC or shareProcessNamespace. */
const KUBELET_NAMESPACES = { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } as const;

/** Runs `call`, treating a NotFound answer as success (for idempotent cleanup). */
export async function ignoreNotFound(call: Promise<unknown>): Promise<void> {
  try {
    await call;
  } catch (err) {
    if (!CriError.is(err, 'NotFound')) throw err;
  }
}

/** Asserts that `call` fails with a CriError of `kind`, and returns the error. */
export async function expectCriError(call: Promise<unknown>, kind: RpcErrorKind): Promise<CriError> {
  let failure: unknown;
  try {
    await call;
  } catch (err) {
    failure = err;
  }
  assert.ok(failure !== undefined, `expected the call to fail with ${kind}, but it succeeded`);
  assert.ok(failure instanceof CriError, `expected a CriError, got ${String(failure)}`);
  assert.equal(failure.kind, kind, `expected ${kind}, got: ${failure.message}`);
  return failure;
}

/** Makes sure the image is present; returns its image id (the runtime's image reference). */
export async function ensureImage(ctx: SpecContext, ref: string): Promise<string> {
  const { image } = await ctx.cri.imageStatus({ image: { image: ref } });
  if (image) return image.id;
  const { imageRef } = await ctx.cri.pullImage({ image: { image: ref } });
  return imageRef;
}

/**
 * The fully qualified form of an image reference, as runtimes report repo tags: `busybox` becomes
 * `docker.io/library/busybox:latest`, a reference without tag or digest gets `:latest`.
 */
export function normalizeImageRef(ref: string): string {
  let name = ref;
  const slash = name.indexOf('/');
  const first = slash === -1 ? '' : name.slice(0, slash);
  if (slash === -1) name = `docker.io/library/${name}`;
  else if (!first.includes('.') && !first.includes(':') && first !== 'localhost') name = `docker.io/${name}`;
  const lastSegment = name.slice(name.lastIndexOf('/') + 1);
  if (!lastSegment.includes(':') && !name.includes('@')) name = `${name}:latest`;
  return name;
}

/** Polls `probe` on the target's clock until it returns a value other than undefined. */
export async function eventually<T>(
  ctx: SpecContext,
  what: string,
  probe: () => Promise<T | undefined>,
  { timeoutMs = 30_000, intervalMs = 100 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const clock = ctx.target.clock;
  const deadline = clock.monotonic() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (clock.monotonic() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await clock.sleep(intervalMs, ctx.signal);
  }
}

export interface SandboxHandle {
  readonly id: string;
  readonly config: PodSandboxConfig & { metadata: { name: string; uid: string; namespace: string; attempt: number } };
  readonly logDirectory: string;
}

export interface SandboxOptions {
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
}

/**
 * Runs a pod sandbox the way the kubelet does (log directory created first), and registers its
 * stop + removal as a cleanup.
 */
export async function runSandbox(ctx: SpecContext, options: SandboxOptions = {}): Promise<SandboxHandle> {
  const name = ctx.uniqueName('pod');
  const uid = randomUUID();
  const logDirectory = join(ctx.tmpDir, 'pods', `${SPEC_NAMESPACE}_${name}_${uid}`);
  await mkdir(logDirectory, { recursive: true });
  const config = {
    metadata: { name, uid, namespace: SPEC_NAMESPACE, attempt: 0 },
    hostname: name,
    logDirectory,
    labels: { 'kubelet-harness/spec': 'cri', ...options.labels },
    annotations: { ...options.annotations },
    linux: { securityContext: { namespaceOptions: KUBELET_NAMESPACES } },
  };
  const { podSandboxId } = await ctx.cri.runPodSandbox({ config });
  assert.ok(podSandboxId, 'RunPodSandbox returned an empty pod sandbox id');
  ctx.onCleanup(() => removeSandbox(ctx, podSandboxId));
  return { id: podSandboxId, config, logDirectory };
}

export async function removeSandbox(ctx: SpecContext, id: string): Promise<void> {
  await ignoreNotFound(ctx.cri.stopPodSandbox({ podSandboxId: id }));
  await ctx.cri.removePodSandbox({ podSandboxId: id });
}

export interface ContainerOptions {
  readonly name?: string;
  readonly command: readonly string[];
  readonly args?: readonly string[];
  readonly image?: string;
  readonly labels?: Record<string, string>;
  /** The pod spec's `stdin` / `stdinOnce` (kubectl run -i): the main program reads an attached client's input. */
  readonly stdin?: boolean;
  readonly stdinOnce?: boolean;
}

export interface ContainerHandle {
  readonly id: string;
  readonly name: string;
  /** Absolute path of the container's log file. */
  readonly logFile: string;
  readonly config: ContainerConfig;
}

/** Creates a container in the sandbox (not started); its removal is registered as a cleanup. */
export async function createContainer(ctx: SpecContext, sandbox: SandboxHandle, options: ContainerOptions): Promise<ContainerHandle> {
  const image = options.image ?? ctx.target.images.busybox;
  await ensureImage(ctx, image);
  const name = options.name ?? ctx.uniqueName('ctr');
  // The kubelet's layout: <pod log dir>/<container name>/<restart count>.log, directory made beforehand.
  const logPath = join(name, '0.log');
  await mkdir(join(sandbox.logDirectory, name), { recursive: true });
  const config: ContainerConfig = {
    metadata: { name, attempt: 0 },
    image: { image },
    command: [...options.command],
    args: [...(options.args ?? [])],
    logPath,
    labels: { ...options.labels },
    linux: { securityContext: { namespaceOptions: KUBELET_NAMESPACES } },
    ...(options.stdin ? { stdin: true, stdinOnce: options.stdinOnce ?? false } : {}),
  };
  const { containerId } = await ctx.cri.createContainer({ podSandboxId: sandbox.id, config, sandboxConfig: sandbox.config });
  assert.ok(containerId, 'CreateContainer returned an empty container id');
  ctx.onCleanup(() => ctx.cri.removeContainer({ containerId }));
  return { id: containerId, name, logFile: join(sandbox.logDirectory, logPath), config };
}

/** Creates and starts a container (StartContainer returns once the process is running). */
export async function startContainer(ctx: SpecContext, sandbox: SandboxHandle, options: ContainerOptions): Promise<ContainerHandle> {
  const container = await createContainer(ctx, sandbox, options);
  await ctx.cri.startContainer({ containerId: container.id });
  return container;
}

export async function containerStatus(ctx: SpecContext, id: string): Promise<ContainerStatus__Output> {
  const { status } = await ctx.cri.containerStatus({ containerId: id });
  assert.ok(status, `ContainerStatus(${id}) returned no status`);
  return status;
}

/** Waits for the container to reach `state` and returns its status then. */
export function waitForContainerState(
  ctx: SpecContext,
  id: string,
  state: ContainerStatus__Output['state'],
  timeoutMs = 30_000,
): Promise<ContainerStatus__Output> {
  return eventually(
    ctx,
    `container ${id} to be ${state}`,
    async () => {
      const status = await containerStatus(ctx, id);
      return status.state === state ? status : undefined;
    },
    { timeoutMs },
  );
}

/** One line of a CRI container log: `<RFC3339Nano timestamp> <stdout|stderr> <F|P> <message>`. */
export interface CriLogLine {
  readonly timestamp: string;
  readonly timeMs: number;
  readonly stream: 'stdout' | 'stderr';
  readonly tag: 'F' | 'P';
  readonly message: string;
}

const LOG_LINE = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})) (stdout|stderr) ([FP]) (.*)$/;

/** Parses a CRI log file's text; throws naming the first line that is not in the format. */
export function parseCriLog(text: string): CriLogLine[] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.map((line, index) => {
    const match = LOG_LINE.exec(line);
    assert.ok(match, `log line ${index + 1} is not in the CRI log format: ${JSON.stringify(line)}`);
    const [, timestamp = '', stream, tag, message = ''] = match;
    const timeMs = Date.parse(timestamp);
    assert.ok(Number.isFinite(timeMs), `log line ${index + 1} has an unparseable timestamp ${timestamp}`);
    return { timestamp, timeMs, stream: stream as 'stdout' | 'stderr', tag: tag as 'F' | 'P', message };
  });
}

/** Nanoseconds-since-epoch string (as the loader delivers int64) as a bigint. */
export function nanos(value: string): bigint {
  return BigInt(value || '0');
}

export const NANOS_PER_MS = 1_000_000n;
