import { join } from 'node:path';
import { createHash } from 'node:crypto';
import type { Clock } from '../../agent/clock/clock.js';
import type { Journal } from '../journal/journal.js';
import type * as W from './wire-types.js';
import { decideBehaviour, envMap, type ContainerBehaviour } from './behaviour.js';
import type { SandboxNetwork, SandboxNetworkSubject } from './cni-network.js';
import { CriLogWriter } from './cri-log.js';
import { IdGenerator } from './ids.js';
import { Code, CriError, invalidArgument, notFound, unknown } from './errors.js';
import { DEFAULT_PULL_RULES, ImageStore, type ImagePullRule, type StoredImage } from './image-store.js';
import { AmbiguousIdError, matchesLabels, resolveIdPrefix } from './labels.js';
import { PodIpAllocator, PodNetwork } from './network.js';
import { ContainerProcess, type ExitInfo } from './process.js';
import { valueAt } from './schedule.js';
import { ContainerFs } from './shell/fs.js';
import { CommandNotFound, MAX_TIMER_MS } from './shell/interpreter.js';
import { connect, type Socket } from 'node:net';
import type { AttachStreamRequest, ExecStreamRequest, ExecStreams, StreamingServer } from './streaming-server.js';
import type { ExecOutcome } from './streaming-protocol.js';
import { nowNs } from './time.js';
import type { ContainerConfig, ContainerStateName, LinuxContainerResources, PodSandboxConfig, SandboxStateName } from './types.js';

/**
 * The fake runtime's state model and the semantics of every CRI call, as containerd 1.6/1.7's CRI
 * plugin (pkg/cri/server) shows them to a kubelet: the same states, timestamps, reasons, idempotency
 * and gRPC codes. Where containerd wraps an error with no errdefs class the code is UNKNOWN, as there.
 * Network, processes and log files are real (loopback listeners, clock-driven scripts, files on disk);
 * all timing goes through the injected Clock.
 */
export interface FakeRuntimeOptions {
  readonly clock: Clock;
  readonly journal: Journal;
  /** Pod IPs come from here; must lie inside 127.0.0.0/8. Default: a random /20 inside 127.64.0.0/10. */
  readonly podCidr?: string;
  /** Pulled (and pinned) the first time a sandbox runs, as containerd's sandbox_image. */
  readonly sandboxImage?: string;
  readonly runtimeName?: string;
  readonly runtimeVersion?: string;
  /** Image pull rules checked before the defaults (which fail "does-not-exist" references with NotFound). */
  readonly imageRules?: readonly ImagePullRule[];
  /**
   * StopContainer/StopPodSandbox on an ID the runtime does not know: containerd up to 1.6.34 / 1.7.20
   * (and so the 1.6.20 of this project's CI) answers NOT_FOUND; later releases answer OK, as the CRI
   * contract asks. Default 'not-found', matching the containerd the suite runs against.
   */
  readonly stopMissing?: 'not-found' | 'ok';
  /** Reported by RuntimeConfig. */
  readonly cgroupDriver?: 'cgroupfs' | 'systemd';
  /** Seed of the deterministic ID generator. */
  readonly idSeed?: string;
  /**
   * Pod network set-up through CNI (fakes/cri/cni-network.ts) for sandboxes that are not host-network:
   * ADD inside RunPodSandbox, DEL inside StopPodSandbox. Without one, pods just get a loopback address.
   */
  readonly podNetwork?: SandboxNetwork;
}

type SandboxState = Extract<SandboxStateName, string>;
type ContainerState = Extract<ContainerStateName, string>;

interface Sandbox {
  readonly id: string;
  readonly name: string;
  readonly config: PodSandboxConfig;
  readonly runtimeHandler: string;
  readonly createdAt: bigint;
  readonly hostNetwork: boolean;
  readonly ip: string;
  state: SandboxState;
  network: PodNetwork;
  /**
   * Set once CNI ADD succeeded: every later stop runs DEL, as containerd 1.6 does (StopPodSandbox and again
   * the stop inside RemovePodSandbox); after the first successful DEL the netns is gone and DEL gets no path.
   */
  cni?: 'attached' | 'detached';
}

interface Container {
  readonly id: string;
  readonly name: string;
  readonly sandboxId: string;
  readonly config: ContainerConfig;
  readonly image: StoredImage;
  readonly logPath: string;
  readonly createdAt: bigint;
  readonly behaviour: ContainerBehaviour;
  readonly fs: ContainerFs;
  state: ContainerState;
  startedAt: bigint;
  finishedAt: bigint;
  exitCode: number;
  reason: string;
  message: string;
  resources: LinuxContainerResources | null;
  process: ContainerProcess | null;
  logs: CriLogWriter | null;
  /** StopContainer with a timeout sends the stop signal once; later stops only wait (containerd does the same). */
  stopSignalSent: boolean;
  /** CPU time accumulated by earlier runs is not kept: a CRI container runs at most once. */
  cpuMs: number;
}

export interface RuntimeCondition {
  type: string;
  status: boolean;
  reason: string;
  message: string;
}

const SNAPSHOTTER_ROOT = '/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs';

export class FakeRuntime {
  readonly images: ImageStore;
  private readonly sandboxes = new Map<string, Sandbox>();
  private readonly containers = new Map<string, Container>();
  /** containerd's name indexes: sandbox and container names are reserved until removal. */
  private readonly sandboxNames = new Map<string, string>();
  private readonly containerNames = new Map<string, string>();
  private readonly ips: PodIpAllocator;
  private readonly ids: IdGenerator;
  /** Last creation timestamp handed out; creation times strictly increase, as on a real runtime. */
  private lastCreatedNs = 0n;
  private podCidr = '';
  /** Scripted image filesystem usage (bytes), replacing the sum of image sizes; null = derived. */
  private imageFsUsedBytes: number | null = null;
  readonly conditions: RuntimeCondition[] = [
    { type: 'RuntimeReady', status: true, reason: '', message: '' },
    { type: 'NetworkReady', status: true, reason: '', message: '' },
  ];

  /**
   * Under a virtual clock many objects are created in one instant; the kubelet picks a container's latest
   * instance by creation time, so equal stamps would make that choice arbitrary.
   */
  private nextCreatedNs(): bigint {
    const now = nowNs(this.clock);
    this.lastCreatedNs = now > this.lastCreatedNs ? now : this.lastCreatedNs + 1n;
    return this.lastCreatedNs;
  }

