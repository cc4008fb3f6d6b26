/**
 * Removes every pod sandbox and container a runtime has, through the CRI: StopPodSandbox (the runtime stops the
 * containers and runs CNI DEL), RemovePodSandbox (removes containers, the netns and the sandbox), then any
 * container left without a sandbox. NotFound counts as done: something else removed it meanwhile.
 */
import type { CriClient } from '../../agent/runtime/cri-client.js';

export interface RemovalResult {
  readonly pods: number;
  readonly containers: number;
  readonly problems: readonly string[];
}

function isNotFound(error: unknown): boolean {
  return (error as { kind?: string }).kind === 'NotFound';
}

export async function removeAllPods(cri: Pick<CriClient, 'listPodSandbox' | 'stopPodSandbox' | 'removePodSandbox' | 'listContainers' | 'stopContainer' | 'removeContainer'>): Promise<RemovalResult> {
  const problems: string[] = [];
  const attempt = async (what: string, call: () => Promise<unknown>): Promise<boolean> => {
    try {
      await call();
      return true;
    } catch (error) {
      if (isNotFound(error)) return true;
      problems.push(`${what}: ${(error as Error).message}`);
      return false;
    }
  };

  const containers = (await cri.listContainers({})).containers;
  const sandboxes = (await cri.listPodSandbox({})).items;
  await Promise.all(
    sandboxes.map(async (sandbox) => {
      if (await attempt(`StopPodSandbox ${sandbox.id}`, () => cri.stopPodSandbox({ podSandboxId: sandbox.id }))) {
        await attempt(`RemovePodSandbox ${sandbox.id}`, () => cri.removePodSandbox({ podSandboxId: sandbox.id }));
      }
    }),
  );
  for (const container of (await cri.listContainers({})).containers) {
    await attempt(`StopContainer ${container.id}`, () => cri.stopContainer({ containerId: container.id, timeout: 0 }));
    await attempt(`RemoveContainer ${container.id}`, () => cri.removeContainer({ containerId: container.id }));
  }
  const leftPods = (await cri.listPodSandbox({})).items.length;
  const leftContainers = (await cri.listContainers({})).containers.length;
  if (leftPods > 0 || leftContainers > 0) problems.push(`after removal the runtime still lists ${leftPods} pod sandbox(es) and ${leftContainers} container(s)`);
  return { pods: sandboxes.length, containers: containers.length, problems };
}
