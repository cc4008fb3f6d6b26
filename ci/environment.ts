/**
 * The real-runtime environment as one call, for the vitest global setup and the CLI: the local registry with the
 * test images, and either a private containerd (provisioned here) or an existing runtime named by the caller.
 * stop() (or, failing that, the process-exit safety net) leaves nothing behind.
 */
import { realClock, type Clock } from '../agent/clock/index.js';
import { startContainerd, type CniPluginBinary, type ContainerdInstance, type ContainerdTeardownReport, CONTAINERD_RUN_KIND } from './containerd/containerd.js';
import { forceCleanupContainerdRun, type ContainerdRunDetails } from './containerd/force-cleanup.js';
import { onProcessEnd } from './host/exit-cleanup.js';
import { orphanedRunDirs } from './host/run-record.js';
import { forceCleanupRegistryRun, REGISTRY_RUN_KIND, startTestRegistry, type RegistryRunDetails, type TestImages, type TestRegistry } from './registry/test-registry.js';
import { checkContainerdPrerequisites, howToProvide } from './system-deps.js';

/** What the specs need to know about the target: plain data (it crosses into vitest workers). */
export interface RuntimeTargetInfo {
  readonly kind: 'containerd' | 'endpoint';
  readonly runtimeEndpoint: string;
  readonly imageEndpoint: string;
  readonly images: TestImages;
  /** Upstream-looking names that resolve to the local registry; only set for the provisioned containerd. */
  readonly mirroredImages?: { readonly pause: string; readonly busybox: string };
  /** The pod CIDR of the provisioned bridge network (RunPodSandbox IPs come from it). */
  readonly podSubnet?: string;
  /** containerd clamps negative oom_score_adj (the process lacks CAP_SYS_RESOURCE). */
  readonly restrictOomScoreAdj?: boolean;
  /** The CNI bin dir containerd execs plugins from (where the project's plugin is linked). */
  readonly cniBinDir?: string;
  readonly containerdLog?: string;
  /** Wall-clock milliseconds from the start of provisioning to a ready runtime. */
  readonly provisioningMs: number;
}

export interface RuntimeTeardownReport {
  readonly containerd?: ContainerdTeardownReport;
  readonly problems: readonly string[];
  readonly durationMs: number;
}

export interface ProvisionedTarget {
  readonly info: RuntimeTargetInfo;
  readonly registry: TestRegistry;
  /** Undefined when an existing runtime was given. */
  readonly containerd: ContainerdInstance | undefined;
  stop(): Promise<RuntimeTeardownReport>;
}

export interface ProvisionOptions {
  /** An existing runtime (unix:///...): only the registry is started. */
  readonly runtimeEndpoint?: string | undefined;
  readonly imageEndpoint?: string | undefined;
  readonly cacheDir?: string;
  /** Where the run directories go, and where orphans are swept (default: the OS temp dir). */
  readonly parentDir?: string;
  readonly extraCniPlugins?: readonly CniPluginBinary[];
  readonly extraCniChain?: readonly Record<string, unknown>[];
  readonly clock?: Clock;
  /** Progress lines (default: none). */
  readonly log?: (line: string) => void;
}

/** Removes what killed earlier runs left behind (their owner process is gone). Returns how many were swept. */
export function sweepOrphanedRuns(log: (line: string) => void = () => undefined, parentDir?: string): number {
  let swept = 0;
  for (const { dir, record } of orphanedRunDirs(CONTAINERD_RUN_KIND, parentDir)) {
    const problems = forceCleanupContainerdRun(record.details as ContainerdRunDetails);
    log(`swept containerd run ${dir} left by pid ${record.ownerPid}${problems.length ? `: ${problems.join('; ')}` : ''}`);
    swept++;
  }
  for (const { dir, record } of orphanedRunDirs(REGISTRY_RUN_KIND, parentDir)) {
    forceCleanupRegistryRun(record.details as RegistryRunDetails);
    log(`swept registry run ${dir} left by pid ${record.ownerPid}`);
    swept++;
  }
  return swept;
}

/**
 * Starts the registry and, unless an endpoint is given, a private containerd. Throws with instructions when
 * containerd is needed but this machine cannot run it.
 */
export async function provisionContainerdTarget(options: ProvisionOptions = {}): Promise<ProvisionedTarget> {
  const clock = options.clock ?? realClock;
  const log = options.log ?? (() => undefined);
  const started = clock.monotonic();
  const external = options.runtimeEndpoint;

  if (external === undefined) {
    const report = checkContainerdPrerequisites();
    if (report.problems.length > 0) throw new Error(howToProvide(report));
  }
  sweepOrphanedRuns(log, options.parentDir);

  const registry = await startTestRegistry({
    ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
    ...(options.parentDir ? { parentDir: options.parentDir } : {}),
  });
  let forgetRegistry = onProcessEnd(() => registry.stopSync());
  const registryReady = clock.monotonic();
  log(`registry ${registry.url} serving ${registry.images.pause} and ${registry.images.busybox} (images + registry + push: ${Math.round(registryReady - started)} ms)`);

  let containerd: ContainerdInstance | undefined;
  let forgetContainerd = (): void => undefined;
  if (external === undefined) {
    try {
      containerd = await startContainerd({
        sandboxImage: registry.images.pause,
        registryHost: registry.host,
        clock,
        ...(options.parentDir ? { parentDir: options.parentDir } : {}),
        ...(options.extraCniPlugins ? { extraCniPlugins: options.extraCniPlugins } : {}),
        ...(options.extraCniChain ? { extraCniChain: options.extraCniChain } : {}),
      });
    } catch (error) {
      await registry.stop();
      forgetRegistry();
      throw error;
    }
    const instance = containerd;
    forgetContainerd = onProcessEnd(() => void instance.stopSync());
    log(`containerd ${containerd.runtimeEndpoint} (pid ${containerd.pid}), bridge ${containerd.bridge} ${containerd.subnet} (ready in ${Math.round(clock.monotonic() - registryReady)} ms)`);
  }

  const runtimeEndpoint = containerd?.runtimeEndpoint ?? (external as string);
  const info: RuntimeTargetInfo = {
    kind: containerd ? 'containerd' : 'endpoint',
    runtimeEndpoint,
    imageEndpoint: options.imageEndpoint ?? runtimeEndpoint,
    images: registry.images,
    ...(containerd
      ? {
          mirroredImages: registry.mirroredImages,
          podSubnet: containerd.subnet,
          restrictOomScoreAdj: containerd.restrictOomScoreAdj,
          cniBinDir: containerd.cniBinDir,
          containerdLog: containerd.logFile,
        }
      : {}),
    provisioningMs: Math.round(clock.monotonic() - started),
  };

  let stopping: Promise<RuntimeTeardownReport> | undefined;
  const stop = async (): Promise<RuntimeTeardownReport> => {
    const begin = clock.monotonic();
    const problems: string[] = [];
    let report: ContainerdTeardownReport | undefined;
    if (containerd) {
      try {
        report = await containerd.stop();
        problems.push(...report.problems);
      } catch (error) {
        problems.push(`containerd teardown: ${(error as Error).message}`);
        problems.push(...containerd.stopSync());
      }
      forgetContainerd();
    }
    await registry.stop();
    forgetRegistry();
    forgetRegistry = () => undefined;
    return { ...(report ? { containerd: report } : {}), problems, durationMs: clock.monotonic() - begin };
  };
  return { info, registry, containerd, stop: () => (stopping ??= stop()) };
}