  constructor(private readonly options: FakeRuntimeOptions) {
    this.images = new ImageStore([...(options.imageRules ?? []), ...DEFAULT_PULL_RULES]);
    this.ips = new PodIpAllocator(options.podCidr);
    this.ids = new IdGenerator(options.idSeed ?? 'fake-cri');
  }

  private get clock(): Clock {
    return this.options.clock;
  }

  private get journal(): Journal {
    return this.options.journal;
  }

  // ---- identification --------------------------------------------------------------------------

  private newId(kind: string): string {
    return this.ids.next(kind);
  }

  private findSandbox(id: string): Sandbox | undefined {
    try {
      const full = resolveIdPrefix(this.sandboxes.keys(), id, (k) => this.sandboxes.has(k));
      return full === undefined ? undefined : this.sandboxes.get(full);
    } catch (err) {
      if (err instanceof AmbiguousIdError) throw unknown(err.message);
      throw err;
    }
  }

  private findContainer(id: string): Container | undefined {
    try {
      const full = resolveIdPrefix(this.containers.keys(), id, (k) => this.containers.has(k));
      return full === undefined ? undefined : this.containers.get(full);
    } catch (err) {
      if (err instanceof AmbiguousIdError) throw unknown(err.message);
      throw err;
    }
  }

  private event(name: string, subject: Record<string, string>, detail?: unknown): void {
    this.journal.append(detail === undefined ? { source: 'cri', kind: 'event', name, subject } : { source: 'cri', kind: 'event', name, subject, response: detail });
  }

  // ---- runtime information ---------------------------------------------------------------------

  version(): W.VersionResponse {
    return {
      version: '0.1.0',
      runtimeName: this.options.runtimeName ?? 'fake-cri',
      runtimeVersion: this.options.runtimeVersion ?? '0.1.0',
      runtimeApiVersion: 'v1',
    };
  }

  status(req: W.StatusRequest__Output): W.StatusResponse {
    return {
      status: { conditions: this.conditions.map((c) => ({ ...c })) },
      info: req.verbose ? { config: JSON.stringify({ podCidr: this.podCidr, loopbackPodCidr: this.ips.cidr, sandboxImage: this.sandboxImage() }) } : {},
      runtimeHandlers: [{ name: '', features: { recursiveReadOnlyMounts: false, userNamespaces: false } }],
      features: { supplementalGroupsPolicy: false },
    };
  }

  setCondition(type: string, status: boolean, reason = '', message = ''): void {
    const existing = this.conditions.find((c) => c.type === type);
    if (existing) Object.assign(existing, { status, reason, message });
    else this.conditions.push({ type, status, reason, message });
  }

  runtimeConfig(): W.RuntimeConfigResponse {
    return { linux: { cgroupDriver: this.options.cgroupDriver === 'systemd' ? 'SYSTEMD' : 'CGROUPFS' } };
  }

  updateRuntimeConfig(req: W.UpdateRuntimeConfigRequest__Output): W.UpdateRuntimeConfigResponse {
    this.podCidr = req.runtimeConfig?.networkConfig?.podCidr ?? this.podCidr;
    return {};
  }

  private sandboxImage(): string {
    return this.options.sandboxImage ?? 'registry.k8s.io/pause:3.9';
  }

  // ---- pod sandboxes ---------------------------------------------------------------------------

  /**
   * RunPodSandbox without a pod network (synchronous). A runtime with a `podNetwork` serves
   * runPodSandboxAsync instead, which sets the network up before answering.
   */
  runPodSandbox(req: W.RunPodSandboxRequest__Output): W.RunPodSandboxResponse {
    const sandbox = this.admitSandbox(req);
    if (this.options.podNetwork && !sandbox.hostNetwork) {
      this.releaseAdmitted(sandbox);
      throw new Error('runPodSandbox: this runtime has a pod network to set up; call runPodSandboxAsync');
    }
    return this.commitSandbox(sandbox);
  }

  /** RunPodSandbox as containerd runs it: the sandbox exists only once its network is set up through CNI. */
  async runPodSandboxAsync(req: W.RunPodSandboxRequest__Output): Promise<W.RunPodSandboxResponse> {
    const sandbox = this.admitSandbox(req);
    const network = this.options.podNetwork;
    if (network && !sandbox.hostNetwork) {
      let ip: string;
      try {
        ip = await network.setUp(this.networkSubject(sandbox));
      } catch (err) {
        // containerd tears a failed set-up down again (CNI DEL) before it gives the sandbox up.
        await network.tearDown(this.networkSubject(sandbox)).catch(() => undefined);
        this.releaseAdmitted(sandbox);
        throw unknown(`failed to setup network for sandbox "${sandbox.id}": ${(err as Error).message}`);
      }
      if (ip !== sandbox.ip) {
        await network.tearDown(this.networkSubject(sandbox)).catch(() => undefined);
        this.releaseAdmitted(sandbox);
        throw unknown(`failed to setup network for sandbox "${sandbox.id}": CNI result IP ${ip} is not the allocated ${sandbox.ip}`);
      }
      sandbox.cni = 'attached';
    }
    return this.commitSandbox(sandbox);
  }

  private networkSubject(s: Sandbox): SandboxNetworkSubject {
    const md = s.config.metadata;
    return {
      sandboxId: s.id,
      podName: md?.name ?? '',
      podNamespace: md?.namespace ?? '',
      podUid: md?.uid ?? '',
      ip: s.ip,
      prefix: this.ips.prefix,
    };
  }

  /** Undoes admitSandbox for a sandbox that never became visible. */
  private releaseAdmitted(s: Sandbox): void {
    if (this.sandboxNames.get(s.name) === s.id) this.sandboxNames.delete(s.name);
    if (!s.hostNetwork) this.ips.release(s.ip);
  }

