/** Shared by the streaming server's tests: a fake runtime with one running container, and raw HTTP answers. */
import { connect } from 'node:net';
import type { CriClient } from '../../agent/runtime/cri-client.js';
import { useFakeCriWithClient } from './fake-cri-test-support.js';
import type { FakeCri } from './server.js';

export interface RunningContainer {
  readonly fake: FakeCri;
  readonly cri: CriClient;
  readonly containerId: string;
  readonly podSandboxId: string;
}

/** Registers the cleanup; returns the function that starts a fake with a busybox container running `command`. */
export function useRunningContainer(): (
  command?: string[],
  envs?: { key: string; value: string }[],
  io?: { stdin?: boolean; stdinOnce?: boolean },
) => Promise<RunningContainer> {
  const start = useFakeCriWithClient();
  return async (command = ['sh', '-c', 'echo hello > /tmp/greeting; sleep 3600'], envs = [], io = {}) => {
    const { fake, cri, logDir: logDirectory } = await start();
    await cri.pullImage({ image: { image: 'busybox' } });
    const config = { metadata: { name: 'p', uid: 'uid-p', namespace: 'default', attempt: 0 }, hostname: 'p', logDirectory };
    const { podSandboxId } = await cri.runPodSandbox({ config });
    const { containerId } = await cri.createContainer({
      podSandboxId,
      sandboxConfig: config,
      config: { metadata: { name: 'app', attempt: 0 }, image: { image: 'busybox' }, command, envs, logPath: 'app.log', ...io },
    });
    await cri.startContainer({ containerId });
    return { fake, cri, containerId, podSandboxId };
  };
}

/** Everything the server answers to `method` on the URL's path with the given header lines (each ending in \r\n). */
export function rawAnswer(url: string, method: string, headerLines: string): Promise<string> {
  const { hostname, port, pathname } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(`${method} ${pathname} HTTP/1.1\r\nHost: ${hostname}\r\n${headerLines}\r\n`));
    let text = '';
    socket.on('data', (c: Buffer) => (text += c.toString()));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
}
