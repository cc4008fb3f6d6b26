/**
 * For end-to-end tests that run the official kubectl as a person would: an embedded node (mock API
 * server + fake CRI + agent) with its kubeconfig in a private temp dir, started before the file's
 * tests and closed after them. The binary is $KUBECTL or /usr/bin/kubectl; without one the tests fail
 * (they never skip) and say how to get it.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll } from 'vitest';
import { startEmbeddedNode, type EmbeddedNode, type EmbeddedNodeOptions } from '../embedded-node.js';

const run = promisify(execFile);
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
}

/** Registers the beforeAll/afterAll hooks that start and close the node; call at the top of a test file. */
export function useNodeWithKubectl(options: Omit<EmbeddedNodeOptions, 'kubeconfigPath'> = {}): NodeWithKubectl {
  let node: EmbeddedNode | undefined;
  let dir: string | undefined;
  const started = (): { node: EmbeddedNode; kubeconfig: string } => {
    if (!node || !dir) throw new Error('the node starts in beforeAll: use it inside tests or hooks');
    return { node, kubeconfig: join(dir, 'kubeconfig') };
  };
  const kubectl = (...args: string[]) => run(KUBECTL, args, { env: { ...process.env, KUBECONFIG: started().kubeconfig }, timeout: 20_000 });

  beforeAll(async () => {
    if (!existsSync(KUBECTL)) {
      throw new Error(`kubectl not found at ${KUBECTL}: set KUBECTL or install it (Debian: apt-get install kubernetes-client) to run these tests`);
    }
    dir = await mkdtemp(join(tmpdir(), 'kubectl-node-'));
    node = await startEmbeddedNode({ ...options, kubeconfigPath: join(dir, 'kubeconfig') });
  });
  afterAll(async () => {
    await node?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  return {
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
  };
}