  /** Validates the request, reserves the name and the address; the sandbox is not listed yet. */
  private admitSandbox(req: W.RunPodSandboxRequest__Output): Sandbox {
    const config = req.config;
    if (!config) throw invalidArgument('config is required');
    const md = config.metadata;
    if (!md) throw invalidArgument('config.metadata is required');
    if (!md.name) throw invalidArgument('config.metadata.name is required');
    const name = [md.name, md.namespace, md.uid, String(md.attempt)].join('_');
    const id = this.newId('sandbox');
    const holder = this.sandboxNames.get(name);
    if (holder !== undefined) {
      throw unknown(`failed to reserve sandbox name "${name}": name "${name}" is reserved for "${holder}"`);
    }
    if (req.runtimeHandler && req.runtimeHandler !== 'runc') {
      throw notFound(`failed to get sandbox runtime: no runtime for "${req.runtimeHandler}" is configured`);
    }
    if (!this.images.resolve(this.sandboxImage())) this.images.pull(this.sandboxImage(), this.clock.monotonic(), { pinned: true });
    const hostNetwork = config.linux?.securityContext?.namespaceOptions?.network === 'NODE';
    const ip = hostNetwork ? '127.0.0.1' : this.ips.allocate();
    const sandbox: Sandbox = {
      id,
      name,
      config,
      runtimeHandler: req.runtimeHandler,
      createdAt: this.nextCreatedNs(),
      hostNetwork,
      ip,
      state: 'SANDBOX_READY',
      network: new PodNetwork(ip, id, this.journal),
    };
    this.sandboxNames.set(name, id);
    return sandbox;
  }

  private commitSandbox(sandbox: Sandbox): W.RunPodSandboxResponse {
    this.sandboxes.set(sandbox.id, sandbox);
    this.event('SandboxReady', { podSandboxId: sandbox.id, podUid: sandbox.config.metadata?.uid ?? '' }, { ip: sandbox.hostNetwork ? '' : sandbox.ip });
    return { podSandboxId: sandbox.id };
  }

  async stopPodSandbox(req: W.StopPodSandboxRequest__Output): Promise<W.StopPodSandboxResponse> {
    if (!req.podSandboxId) throw invalidArgument('pod_sandbox_id is required');
    const sandbox = this.findSandbox(req.podSandboxId);
    if (!sandbox) {
      if (this.options.stopMissing === 'ok') return {};
      throw notFound(`an error occurred when try to find sandbox "${req.podSandboxId}": not found`);
    }
    // containerd kills every container of the sandbox at once (stopContainer with timeout 0).
    await Promise.all([...this.containers.values()].filter((c) => c.sandboxId === sandbox.id).map((c) => this.stopContainerNow(c, 0)));
    const network = this.options.podNetwork;
    if (network && sandbox.cni) {
      // A failed DEL fails the stop and leaves the netns, so the next stop tears it down again.
      const netnsRemoved = sandbox.cni === 'detached';
      try {
        await network.tearDown(this.networkSubject(sandbox), { netnsRemoved });
      } catch (err) {
        throw unknown(`failed to destroy network for sandbox "${sandbox.id}": ${(err as Error).message}`);
      }
      sandbox.cni = 'detached';
    }
    if (sandbox.state === 'SANDBOX_READY') {
      sandbox.state = 'SANDBOX_NOTREADY';
      sandbox.network.closeAll();
      this.event('SandboxStopped', { podSandboxId: sandbox.id });
    }
    return {};
  }

  async removePodSandbox(req: W.RemovePodSandboxRequest__Output): Promise<W.RemovePodSandboxResponse> {
    if (!req.podSandboxId) throw invalidArgument('pod_sandbox_id is required');
    const sandbox = this.findSandbox(req.podSandboxId);
    if (!sandbox) return {};
    await this.stopPodSandbox({ podSandboxId: sandbox.id });
    for (const c of [...this.containers.values()]) {
      if (c.sandboxId === sandbox.id) await this.removeContainer({ containerId: c.id });
    }
    this.sandboxes.delete(sandbox.id);
    this.sandboxNames.delete(sandbox.name);
    if (!sandbox.hostNetwork) this.ips.release(sandbox.ip);
    this.event('SandboxRemoved', { podSandboxId: sandbox.id });
    return {};
  }

  podSandboxStatus(req: W.PodSandboxStatusRequest__Output): W.PodSandboxStatusResponse {
    if (!req.podSandboxId) throw invalidArgument('pod_sandbox_id is required');
    const sandbox = this.findSandbox(req.podSandboxId);
    if (!sandbox) throw notFound(`an error occurred when try to find sandbox: not found`);
    const ns = sandbox.config.linux?.securityContext?.namespaceOptions;
    return {
      status: {
        id: sandbox.id,
        metadata: sandbox.config.metadata,
        state: sandbox.state,
        createdAt: sandbox.createdAt.toString(),
        // containerd reports no IP for host-network sandboxes; the kubelet uses the node's.
        network: { ip: sandbox.hostNetwork ? '' : sandbox.ip, additionalIps: [] },
        linux: {
          namespaces: {
            options: { network: ns?.network ?? 'POD', pid: ns?.pid ?? 'POD', ipc: ns?.ipc ?? 'POD', targetId: ns?.targetId ?? '' },
          },
        },
        labels: sandbox.config.labels,
        annotations: sandbox.config.annotations,
        runtimeHandler: sandbox.runtimeHandler,
      },
      info: req.verbose
        ? { info: JSON.stringify({ pid: 1, processStatus: sandbox.state === 'SANDBOX_READY' ? 'running' : 'deleted', netNamespaceClosed: sandbox.state !== 'SANDBOX_READY', image: this.sandboxImage(), runtimeHandler: sandbox.runtimeHandler, config: sandbox.config }) }
        : {},
      containersStatuses: [],
      timestamp: nowNs(this.clock).toString(),
    };
  }

  listPodSandbox(req: W.ListPodSandboxRequest__Output): W.ListPodSandboxResponse {
    const f = req.filter;
    let wantedId = f?.id ?? '';
    if (wantedId) wantedId = this.findSandbox(wantedId)?.id ?? wantedId;
    const items = [...this.sandboxes.values()]
      .filter((s) => !wantedId || s.id === wantedId)
      .filter((s) => !f?.state || s.state === f.state.state)
      .filter((s) => matchesLabels(s.config.labels, f?.labelSelector))
      .map((s) => ({
        id: s.id,
        metadata: s.config.metadata,
        state: s.state,
        createdAt: s.createdAt.toString(),
        labels: s.config.labels,
        annotations: s.config.annotations,
        runtimeHandler: s.runtimeHandler,
      }));
    return { items };
  }

