/**
 * For end-to-end tests that run the official kubectl as a person would: an embedded node (mock API
 * server + fake CRI + agent) with its kubeconfig in a private temp dir, started before the file's
 * tests and closed after them. The binary is $KUBECTL or /usr/bin/kubectl; without one the tests fail
 * (they never skip) and say how to get it.
 */
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll } from 'vitest';
import { startEmbeddedNode, type EmbeddedNode, type EmbeddedNodeOptions } from '../embedded-node.js';
import { allContainersRunning, podWhere } from './pod-where.js';

const run = promisify(execFile);

/**
 * client-go's WebSocket executor starts reading before it registers its streams, so the empty frame a
 * streaming server sends on stdout to say the streams are ready (upstream's kubelet sends it too) is at
 * times discarded with this log line. The frame carries no data, so tests compare stderr without it;
 * lost output would still show in stdout.
 */
const READY_FRAME_RACE = /^E\d{4} .*websocket\.go:\d+\] Unknown stream id \d+, discarding message\r?\n/gm;

export function withoutReadyFrameRace(stderr: string): string {
  return stderr.replace(READY_FRAME_RACE, '');
}

/**
 * The same client-go race, lost on more than the ready frame: when the session's output, status or close
 * arrives before kubectl has registered its streams, the output or the exit status is discarded (more
 * than one notice, or one for a stream other than stdout's ready frame; kubectl then exits 0 with what
 * it kept), or its reader closes every stream and stream creation fails with "closed all streams".
 * Upstream fixed it in client-go (kubernetes#131203, for #131189: streams first, then the reader); the
 * machine's kubectl 1.32 predates that, and only an in-process runtime answers that fast. Such an exec is
 * run once more; anything else, or this twice, stands.
 */
const CLOSED_BEFORE_STREAMS = /^error: closed all streams\r?\n$/;
const DISCARD_NOTICE = /^E\d{4} .*websocket\.go:\d+\] Unknown stream id (\d+), discarding message$/gm;

export function lostToStreamCreationRace(args: readonly string[], outcome: { code?: unknown; stderr?: unknown }): boolean {
  if (args[0] !== 'exec' || typeof outcome.stderr !== 'string') return false;
  const discarded = [...outcome.stderr.matchAll(DISCARD_NOTICE)].map((m) => m[1]);
  if (discarded.length > 1 || discarded.some((id) => id !== '1')) return true;
  return outcome.code === 1 && CLOSED_BEFORE_STREAMS.test(withoutReadyFrameRace(outcome.stderr));
}
export const KUBECTL = process.env['KUBECTL'] ?? '/usr/bin/kubectl';

export interface KubectlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface NodeWithKubectl {
  /** The running node (only inside tests and later hooks: it starts in beforeAll). */
  readonly node: EmbeddedNode;
  /** Path of the kubeconfig kubectl uses. */
  readonly kubeconfig: string;
  /** Runs kubectl; rejects (the error carries stdout and stderr) when it exits non-zero. */
  kubectl(...args: string[]): Promise<{ stdout: string; stderr: string }>;
  /** Runs kubectl and resolves with its exit code and output whatever the code (for expected failures). */
  kubectlResult(...args: string[]): Promise<KubectlResult>;
  /** Runs kubectl with `input` piped to its stdin (then closed); resolves like kubectlResult (-1 when killed after 20 s). */
  kubectlWithInput(input: string, ...args: string[]): Promise<KubectlResult>;
  /** Starts kubectl without waiting for it, for commands that stream until interrupted (logs -f, attach, port-forward). */
  spawnKubectl(args: readonly string[]): ChildProcessWithoutNullStreams;
}

export interface NodeWithKubectlOptions extends Omit<EmbeddedNodeOptions, 'kubeconfigPath'> {
  /** Time the start-up hook (and its `prepare`) may take; starting the node alone exceeds vitest's 10 s default on a busy machine. */
  readonly startupTimeoutMs?: number;
  /** Runs in the start-up hook once the node is up (e.g. apply the file's pods and wait until they run). */
  readonly prepare?: (harness: NodeWithKubectl) => Promise<void>;
}

