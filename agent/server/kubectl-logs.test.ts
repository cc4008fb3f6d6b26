import { describe, expect, it } from 'vitest';
import { applyUntilRunning, useNodeWithKubectl } from '../test-support/kubectl-node.js';
import { allContainersRunning as running, podWhere } from '../test-support/pod-where.js';

/**
 * `kubectl logs` as a person runs it after `kubelet-harness up`: the official kubectl against the
 * embedded node (mock API server → pods/log → the agent's kubelet server → the fake CRI's log files).
 * Without kubectl these tests fail and say how to get it.
 */
const MANIFEST = `
apiVersion: v1
kind: Pod
metadata: {name: greeter}
spec:
  containers:
  - {name: main, image: busybox, command: [sh, -c, 'echo hello; echo from main; sleep 3600']}
  - {name: side, image: busybox, command: [sh, -c, 'echo from side >&2; sleep 3600']}
---
apiVersion: v1
kind: Pod
metadata: {name: crasher}
spec:
  volumes: [{name: data, emptyDir: {}}]
  containers:
  - name: app
    image: busybox
    command: [sh, -c, 'if [ -f /data/ran ]; then echo second run; sleep 3600; else touch /data/ran; echo first run; exit 1; fi']
    volumeMounts: [{name: data, mountPath: /data}]
`;

const harness = useNodeWithKubectl({
  csi: false,
  // A 1 s restart backoff, so the crashing pod's second instance comes quickly.
  configOverrides: { crashLoopBackOff: { maxContainerRestartPeriod: 1_000 } },
  prepare: applyUntilRunning(MANIFEST, 'greeter'),
});
const { kubectlResult: kubectl, kubectlWithInput, spawnKubectl } = harness;

describe('kubectl logs against the embedded node', () => {
  it("prints a container's output, the first container's when none is named", async () => {
    expect(await kubectl('logs', 'greeter', '-c', 'main')).toEqual({ code: 0, stdout: 'hello\nfrom main\n', stderr: '' });
    expect(await kubectl('logs', 'greeter', '-c', 'side')).toEqual({ code: 0, stdout: 'from side\n', stderr: '' });
    const defaulted = await kubectl('logs', 'greeter');
    expect(defaulted.stdout).toBe('hello\nfrom main\n');
    expect(defaulted.stderr).toContain('Defaulted container "main" out of: main, side');
  });

  it('takes --tail and --timestamps', async () => {
    expect((await kubectl('logs', 'greeter', '-c', 'main', '--tail=1')).stdout).toBe('from main\n');
    const stamped = (await kubectl('logs', 'greeter', '-c', 'main', '--timestamps')).stdout.split('\n').filter(Boolean);
    expect(stamped).toHaveLength(2);
    expect(stamped[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z hello$/);
    expect(stamped[1]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z from main$/);
  });

  it("shows the previous instance's output with --previous after a restart, and upstream's error without one", async () => {
    await podWhere(harness.node, 'crasher', 'the second instance runs', (p) => (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1 && running(p));
    expect((await kubectl('logs', 'crasher')).stdout).toBe('second run\n');
    expect((await kubectl('logs', 'crasher', '--previous')).stdout).toBe('first run\n');
    const none = await kubectl('logs', 'greeter', '-c', 'main', '--previous');
    expect(none.code).toBe(1);
    expect(none.stderr.trim()).toBe('Error from server (BadRequest): previous terminated container "main" in pod "greeter" not found');
  });

  it('names an unknown container and an unknown pod as kube-apiserver does', async () => {
    const container = await kubectl('logs', 'greeter', '-c', 'nope');
    expect([container.code, container.stderr.trim()]).toEqual([1, 'error: container nope is not valid for pod greeter']);
    const pod = await kubectl('logs', 'ghost');
    // kubectl reads the pod before its log, so this is kubectl's wording of the API's 404.
    expect([pod.code, pod.stderr.trim()]).toEqual([1, 'error: error from server (NotFound): pods "ghost" not found in namespace "default"']);
  });

  it('follows with -f: a line the container writes after kubectl started arrives while it runs', async () => {
    const ticker = `apiVersion: v1
kind: Pod
metadata: {name: ticker}
spec:
  containers:
  - {name: app, image: busybox, command: [sh, -c, 'echo start; sleep 5; echo later; sleep 3600']}
`;
    expect(await kubectlWithInput(ticker, 'apply', '-f', '-')).toEqual({ code: 0, stdout: 'pod/ticker created\n', stderr: '' });
    await podWhere(harness.node, 'ticker', 'it runs', running);
    const child = spawnKubectl(['logs', '-f', 'ticker']);
    const seen: Array<{ text: string; at: number }> = [];
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (text: string) => seen.push({ text, at: Date.now() }));
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    try {
      const deadline = Date.now() + 15_000;
      while (!seen.map((s) => s.text).join('').includes('later') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect({ out: seen.map((s) => s.text).join(''), err: stderr }).toEqual({ out: 'start\nlater\n', err: '' });
      // Still streaming: kubectl has not exited, and the second line came in a later chunk.
      expect(child.exitCode).toBeNull();
      expect(seen.length).toBeGreaterThanOrEqual(2);
      expect(seen[seen.length - 1]!.at).toBeGreaterThan(seen[0]!.at);
    } finally {
      child.kill();
    }
  }, 40_000);
});