  // ---- containers ------------------------------------------------------------------------------

  createContainer(req: W.CreateContainerRequest__Output): W.CreateContainerResponse {
    if (!req.podSandboxId) throw invalidArgument('pod_sandbox_id is required');
    const config = req.config;
    if (!config) throw invalidArgument('config is required');
    if (!config.metadata) throw invalidArgument('config.metadata is required');
    if (!config.metadata.name) throw invalidArgument('config.metadata.name is required');
    if (!config.image?.image) throw invalidArgument('config.image.image is required');
    const sandbox = this.findSandbox(req.podSandboxId);
    if (!sandbox) throw notFound(`failed to find sandbox id "${req.podSandboxId}": not found`);
    if (sandbox.state !== 'SANDBOX_READY') {
      // containerd looks up the sandbox's task, which StopPodSandbox deleted.
      throw notFound(`failed to get sandbox container task: no running task found: task ${sandbox.id} not found: not found`);
    }
    const sandboxMd = req.sandboxConfig?.metadata ?? sandbox.config.metadata;
    const name = ['k8s', config.metadata.name, sandboxMd?.name ?? '', sandboxMd?.namespace ?? '', sandboxMd?.uid ?? '', String(config.metadata.attempt)].join('_');
    const holder = this.containerNames.get(name);
    if (holder !== undefined) {
      throw unknown(`failed to reserve container name "${name}": name "${name}" is reserved for "${holder}"`);
    }
    const image = this.images.resolve(config.image.image);
    if (!image) throw notFound(`failed to resolve image "${config.image.image}": not found`);
    const behaviour = decideBehaviour(config, req.sandboxConfig ?? sandbox.config);
    const id = this.newId('container');
    const pidTarget = this.pidTarget(id, sandbox.id, config.linux?.securityContext?.namespaceOptions);
    const logDir = req.sandboxConfig?.logDirectory || sandbox.config.logDirectory;
    const logPath = logDir && config.logPath ? join(logDir, config.logPath) : '';
    const hostname = sandbox.config.hostname || sandbox.config.metadata?.name || 'localhost';
    const fs = new ContainerFs({
      mounts: (config.mounts ?? [])
        .filter((m) => m.containerPath && m.hostPath)
        .map((m) => ({ containerPath: m.containerPath, hostPath: m.hostPath, readonly: m.readonly })),
      // Made when the file system is first used (everything they read is fixed by now).
      files: () => ({
        '/etc/hostname': `${hostname}\n`,
        '/etc/hosts': `127.0.0.1\tlocalhost\n${sandbox.hostNetwork ? '127.0.0.1' : sandbox.ip}\t${hostname}\n`,
        // PID 1 is the target's process when the container joins its PID namespace (kubectl debug --target).
        '/proc/1/cmdline': (pidTarget?.behaviour ?? behaviour).argv.map((a) => `${a}\0`).join(''),
        '/etc/resolv.conf': (sandbox.config.dnsConfig?.servers ?? []).map((s) => `nameserver ${s}\n`).join(''),
      }),
    });
    const container: Container = {
      id,
      name,
      sandboxId: sandbox.id,
      config,
      image,
      logPath,
      createdAt: this.nextCreatedNs(),
      behaviour,
      fs,
      state: 'CONTAINER_CREATED',
      startedAt: 0n,
      finishedAt: 0n,
      exitCode: 0,
      reason: '',
      message: '',
      resources: config.linux?.resources ?? null,
      process: null,
      logs: null,
      stopSignalSent: false,
      cpuMs: 0,
    };
    this.containerNames.set(name, id);
    this.containers.set(id, container);
    this.event('ContainerCreated', { podSandboxId: sandbox.id, containerId: id });
    return { containerId: id };
  }

  /** PID namespace mode TARGET: the target must be a running container of the same sandbox (as containerd checks). */
  private pidTarget(id: string, sandboxId: string, ns: { pid?: string; targetId?: string } | null | undefined): Container | undefined {
    if (ns?.pid !== 'TARGET') return undefined;
    const targetId = ns.targetId ?? '';
    const fail = (why: string): CriError => unknown(`failed to generate container "${id}" spec: invalid target container: ${why}`);
    const target = this.findContainer(targetId);
    if (!target) throw fail(`container "${targetId}" does not exist: not found`);
    if (target.sandboxId !== sandboxId) throw fail(`container "${targetId}" (sandbox ${target.sandboxId}) does not belong to sandbox ${sandboxId}`);
    if (target.state !== 'CONTAINER_RUNNING') throw fail(`container "${targetId}" is not running - in state ${target.state}`);
    return target;
  }

  startContainer(req: W.StartContainerRequest__Output): W.StartContainerResponse {
    if (!req.containerId) throw invalidArgument('container_id is required');
    const c = this.findContainer(req.containerId);
    if (!c) throw notFound(`an error occurred when try to find container "${req.containerId}": not found`);
    if (c.state !== 'CONTAINER_CREATED') {
      throw unknown(`failed to set starting state for container "${c.id}": container is in ${c.state} state`);
    }
    const sandbox = this.sandboxes.get(c.sandboxId);
    const fail = (message: string): CriError => {
      // containerd marks a container that failed to start as exited with 128 / StartError.
      c.state = 'CONTAINER_EXITED';
      c.finishedAt = nowNs(this.clock);
      c.exitCode = 128;
      c.reason = 'StartError';
      c.message = message;
      return unknown(message);
    };
    if (!sandbox) throw fail(`sandbox "${c.sandboxId}" not found: not found`);
    if (sandbox.state !== 'SANDBOX_READY') throw fail(`sandbox container "${sandbox.id}" is not running`);
    let logs: CriLogWriter | null = null;
    if (c.logPath) {
      logs = new CriLogWriter(c.logPath, this.clock);
      try {
        logs.open();
      } catch (err) {
        throw fail(`failed to create containerd task: failed to create container loggers: failed to create and open log file: ${(err as Error).message}`);
      }
    }
    c.logs = logs;
    c.state = 'CONTAINER_RUNNING';
    c.startedAt = nowNs(this.clock);
    const process = new ContainerProcess({
      containerId: c.id,
      podSandboxId: sandbox.id,
      behaviour: c.behaviour,
      clock: this.clock,
      journal: this.journal,
      fs: c.fs,
      network: sandbox.network,
      logs,
      hostname: sandbox.config.hostname || sandbox.config.metadata?.name || 'localhost',
      cwd: c.config.workingDir || '/',
      user: {
        uid: Number(c.config.linux?.securityContext?.runAsUser?.value ?? 0) || 0,
        gid: Number(c.config.linux?.securityContext?.runAsGroup?.value ?? 0) || 0,
      },
      memoryLimit: () => Number(c.resources?.memoryLimitInBytes ?? 0),
      ...(c.config.stdin ? { stdin: { once: c.config.stdinOnce === true } } : {}),
    });
    c.process = process;
    this.event('ContainerStarted', { podSandboxId: sandbox.id, containerId: c.id });
    void process.exited.then((info) => this.onExit(c, process, info));
    return {};
  }