/** Registers the beforeAll/afterAll hooks that start and close the node; call at the top of a test file. */
export function useNodeWithKubectl(options: NodeWithKubectlOptions = {}): NodeWithKubectl {
  const { startupTimeoutMs = 60_000, prepare, ...nodeOptions } = options;
  let node: EmbeddedNode | undefined;
  let dir: string | undefined;
  const started = (): { node: EmbeddedNode; kubeconfig: string } => {
    if (!node || !dir) throw new Error('the node starts in beforeAll: use it inside tests or hooks');
    return { node, kubeconfig: join(dir, 'kubeconfig') };
  };
  const env = () => ({ ...process.env, KUBECONFIG: started().kubeconfig });
  const kubectl = async (...args: string[]) => {
    try {
      const once = () => run(KUBECTL, args, { env: env(), timeout: 20_000 });
      const { stdout, stderr } = await once().then(
        (done) => (lostToStreamCreationRace(args, { code: 0, stderr: done.stderr }) ? once() : done),
        (err: unknown) => {
          if (!lostToStreamCreationRace(args, err as { code?: unknown; stderr?: unknown })) throw err;
          return once();
        },
      );
      return { stdout, stderr: withoutReadyFrameRace(stderr) };
    } catch (err) {
      const e = err as { stderr?: string };
      if (typeof e.stderr === 'string') e.stderr = withoutReadyFrameRace(e.stderr);
      throw err;
    }
  };
  const spawnKubectl = (args: readonly string[]) => spawn(KUBECTL, args, { env: env() });

  beforeAll(async () => {
    if (!existsSync(KUBECTL)) {
      throw new Error(`kubectl not found at ${KUBECTL}: set KUBECTL or install it (Debian: apt-get install kubernetes-client) to run these tests`);
    }
    dir = await mkdtemp(join(tmpdir(), 'kubectl-node-'));
    node = await startEmbeddedNode({ ...nodeOptions, kubeconfigPath: join(dir, 'kubeconfig') });
    await prepare?.(harness);
  }, startupTimeoutMs);
  afterAll(async () => {
    await node?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const harness: NodeWithKubectl = {
    get node() {
      return started().node;
    },
    get kubeconfig() {
      return started().kubeconfig;
    },
    kubectl,
    async kubectlResult(...args) {
      try {
        const { stdout, stderr } = await kubectl(...args);
        return { code: 0, stdout, stderr };
      } catch (err) {
        const e = err as { code?: unknown; stdout?: string; stderr?: string };
        return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
      }
    },
    kubectlWithInput(input, ...args) {
      return new Promise((resolve, reject) => {
        const child = spawnKubectl(args);
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
        child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
        const timer = setTimeout(() => child.kill(), 20_000);
        child.on('error', reject);
        child.on('close', (code) => {
          clearTimeout(timer);
          resolve({ code: code ?? -1, stdout, stderr: withoutReadyFrameRace(stderr) });
        });
        child.stdin.end(input);
      });
    },
    spawnKubectl,
  };
  return harness;
}

/**
 * A `prepare` step: kubectl applies `manifest` (from stdin), which must print nothing on stderr, then
 * waits until every container of pod `podName` runs.
 */
export function applyUntilRunning(manifest: string, podName: string): (harness: NodeWithKubectl) => Promise<void> {
  return async ({ kubectlWithInput, node }) => {
    const applied = await kubectlWithInput(manifest, 'apply', '-f', '-');
    if (applied.stderr !== '') throw new Error(`kubectl apply (exit ${applied.code}) wrote on stderr: ${applied.stderr}`);
    await podWhere(node, podName, 'all its containers run', allContainersRunning);
  };
}