  private onExit(c: Container, process: ContainerProcess, info: ExitInfo): void {
    if (c.process !== process) return;
    c.cpuMs += process.elapsed();
    c.process = null;
    c.state = 'CONTAINER_EXITED';
    c.finishedAt = nowNs(this.clock);
    c.exitCode = info.code;
    c.reason = info.oomKilled ? 'OOMKilled' : '';
    c.logs?.close();
    c.logs = null;
    this.event('ContainerExited', { podSandboxId: c.sandboxId, containerId: c.id }, { exitCode: info.code, reason: this.exitReason(c) });
  }

  private exitReason(c: Container): string {
    if (c.state !== 'CONTAINER_EXITED') return '';
    if (c.reason) return c.reason;
    return c.exitCode === 0 ? 'Completed' : 'Error';
  }

  async stopContainer(req: W.StopContainerRequest__Output): Promise<W.StopContainerResponse> {
    if (!req.containerId) throw invalidArgument('container_id is required');
    const c = this.findContainer(req.containerId);
    if (!c) {
      if (this.options.stopMissing === 'ok') return {};
      throw notFound(`an error occurred when try to find container "${req.containerId}": not found`);
    }
    const timeoutS = Number(req.timeout) || 0;
    await this.stopContainerNow(c, Math.max(0, timeoutS) * 1000);
    return {};
  }

  /** containerd's stopContainer: stop signal, wait up to the timeout, then SIGKILL and wait for the exit. */
  private async stopContainerNow(c: Container, timeoutMs: number): Promise<void> {
    const process = c.process;
    if (!process || c.state !== 'CONTAINER_RUNNING') return;
    const subject = { podSandboxId: c.sandboxId, containerId: c.id };
    if (timeoutMs > 0) {
      if (!c.stopSignalSent) {
        c.stopSignalSent = true;
        const signal = stopSignalName(c.config.stopSignal);
        const outcome = process.signal(signal);
        this.event('ContainerSignalled', subject, { signal, outcome });
      }
      if (timeoutMs > MAX_TIMER_MS) {
        await process.exited;
        return;
      }
      let timer: { cancel(): void } | undefined;
      const exitedInTime = await Promise.race([
        process.exited.then(() => true),
        new Promise<boolean>((resolve) => (timer = this.clock.setTimeout(() => resolve(false), timeoutMs))),
      ]);
      timer?.cancel();
      if (exitedInTime) return;
    }
    if (process.running) {
      process.signal('KILL');
      this.event('ContainerSignalled', subject, { signal: 'KILL', outcome: 'terminated' });
    }
    await process.exited;
  }

  async removeContainer(req: W.RemoveContainerRequest__Output): Promise<W.RemoveContainerResponse> {
    if (!req.containerId) throw invalidArgument('container_id is required');
    const c = this.findContainer(req.containerId);
    if (!c) return {};
    // containerd forcibly stops a running container before removing it.
    await this.stopContainerNow(c, 0);
    this.containers.delete(c.id);
    if (this.containerNames.get(c.name) === c.id) this.containerNames.delete(c.name);
    this.event('ContainerRemoved', { podSandboxId: c.sandboxId, containerId: c.id });
    return {};
  }

  listContainers(req: W.ListContainersRequest__Output): W.ListContainersResponse {
    const f = req.filter;
    let wantedId = f?.id ?? '';
    if (wantedId) wantedId = this.findContainer(wantedId)?.id ?? wantedId;
    let wantedSandbox = f?.podSandboxId ?? '';
    if (wantedSandbox) wantedSandbox = this.findSandbox(wantedSandbox)?.id ?? wantedSandbox;
    const containers = [...this.containers.values()]
      .filter((c) => !wantedId || c.id === wantedId)
      .filter((c) => !wantedSandbox || c.sandboxId === wantedSandbox)
      .filter((c) => !f?.state || c.state === f.state.state)
      .filter((c) => matchesLabels(c.config.labels, f?.labelSelector))
      .map((c) => ({
        id: c.id,
        podSandboxId: c.sandboxId,
        metadata: c.config.metadata,
        image: c.config.image,
        imageRef: c.image.id,
        state: c.state,
        createdAt: c.createdAt.toString(),
        labels: c.config.labels,
        annotations: c.config.annotations,
        imageId: c.image.id,
      }));
    return { containers };
  }

  containerStatus(req: W.ContainerStatusRequest__Output): W.ContainerStatusResponse {
    if (!req.containerId) throw invalidArgument('container_id is required');
    const c = this.findContainer(req.containerId);
    if (!c) throw notFound(`an error occurred when try to find container "${req.containerId}": not found`);
    const stored = this.images.resolve(c.image.id);
    return {
      status: {
        id: c.id,
        metadata: c.config.metadata,
        state: c.state,
        createdAt: c.createdAt.toString(),
        startedAt: c.startedAt.toString(),
        finishedAt: c.finishedAt.toString(),
        exitCode: c.exitCode,
        // containerd shows the image's first repo tag and first repo digest when the image is still there.
        image: { ...c.config.image, image: stored?.repoTags[0] ?? c.config.image?.image ?? '' },
        imageRef: stored?.repoDigests[0] ?? c.image.id,
        reason: this.exitReason(c),
        message: c.message,
        labels: c.config.labels,
        annotations: c.config.annotations,
        mounts: c.config.mounts,
        logPath: c.logPath,
        // containerd reports the applied Linux resources even when none were asked for (all zero then).
        resources: { linux: c.resources ?? {} },
        imageId: c.image.id,
        stopSignal: c.config.stopSignal,
      },
      info: req.verbose
        ? {
            info: JSON.stringify({
              sandboxID: c.sandboxId,
              pid: c.process ? 1 : 0,
              removing: false,
              snapshotKey: c.id,
              snapshotter: 'overlayfs',
              runtimeType: 'io.containerd.runc.v2',
              config: c.config,
              fake: { kind: c.behaviour.kind, argv: c.behaviour.argv, ports: c.behaviour.ports },
            }),
          }
        : {},
    };
  }

  updateContainerResources(req: W.UpdateContainerResourcesRequest__Output): W.UpdateContainerResourcesResponse {
    if (!req.containerId) throw invalidArgument('container_id is required');
    const c = this.findContainer(req.containerId);
    if (!c) throw notFound(`an error occurred when try to find container "${req.containerId}": not found`);
    if (c.state !== 'CONTAINER_RUNNING' && c.state !== 'CONTAINER_CREATED') {
      throw unknown(`failed to update resources: container "${c.id}" is in ${c.state} state`);
    }
    if (req.linux) {
      c.resources = req.linux;
      c.process?.rescheduleOom();
    }
    return {};
  }

  reopenContainerLog(req: W.ReopenContainerLogRequest__Output): W.ReopenContainerLogResponse {
    if (!req.containerId) throw invalidArgument('container_id is required');
    const c = this.findContainer(req.containerId);
    if (!c) throw notFound(`an error occurred when try to find container "${req.containerId}": not found`);
    if (c.state !== 'CONTAINER_RUNNING') throw unknown('container is not running');
    try {
      c.logs?.reopen();
    } catch (err) {
      throw unknown(`failed to create and open log file: ${(err as Error).message}`);
    }
    return {};
  }

  async execSync(req: W.ExecSyncRequest__Output): Promise<W.ExecSyncResponse> {
    if (!req.containerId) throw invalidArgument('container_id is required');
    if (!req.cmd || req.cmd.length === 0) throw invalidArgument('cmd is required');
    // As in containerd, a timeout of zero or less means none.
    const timeoutS = Math.max(0, Number(req.timeout) || 0);
    const c = this.findContainer(req.containerId);
    if (!c) throw notFound(`failed to exec in container: failed to find container "${req.containerId}" in store: not found`);
    if (c.state !== 'CONTAINER_RUNNING' || !c.process) throw unknown(`failed to exec in container: container is in ${c.state} state`);
    const execId = this.newId('exec');
    try {
      const result = await c.process.exec(req.cmd, timeoutS * 1000);
      if (result.timedOut) {
        throw new CriError(Code.DEADLINE_EXCEEDED, `failed to exec in container: timeout ${formatGoDuration(timeoutS)} exceeded: context deadline exceeded`);
      }
      return { stdout: Buffer.from(result.stdout), stderr: Buffer.from(result.stderr), exitCode: result.exitCode };
    } catch (err) {
      if (err instanceof CommandNotFound) {
        throw unknown(
          `failed to exec in container: failed to start exec "${execId}": OCI runtime exec failed: exec failed: unable to start container process: ${err.message}: unknown`,
        );
      }
      throw err;
    }
  }

  /**
   * CRI Exec: containerd's checks (the container exists and runs), then the streaming package's
   * (tty excludes stderr; at least one stream), and a single-use URL on the streaming server.
   */
  exec(req: W.ExecRequest__Output, streaming: StreamingServer): W.ExecResponse {
    if (!req.containerId) throw invalidArgument('container_id is required');
    if (!req.cmd || req.cmd.length === 0) throw invalidArgument('cmd is required');
    const c = this.findContainer(req.containerId);
    if (!c) throw notFound(`failed to find container "${req.containerId}" in store: not found`);
    if (c.state !== 'CONTAINER_RUNNING' || !c.process) throw unknown(`container is in ${c.state} state`);
    if (req.tty && req.stderr) throw invalidArgument('tty and stderr cannot both be true');
    if (!req.stdin && !req.stdout && !req.stderr) throw invalidArgument('one of stdin, stdout, or stderr must be set');
    const url = streaming.execUrl({ containerId: c.id, cmd: [...req.cmd], tty: req.tty, stdin: req.stdin, stdout: req.stdout, stderr: req.stderr });
    return { url };
  }

  /** Runs a streaming exec once its client connected; the container may have stopped meanwhile. */
  async runStreamingExec(request: ExecStreamRequest, streams: ExecStreams): Promise<ExecOutcome> {
    const c = this.findContainer(request.containerId);
    if (!c || c.state !== 'CONTAINER_RUNNING' || !c.process) {
      return { error: `failed to exec in container: container is in ${c?.state ?? 'CONTAINER_UNKNOWN'} state` };
    }
    try {
      return { exitCode: await c.process.execStreaming(request.cmd, streams, streams.stdin, streams.signal) };
    } catch (err) {
      if (err instanceof CommandNotFound) {
        return {
          error: `failed to exec in container: failed to start exec "${this.newId('exec')}": OCI runtime exec failed: exec failed: unable to start container process: ${err.message}: unknown`,
        };
      }
      throw err;
    }
  }

  /**
   * CRI Attach: containerd's checks (the container exists and runs), the streaming package's (as Exec),
   * and a single-use URL on which the container's output streams from then on.
   */
  attach(req: W.AttachRequest__Output, streaming: StreamingServer): W.AttachResponse {
    if (!req.containerId) throw invalidArgument('container_id is required');
    const c = this.findContainer(req.containerId);
    if (!c) throw notFound(`failed to find container in store: container "${req.containerId}" in store: not found`);
    if (c.state !== 'CONTAINER_RUNNING' || !c.process) throw unknown(`container is in ${c.state} state`);
    if (req.tty && req.stderr) throw invalidArgument('tty and stderr cannot both be true');
    if (!req.stdin && !req.stdout && !req.stderr) throw invalidArgument('one of stdin, stdout, and stderr must be set');
    return { url: streaming.attachUrl({ containerId: c.id, tty: req.tty, stdin: req.stdin, stdout: req.stdout, stderr: req.stderr }) };
  }

  /** An attach session: output until the container exits or the client leaves; input to a container declared with stdin. */
  async runAttach(request: AttachStreamRequest, streams: ExecStreams): Promise<ExecOutcome> {
    const c = this.findContainer(request.containerId);
    if (!c || c.state !== 'CONTAINER_RUNNING' || !c.process) return { error: `container is in ${c?.state ?? 'CONTAINER_UNKNOWN'} state` };
    if (streams.stdin) void c.process.feedStdin(streams.stdin);
    await c.process.attach(streams, streams.signal);
    return { exitCode: 0 };
  }

  /** CRI PortForward: the sandbox must be ready; the URL forwards to its pod IP. */
  portForward(req: W.PortForwardRequest__Output, streaming: StreamingServer): W.PortForwardResponse {
    if (!req.podSandboxId) throw invalidArgument('pod_sandbox_id is required');
    const sandbox = this.findSandbox(req.podSandboxId);
    if (!sandbox) throw notFound(`failed to find sandbox "${req.podSandboxId}" in store: not found`);
    if (sandbox.state !== 'SANDBOX_READY') throw unknown('sandbox container is not running');
    return { url: streaming.portForwardUrl({ podSandboxId: sandbox.id, ports: [...(req.port ?? [])] }) };
  }

  /** Connects to a port of a ready sandbox at its pod IP (containerd dials localhost in the pod's netns). */
  dialPort(podSandboxId: string, port: number): Promise<Socket> {
    const sandbox = this.findSandbox(podSandboxId);
    if (!sandbox || sandbox.state !== 'SANDBOX_READY') return Promise.reject(new Error(`sandbox ${podSandboxId} is not running`));
    return new Promise((resolve, reject) => {
      const socket = connect({ host: sandbox.ip, port });
      socket.once('connect', () => resolve(socket));
      socket.once('error', (err: NodeJS.ErrnoException) => {
        const why = err.code === 'ECONNREFUSED' ? 'connect: connection refused' : err.message;
        reject(new Error(`failed to connect to localhost:${port} inside namespace "${podSandboxId}", IPv4: dial tcp4 ${sandbox.ip}:${port}: ${why}`));
      });
    });
  }

  // ---- stats -----------------------------------------------------------------------------------

  private containerStats(c: Container): W.ContainerStats {
    const ts = nowNs(this.clock).toString();
    const attributes = { id: c.id, metadata: c.config.metadata, labels: c.config.labels, annotations: c.config.annotations };
    const elapsed = c.process?.elapsed() ?? 0;
    const disk = valueAt(c.behaviour.diskBytes, elapsed) + c.fs.writableBytes();
    const writableLayer = { timestamp: ts, fsId: { mountpoint: SNAPSHOTTER_ROOT }, usedBytes: { value: String(disk) }, inodesUsed: { value: String(Math.max(1, Math.ceil(disk / 4096))) } };
    if (!c.process) return { attributes, writableLayer };
    const cpuNs = Math.round((c.behaviour.cpuNanoCores * (c.cpuMs + elapsed)) / 1000);
    const memory = c.process.memoryBytes();
    const limit = Number(c.resources?.memoryLimitInBytes ?? 0);
    return {
      attributes,
      cpu: { timestamp: ts, usageCoreNanoSeconds: { value: String(cpuNs) }, usageNanoCores: { value: String(c.behaviour.cpuNanoCores) } },
      memory: {
        timestamp: ts,
        workingSetBytes: { value: String(memory) },
        availableBytes: { value: String(limit > 0 ? Math.max(0, limit - memory) : 0) },
        usageBytes: { value: String(memory + 64 * 1024) },
        rssBytes: { value: String(memory) },
        pageFaults: { value: '0' },
        majorPageFaults: { value: '0' },
      },
      writableLayer,
    };
  }

  containerStatsOf(req: W.ContainerStatsRequest__Output): W.ContainerStatsResponse {
    if (!req.containerId) throw invalidArgument('container_id is required');
    const c = this.findContainer(req.containerId);
    if (!c) throw notFound(`failed to find container: not found`);
    return { stats: this.containerStats(c) };
  }

  listContainerStats(req: W.ListContainerStatsRequest__Output): W.ListContainerStatsResponse {
    const f = req.filter;
    const wantedId = f?.id ? (this.findContainer(f.id)?.id ?? f.id) : '';
    const wantedSandbox = f?.podSandboxId ? (this.findSandbox(f.podSandboxId)?.id ?? f.podSandboxId) : '';
    const stats = [...this.containers.values()]
      .filter((c) => !wantedId || c.id === wantedId)
      .filter((c) => !wantedSandbox || c.sandboxId === wantedSandbox)
      .filter((c) => matchesLabels(c.config.labels, f?.labelSelector))
      .map((c) => this.containerStats(c));
    return { stats };
  }

  private sandboxStats(s: Sandbox): W.PodSandboxStats {
    const ts = nowNs(this.clock).toString();
    const containers = [...this.containers.values()].filter((c) => c.sandboxId === s.id);
    const stats = containers.map((c) => this.containerStats(c));
    const sum = (pick: (st: W.ContainerStats) => unknown): string =>
      String(stats.reduce((acc, st) => acc + Number((pick(st) as { value?: string } | null | undefined)?.value ?? 0), 0));
    const running = containers.filter((c) => c.process).length;
    const ready = s.state === 'SANDBOX_READY';
    return {
      attributes: { id: s.id, metadata: s.config.metadata, labels: s.config.labels, annotations: s.config.annotations },
      linux: {
        cpu: ready ? { timestamp: ts, usageCoreNanoSeconds: { value: sum((st) => st.cpu?.usageCoreNanoSeconds) }, usageNanoCores: { value: sum((st) => st.cpu?.usageNanoCores) } } : null,
        memory: ready ? { timestamp: ts, workingSetBytes: { value: sum((st) => st.memory?.workingSetBytes) }, usageBytes: { value: sum((st) => st.memory?.usageBytes) }, rssBytes: { value: sum((st) => st.memory?.rssBytes) }, availableBytes: { value: '0' }, pageFaults: { value: '0' }, majorPageFaults: { value: '0' } } : null,
        network: ready && !s.hostNetwork
          ? { timestamp: ts, defaultInterface: { name: 'eth0', rxBytes: { value: '0' }, rxErrors: { value: '0' }, txBytes: { value: '0' }, txErrors: { value: '0' } }, interfaces: [{ name: 'eth0', rxBytes: { value: '0' }, rxErrors: { value: '0' }, txBytes: { value: '0' }, txErrors: { value: '0' } }] }
          : null,
        process: ready ? { timestamp: ts, processCount: { value: String(running + 1) } } : null,
        containers: stats,
      },
    };
  }

  podSandboxStats(req: W.PodSandboxStatsRequest__Output): W.PodSandboxStatsResponse {
    if (!req.podSandboxId) throw invalidArgument('pod_sandbox_id is required');
    const s = this.findSandbox(req.podSandboxId);
    if (!s) throw notFound(`an error occurred when trying to find sandbox "${req.podSandboxId}": not found`);
    return { stats: this.sandboxStats(s) };
  }

  listPodSandboxStats(req: W.ListPodSandboxStatsRequest__Output): W.ListPodSandboxStatsResponse {
    const f = req.filter;
    const wantedId = f?.id ? (this.findSandbox(f.id)?.id ?? f.id) : '';
    const stats = [...this.sandboxes.values()]
      .filter((s) => !wantedId || s.id === wantedId)
      .filter((s) => matchesLabels(s.config.labels, f?.labelSelector))
      .map((s) => this.sandboxStats(s));
    return { stats };
  }

  // ---- images ----------------------------------------------------------------------------------

  /** Validates and returns the delay a pull rule asks for; the caller sleeps, then calls completePull. */
  pullDelayMs(req: W.PullImageRequest__Output): number {
    if (!req.image?.image) throw invalidArgument('image.image is required');
    const ref = this.images.parse(req.image.image);
    return this.images.ruleFor(`${ref.domain}/${ref.path}${ref.digest ? `@${ref.digest}` : `:${ref.tag}`}`)?.delayMs ?? 0;
  }

  async pullImage(req: W.PullImageRequest__Output): Promise<W.PullImageResponse> {
    const delay = this.pullDelayMs(req);
    if (delay > 0) await this.clock.sleep(delay);
    const image = this.images.pull(req.image!.image, this.clock.monotonic());
    this.event('ImagePulled', { imageRef: image.id }, { image: req.image!.image, repoTags: image.repoTags });
    return { imageRef: image.id };
  }

  private imageMessage(image: StoredImage): W.Image {
    return { id: image.id, repoTags: image.repoTags, repoDigests: image.repoDigests, size: String(image.sizeBytes), uid: null, username: '', spec: null, pinned: image.pinned };
  }

  imageStatus(req: W.ImageStatusRequest__Output): W.ImageStatusResponse {
    if (!req.image?.image) throw invalidArgument('image.image is required');
    const image = this.images.resolve(req.image.image);
    if (!image) return { image: null, info: {} };
    return {
      image: this.imageMessage(image),
      info: req.verbose ? { info: JSON.stringify({ chainID: `sha256:${createHash('sha256').update(image.id).digest('hex')}`, imageSpec: { architecture: 'amd64', os: 'linux' } }) } : {},
    };
  }

  listImages(_req: W.ListImagesRequest__Output): W.ListImagesResponse {
    // containerd 1.6/1.7 ignore ListImagesRequest.filter; so does the fake.
    return { images: this.images.list().map((i) => this.imageMessage(i)) };
  }

  removeImage(req: W.RemoveImageRequest__Output): W.RemoveImageResponse {
    if (!req.image?.image) throw invalidArgument('image.image is required');
    this.images.remove(req.image.image);
    return {};
  }

  /** Scripts the image filesystem usage ImageFsInfo reports (for image-fs eviction and GC specs); null restores the derived value. */
  setImageFsUsage(bytes: number | null): void {
    if (bytes !== null && !(Number.isSafeInteger(bytes) && bytes >= 0)) throw new RangeError(`image fs usage must be a non-negative integer of bytes, got ${bytes}`);
    this.imageFsUsedBytes = bytes;
  }

  imageFsInfo(): W.ImageFsInfoResponse {
    const used = this.imageFsUsedBytes ?? this.images.totalBytes();
    return {
      imageFilesystems: [
        { timestamp: nowNs(this.clock).toString(), fsId: { mountpoint: SNAPSHOTTER_ROOT }, usedBytes: { value: String(used) }, inodesUsed: { value: String(this.images.list().length * 64) } },
      ],
      containerFilesystems: [],
    };
  }

  // ---- lifecycle of the fake itself ------------------------------------------------------------

  /** Kills every process and forgets all state (a runtime restarted with its root wiped). */
  reset(): void {
    for (const c of this.containers.values()) c.process?.signal('KILL');
    for (const s of this.sandboxes.values()) s.network.closeAll();
    for (const c of this.containers.values()) {
      c.process = null;
      c.logs?.close();
    }
    for (const s of this.sandboxes.values()) if (!s.hostNetwork) this.ips.release(s.ip);
    this.containers.clear();
    this.sandboxes.clear();
    this.containerNames.clear();
    this.sandboxNames.clear();
    this.images.clear();
  }

  /** Read-only views for tests. */
  sandboxIds(): string[] {
    return [...this.sandboxes.keys()];
  }

  containerIds(): string[] {
    return [...this.containers.keys()];
  }

  podIp(sandboxId: string): string | undefined {
    return this.findSandbox(sandboxId)?.ip;
  }

  /** The in-memory file system of a container (to prepare or inspect files in tests). */
  containerFs(containerId: string): ContainerFs | undefined {
    return this.findContainer(containerId)?.fs;
  }

  containerEnv(containerId: string): Record<string, string> | undefined {
    const c = this.findContainer(containerId);
    return c ? envMap(c.config) : undefined;
  }
}

function stopSignalName(signal: unknown): 'TERM' | 'INT' | 'HUP' | 'QUIT' | 'USR1' | 'USR2' | 'KILL' {
  const name = typeof signal === 'string' ? signal.replace(/^SIGNAL_SIG/, '') : '';
  if (name === 'INT' || name === 'HUP' || name === 'QUIT' || name === 'USR1' || name === 'USR2' || name === 'KILL') return name;
  return 'TERM';
}

/** Go's time.Duration formatting for whole seconds (what containerd prints in the exec timeout error). */
function formatGoDuration(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${s}s`;
}
